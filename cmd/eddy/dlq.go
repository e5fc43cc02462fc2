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
)

const dlqUsage = `usage:
  eddy dlq list [--mapping UUID]                  dead-lettered batches, oldest first
  eddy dlq show ID                                one entry: Lambda's failure record, the records, error, log tail
  eddy dlq redrive ID|--all [--mapping UUID]      send the records through the function again (the mapping's rules);
                                                  with ID, --mapping names another mapping to use; with --all, it
                                                  restricts the redrive to that mapping's entries
  eddy dlq purge [ID] [--mapping UUID]            delete one entry, a mapping's entries, or all
common flags: --endpoint URL (default http://127.0.0.1:8000)
list's REDRIVE column: running; done (every record processed); failed (records failed again and are kept);
interrupted (eddy stopped during the redrive: processed records are removed, the rest kept; redrive again).
show, redrive and purge print the server's JSON answer. Exit codes: 0 success; 1 an error (no such entry,
already redriven, server unreachable; a redrive refused before it began, the entry untouched: no such mapping,
a mapping of another table, the function deleted or with reserved concurrency 0) or a redrive after which
records still fail (the entry keeps them, redrive state "failed"); 2 bad usage.
The client calls the server's /eddy/dlq/ JSON API (see dlq.NewHandler).`

// runDLQ implements "eddy dlq ...". It returns the process exit code.
func runDLQ(args []string) int {
	return dlqMain(os.Stdout, os.Stderr, args)
}

func dlqMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, dlqUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("eddy dlq "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	// Each subcommand has only its own flags (-h lists them).
	mapping, all := new(string), new(bool)
	switch cmd {
	case "list", "purge":
		fs.StringVar(mapping, "mapping", "", "only this event source mapping's entries")
	case "redrive":
		fs.StringVar(mapping, "mapping", "", "with ID: the mapping to redrive through; with --all: only this mapping's entries")
		fs.BoolVar(all, "all", false, "redrive every entry that still holds records")
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return 2
	}
	q := url.Values{}
	if *mapping != "" {
		q.Set("mapping", *mapping)
	}
	base := strings.TrimRight(*endpoint, "/") + "/eddy/dlq"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out any
	switch {
	case cmd == "list" && len(pos) == 0:
		var l struct {
			Entries []struct {
				ID          uint64    `json:"id"`
				Mapping     string    `json:"mapping"`
				Created     time.Time `json:"created"`
				Condition   string    `json:"condition"`
				ShardID     string    `json:"shardId"`
				Start       string    `json:"startSequenceNumber"`
				Records     int       `json:"records"`
				Destination string    `json:"destination"`
				Delivered   bool      `json:"delivered"`
				Redrive     string    `json:"redrive"`
			}
		}
		if err := callJSON(ctx, http.DefaultClient, "GET", base+"/entries?"+q.Encode(), &l); err != nil {
			fmt.Fprintln(stderr, "eddy:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tMAPPING\tCONDITION\tSHARD\tFIRST SEQ\tRECORDS\tDESTINATION\tREDRIVE")
		for _, e := range l.Entries {
			dest := "built-in"
			if e.Destination != "" {
				dest = e.Destination + map[bool]string{true: " (delivered)", false: " (pending)"}[e.Delivered]
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Created.Format(time.RFC3339), e.Mapping,
				e.Condition, e.ShardID, e.Start, e.Records, dest, e.Redrive)
		}
		_ = tw.Flush()
		return 0
	case cmd == "show" && len(pos) == 1:
		err = callJSON(ctx, http.DefaultClient, "GET", base+"/entries/"+pos[0], &out)
	case cmd == "redrive" && len(pos) == 1 && !*all:
		err = callJSON(ctx, http.DefaultClient, "POST", base+"/entries/"+pos[0]+"/redrive?"+q.Encode(), &out)
	case cmd == "redrive" && len(pos) == 0 && *all:
		err = callJSON(ctx, http.DefaultClient, "POST", base+"/redrive?"+q.Encode(), &out)
	case cmd == "purge" && len(pos) == 1:
		err = callJSON(ctx, http.DefaultClient, "DELETE", base+"/entries/"+pos[0], &out)
	case cmd == "purge" && len(pos) == 0:
		err = callJSON(ctx, http.DefaultClient, "DELETE", base+"/entries?"+q.Encode(), &out)
	default:
		fmt.Fprintln(stderr, dlqUsage)
		return 2
	}
	if out != nil {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(stdout, string(b))
	}
	if err != nil {
		fmt.Fprintln(stderr, "eddy:", err)
		return 1
	}
	if cmd == "redrive" {
		if ids := stillFailing(out); len(ids) > 0 {
			fmt.Fprintf(stderr, "eddy: records still fail after the redrive (entries %s keep them)\n", strings.Join(ids, ", "))
			return 1
		}
	}
	return 0
}

// stillFailing returns the IDs of the redriven entries (one entry, or
// {"Entries":[...]}) whose redrive state is "failed".
func stillFailing(out any) []string {
	var es []any
	if m, ok := out.(map[string]any); ok {
		if l, ok := m["Entries"].([]any); ok {
			es = l
		} else {
			es = []any{m}
		}
	}
	var ids []string
	for _, e := range es {
		m, _ := e.(map[string]any)
		rd, _ := m["redrive"].(map[string]any)
		if rd != nil && rd["state"] == "failed" {
			ids = append(ids, fmt.Sprintf("%.0f", m["id"]))
		}
	}
	return ids
}
