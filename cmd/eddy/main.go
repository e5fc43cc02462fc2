// Command eddy is the eddy server and its client.
//
//	eddy serve [--addr 127.0.0.1:8000] [--data ./eddy-data] [--in-memory]
//	           [--dlq-retention 336h] [--dlq-aws-endpoint URL] [--dlq-nats-url URL]
//	eddy functions deploy|invoke|list ...
//	eddy triggers add|list|show|enable|disable|remove ...
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/sinks"
)

const usage = `eddy: a self-hosted DynamoDB with streams and WebAssembly triggers

Usage:
  eddy serve [flags]          run the server (DynamoDB, DynamoDB Streams and Lambda APIs on one port)
  eddy functions <command>    deploy, invoke and list trigger functions (run 'eddy functions' for help)
  eddy triggers <command>     connect functions to table streams: event source mappings (run 'eddy triggers' for help)
  eddy dlq <command>          list, show, redrive and purge dead-lettered batches (run 'eddy dlq' for help)

Run 'eddy serve -h' for the server's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "functions":
		os.Exit(runFunctions(os.Args[2:]))
	case "triggers":
		os.Exit(runTriggers(os.Args[2:]))
	case "dlq":
		os.Exit(runDLQ(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "eddy: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

// serveFlags returns the flag set of "eddy serve", which fills opts.
// sinkFlags collects repeated --sink NAME=URL flags.
type sinkFlags []string

func (s *sinkFlags) String() string     { return strings.Join(*s, ",") }
func (s *sinkFlags) Set(v string) error { *s = append(*s, v); return nil }

func serveFlags(opts *api.Options, sinks *sinkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&opts.DataDir, "data", "./eddy-data", "data directory")
	fs.BoolVar(&opts.InMemory, "in-memory", false, "keep all data in memory (lost on exit)")
	fs.StringVar(&opts.Region, "region", "us-east-1", "region named in ARNs")
	fs.StringVar(&opts.AccountID, "account", "000000000000", "account ID named in ARNs")
	fs.IntVar(&opts.Streams.ShardCount, "stream-shards", 4, "shards a new table stream starts with")
	fs.BoolVar(&opts.TrustedFunctions, "trusted-functions", false,
		"run function code without the runaway guard (faster; a stuck function then ignores its timeout: only for code you trust)")
	fs.DurationVar(&opts.DLQ.Retention, "dlq-retention", 14*24*time.Hour,
		"how long dead-lettered batches are kept (eddy dlq list), delivered or not; 0 means the default")
	fs.StringVar(&opts.DLQ.AWSEndpoint, "dlq-aws-endpoint", "",
		"endpoint of SQS, SNS and S3 failure destinations, e.g. a local moto or LocalStack (default $EDDY_DLQ_AWS_ENDPOINT, else AWS)")
	fs.StringVar(&opts.DLQ.NATSURL, "dlq-nats-url", "",
		"NATS server of arn:eddy:nats failure destinations (default $EDDY_DLQ_NATS_URL, else nats://127.0.0.1:4222)")
	fs.Var(sinks, "sink", "where documents functions emit to a sink go: NAME=http(s)://... (POST each document) or\n"+
		"NAME=nats://host:4222/subject (publish); repeat for several sinks")
	return fs
}

func serve(args []string) int {
	var opts api.Options
	var sinkSpecs sinkFlags
	_ = serveFlags(&opts, &sinkSpecs).Parse(args)
	if len(sinkSpecs) > 0 {
		ss, err := sinks.ParseSinks(sinkSpecs)
		if err != nil {
			log.Printf("eddy: %v", err)
			return 2
		}
		defer ss.Close()
		opts.Sinks = ss
	}

	api.TuneRuntime()
	srv, err := api.New(opts)
	if err != nil {
		log.Printf("eddy: %v", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		log.Printf("eddy: %v", err)
		_ = srv.Shutdown(context.Background())
		return 1
	}
	where := opts.DataDir
	if opts.InMemory {
		where = "memory"
	}
	log.Printf("eddy: serving on %s (data: %s)", srv.URL(), where)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Printf("eddy: %v: shutting down (requests in flight finish)", s)
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Printf("eddy: shutdown: %v", err)
		return 1
	}
	log.Printf("eddy: stopped cleanly")
	return 0
}
