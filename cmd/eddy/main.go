// Command eddy is the eddy server and its client.
//
//	eddy serve [--addr 127.0.0.1:8000] [--data ./eddy-data] [--in-memory]
//	           [--dlq-retention 336h] [--dlq-aws-endpoint URL] [--dlq-nats-url URL]
//	           [--sink NAME=URL]... [--log-level info] [--log-format text]
//	eddy functions deploy|invoke|list|logs ...
//	eddy triggers add|list|show|enable|disable|remove ...
//	eddy sinks add|list|show|remove ..., eddy search, eddy replicate
//	eddy relay enable|disable|status TABLE
//	eddy worker --nats URL --control URL
//	eddy users add|list|remove|rotate ...
//	eddy tables backup|backups|restore|pitr|partitions|export|import ..., eddy backup --to DIR, eddy restore --from DIR --data DIR
//	eddy policies put|get|list|delete|simulate ...
package main

import (
	"fmt"
	"os"
)

const usage = `eddy: a self-hosted DynamoDB with streams and WebAssembly triggers

Usage:
  eddy serve [flags]          run the server (DynamoDB, DynamoDB Streams and Lambda APIs on one port)
  eddy functions <command>    deploy, invoke and list trigger functions, read their logs (run 'eddy functions' for help)
  eddy triggers <command>     connect functions to table streams: event source mappings (run 'eddy triggers' for help)
  eddy dlq <command>          list, show, redrive and purge dead-lettered batches (run 'eddy dlq' for help)
  eddy sinks <command>        add, list, show and remove sinks: where emitted documents go (run 'eddy sinks' for help)
  eddy search SINK QUERY      query a search sink (the embedded index)
  eddy replicate TABLE --to SINK  replicate a table into a sink without code
  eddy relay <command>        publish a table's change records to NATS JetStream (run 'eddy relay' for help)
  eddy worker --nats URL --control URL   run the mappings marked for workers (eddy serve --worker-functions) here
  eddy users <command>        add, list, remove and rotate the access keys of users (run 'eddy users' for help)
  eddy tables <command>       backups, restores, point-in-time recovery, partitions, export and import of tables (run 'eddy tables' for help)
  eddy backup --to DIR        an online, consistent copy of the running server's whole database
  eddy restore --from DIR --data NEWDIR   a data directory from a whole-server backup (offline)
  eddy policies <command>     attach IAM policies to users and roles, simulate a request (run 'eddy policies' for help)

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
	case "sinks":
		os.Exit(runSinks(os.Args[2:]))
	case "search":
		os.Exit(runSearch(os.Args[2:]))
	case "replicate":
		os.Exit(runReplicate(os.Args[2:]))
	case "relay":
		os.Exit(relayMain(os.Stdout, os.Stderr, os.Args[2:]))
	case "worker":
		os.Exit(runWorker(os.Stderr, os.Args[2:]))
	case "users":
		os.Exit(runUsers(os.Args[2:]))
	case "tables":
		os.Exit(runTables(os.Args[2:]))
	case "backup":
		os.Exit(runBackup(os.Args[2:]))
	case "restore":
		os.Exit(runRestore(os.Args[2:]))
	case "policies":
		os.Exit(runPolicies(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "eddy: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
