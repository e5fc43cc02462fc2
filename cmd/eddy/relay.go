package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const relayUsage = `usage:
  eddy relay enable TABLE [--from trim_horizon|latest]
                          publish TABLE's change records to NATS JetStream (enables a stream if the table has none);
                          trim_horizon (default): every record the stream still holds, then every change
  eddy relay disable TABLE
                          stop, and forget the positions (enabling again starts over)
  eddy relay status [TABLE] [--json]
                          every relay (or one): state, published, lag, position per shard, last error
common flags: --endpoint URL (default http://127.0.0.1:8000)
subjects: eddy.<region>.<table>.<shard ID> in JetStream stream EDDY; Nats-Msg-Id = <stream ARN>/<sequence number>`

// relayStatus is the part of relay.Status the command prints.
type relayStatus struct {
	Table      string
	State      string
	NATS       string
	Stream     string
	Subjects   string
	Published  uint64
	LagSeconds float64
	LastError  string
	Shards     []struct {
		ShardId, ParentShardId, Position string
		Finished                         bool
		Published                        uint64
		LagSeconds                       float64
	}
	Trimmed []struct{ ShardId, After, ResumedAt string }
}

func relayMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, relayUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("eddy relay "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	from := fs.String("from", "trim_horizon", "where to start: trim_horizon or latest")
	raw := fs.Bool("json", false, "print the server's JSON answer")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	base := strings.TrimRight(*endpoint, "/") + "/eddy/relays"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc := &http.Client{}
	out := output{stdout, stderr}
	fail, printJSON := out.fail, out.json
	switch {
	case cmd == "enable" && len(pos) == 1:
		var st relayStatus
		if err := callJSONBody(ctx, hc, "POST", base, map[string]string{"Table": pos[0], "StartingPosition": strings.ToUpper(*from)}, &st); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "relay of %s: %s, subjects %s in JetStream stream %s\n", st.Table, st.State, st.Subjects, st.Stream)
		return 0
	case cmd == "disable" && len(pos) == 1:
		var out map[string]any
		if err := callJSON(ctx, hc, "DELETE", base+"/"+url.PathEscape(pos[0]), &out); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "relay of %s disabled\n", pos[0])
		return 0
	case cmd == "status" && len(pos) <= 1:
		var list []relayStatus
		var rawOut any
		if len(pos) == 1 {
			var st relayStatus
			if err := callJSON(ctx, hc, "GET", base+"/"+url.PathEscape(pos[0]), &rawOut); err != nil {
				return fail(err)
			}
			b, _ := json.Marshal(rawOut)
			_ = json.Unmarshal(b, &st)
			list = append(list, st)
		} else {
			var l struct{ Relays []relayStatus }
			if err := callJSON(ctx, hc, "GET", base, &rawOut); err != nil {
				return fail(err)
			}
			b, _ := json.Marshal(rawOut)
			_ = json.Unmarshal(b, &l)
			list = l.Relays
		}
		if *raw {
			return printJSON(rawOut)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, st := range list {
			fmt.Fprintf(tw, "%s\t%s\tpublished %d\tlag %.1fs\t%s → %s (stream %s)\n", st.Table, st.State, st.Published, st.LagSeconds, st.Subjects, st.NATS, st.Stream)
			for _, sh := range st.Shards {
				state := "open"
				if sh.Finished {
					state = "finished"
				}
				fmt.Fprintf(tw, "  %s\tparent %s\tposition %s\t%s\tpublished %d\tlag %.1fs\n", sh.ShardId, orDash(sh.ParentShardId), sh.Position, state, sh.Published, sh.LagSeconds)
			}
			for _, tr := range st.Trimmed {
				fmt.Fprintf(tw, "  TRIMMED before publishing: %s after %s, resumed at %s\n", tr.ShardId, tr.After, tr.ResumedAt)
			}
			if st.LastError != "" {
				fmt.Fprintf(tw, "  last error: %s\n", st.LastError)
			}
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
		return 0
	}
	fmt.Fprintln(stderr, relayUsage)
	return 2
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
