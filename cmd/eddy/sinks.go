package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks"
)

const sinksUsage = `usage:
  eddy sinks add NAME TARGET [-o KEY=VALUE]... [--batch-size N] [--batch-bytes N] [--max-backlog N]
        TARGET: search | http(s)://... | elasticsearch+http(s)://host:9200/INDEX | nats://host:4222/SUBJECT[?stream=S]
                | file:///path (the same forms as eddy serve --sink NAME=TARGET)
        -o sets a kind's option, e.g. -o username=elastic -o password=... -o max_bytes=1048576 -o header.Authorization=...
  eddy sinks list                 every sink: kind, state, backlog, delivered, rate
  eddy sinks show NAME [--rejected]  one sink's configuration and delivery state (JSON), or its rejected documents
  eddy sinks remove NAME          delete a sink and its undelivered documents
  eddy search SINK QUERY [--size N] [--from N] [--json]   query a search sink (Lucene query string; --json prints the raw answer)
  eddy search SINK --body '{"query":{...}}'                an Elasticsearch _search body
  eddy replicate TABLE --to SINK [--fields a,b,c] [--from snapshot|trim_horizon|latest] [--region R]
                                  replicate a table into a sink without code (enables a stream if the table has none)
  eddy replicate --list           replications and their state
  eddy replicate --remove UUID    stop a replication (the sink keeps its documents)
common flags: --endpoint URL (default http://127.0.0.1:8000)`

func runSinks(args []string) int     { return sinksMain(os.Stdout, os.Stderr, "sinks", args) }
func runSearch(args []string) int    { return sinksMain(os.Stdout, os.Stderr, "search", args) }
func runReplicate(args []string) int { return sinksMain(os.Stdout, os.Stderr, "replicate", args) }

type optFlag map[string]string

func (o *optFlag) String() string { return fmt.Sprint(map[string]string(*o)) }

func (o *optFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE")
	}
	if *o == nil {
		*o = optFlag{}
	}
	(*o)[k] = v
	return nil
}

func sinksMain(stdout, stderr io.Writer, verb string, args []string) int {
	cmd := verb
	if verb == "sinks" {
		if len(args) == 0 {
			fmt.Fprintln(stderr, sinksUsage)
			return 2
		}
		cmd, args = args[0], args[1:]
	}
	name := "eddy " + verb
	if verb == "sinks" {
		name += " " + cmd
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	// Each subcommand has only its own flags (-h lists them).
	var (
		opts                            optFlag
		batchSize, batchBytes           int
		maxBacklog                      int64
		rejected, raw, list             bool
		size, from                      int
		body, to, fields, start, remove string
		region                          string
	)
	switch {
	case verb == "sinks" && cmd == "add":
		fs.Var(&opts, "o", "a kind's option KEY=VALUE (repeatable)")
		fs.IntVar(&batchSize, "batch-size", 0, "documents per delivery (default 500)")
		fs.IntVar(&batchBytes, "batch-bytes", 0, "bytes per delivery (default 5 MiB)")
		fs.Int64Var(&maxBacklog, "max-backlog", 0, "undelivered documents at which emitting mappings pause (default 100000)")
	case verb == "sinks" && cmd == "show":
		fs.BoolVar(&rejected, "rejected", false, "show the sink's rejected documents")
	case verb == "search":
		fs.IntVar(&size, "size", 10, "hits to return")
		fs.IntVar(&from, "from", 0, "hits to skip")
		fs.BoolVar(&raw, "json", false, "print the server's JSON answer")
		fs.StringVar(&body, "body", "", "an Elasticsearch _search request body")
	case verb == "replicate":
		fs.StringVar(&to, "to", "", "the sink to replicate into")
		fs.StringVar(&fields, "fields", "", "comma-separated attributes to keep (default all)")
		fs.StringVar(&start, "from", "snapshot", "where to start: snapshot (every item now, then every change), trim_horizon (the stream's last 24 hours) or latest")
		fs.BoolVar(&list, "list", false, "list replications")
		fs.StringVar(&remove, "remove", "", "remove the replication with this UUID")
		fs.StringVar(&region, "region", "", "the table's region (default: the server's --region)")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	base := strings.TrimRight(*endpoint, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := output{stdout, stderr}
	fail, printJSON := out.fail, out.json
	switch {
	case verb == "sinks" && cmd == "add" && len(pos) == 2:
		cfg, err := sinks.ParseFlag(pos[0] + "=" + pos[1])
		if err != nil {
			return fail(err)
		}
		cfg.FromFlag = false
		for k, v := range opts {
			if cfg.Options == nil {
				cfg.Options = map[string]string{}
			}
			cfg.Options[k] = v
		}
		cfg.BatchSize, cfg.BatchBytes, cfg.MaxBacklog = batchSize, batchBytes, maxBacklog
		var st outbox.Status
		if err := callJSONBody(ctx, http.DefaultClient, "POST", base+"/eddy/sinks", cfg, &st); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "sink %s (%s) created\n", st.Name, st.Kind)
		return 0
	case verb == "sinks" && cmd == "list" && len(pos) == 0:
		var l struct{ Sinks []outbox.Status }
		if err := callJSON(ctx, http.DefaultClient, "GET", base+"/eddy/sinks", &l); err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tBACKLOG\tDELIVERED\tREJECTED\tRATE/S\tTARGET")
		for _, s := range l.Sinks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%.1f\t%s\n", s.Name, s.Kind, s.State, s.Backlog, s.Delivered, s.Rejected, s.RatePerSecond, s.URL)
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
		return 0
	case verb == "sinks" && cmd == "show" && len(pos) == 1:
		u := base + "/eddy/sinks/" + url.PathEscape(pos[0])
		if rejected {
			u += "/rejected"
		}
		var v any
		if err := callJSON(ctx, http.DefaultClient, "GET", u, &v); err != nil {
			return fail(err)
		}
		return printJSON(v)
	case verb == "sinks" && cmd == "remove" && len(pos) == 1:
		var v any
		if err := callJSON(ctx, http.DefaultClient, "DELETE", base+"/eddy/sinks/"+url.PathEscape(pos[0]), &v); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "sink %s removed\n", pos[0])
		return 0
	case verb == "search" && (len(pos) == 2 || len(pos) == 1 && body != ""):
		u := base + "/eddy/sinks/" + url.PathEscape(pos[0]) + "/_search"
		var req any
		if body != "" {
			req = json.RawMessage(body)
		} else {
			req = map[string]any{"query": map[string]any{"query_string": map[string]any{"query": pos[1]}}, "size": size, "from": from}
		}
		var resp struct {
			Hits struct {
				Total struct{ Value int }
				Hits  []struct {
					ID     string          `json:"_id"`
					Score  float64         `json:"_score"`
					Source json.RawMessage `json:"_source"`
				}
			}
			Error *struct{ Type, Reason string }
		}
		var rawResp json.RawMessage
		err := callJSONBody(ctx, http.DefaultClient, "POST", u, req, &rawResp)
		_ = json.Unmarshal(rawResp, &resp)
		if resp.Error != nil {
			return fail(fmt.Errorf("%s: %s", resp.Error.Type, resp.Error.Reason))
		}
		if err != nil {
			return fail(err)
		}
		if raw {
			return printJSON(rawResp)
		}
		fmt.Fprintf(stdout, "%d hits\n", resp.Hits.Total.Value)
		for _, h := range resp.Hits.Hits {
			fmt.Fprintf(stdout, "%s\t%.3f\t%s\n", h.ID, h.Score, h.Source)
		}
		return 0
	case verb == "replicate" && list && len(pos) == 0:
		var l struct {
			Replications []struct {
				UUID, Table, Sink, State, LastProcessingResult string
				Fields                                         []string
			}
		}
		if err := callJSON(ctx, http.DefaultClient, "GET", base+"/eddy/replications", &l); err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "UUID\tTABLE\tSINK\tSTATE\tFIELDS\tLAST RESULT")
		for _, r := range l.Replications {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.UUID, r.Table, r.Sink, r.State, strings.Join(r.Fields, ","), r.LastProcessingResult)
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
		return 0
	case verb == "replicate" && remove != "" && len(pos) == 0:
		var v any
		if err := callJSON(ctx, http.DefaultClient, "DELETE", base+"/eddy/replications/"+url.PathEscape(remove), &v); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "replication %s removed\n", remove)
		return 0
	case verb == "replicate" && len(pos) == 1 && to != "":
		req := map[string]any{"Table": pos[0], "Sink": to, "StartingPosition": strings.ToUpper(start), "Region": region}
		if fields != "" {
			req["Fields"] = strings.Split(fields, ",")
		}
		var v struct{ UUID, Table, Sink, State string }
		if err := callJSONBody(ctx, http.DefaultClient, "POST", base+"/eddy/replications", req, &v); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "replicating %s into sink %s (mapping %s)\n", v.Table, v.Sink, v.UUID)
		return 0
	}
	fmt.Fprintln(stderr, sinksUsage)
	return 2
}
