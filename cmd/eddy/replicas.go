package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eddydb/eddy/global"
)

const replicasUsage = "usage: eddy tables replicas NAME [--json] [--endpoint URL]"

// replicasMain is eddy tables replicas NAME: GET /eddy/global/tables/NAME.
func replicasMain(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("eddy tables replicas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, replicasUsage)
		return 2
	}
	o := output{stdout, stderr}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var st global.Status
	u := strings.TrimRight(*endpoint, "/") + "/eddy/global/tables/" + url.PathEscape(pos[0])
	if err := callJSON(ctx, http.DefaultClient, http.MethodGet, u, &st); err != nil {
		return o.fail(err)
	}
	if *asJSON {
		return o.json(st)
	}
	fmt.Fprintf(stdout, "%s in %s (global table version %s), %d local changes waiting for JetStream\n", st.Table, st.Region, st.Version, st.Outbox)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tSTATUS\tAPPLIED HERE\tLAG P50\tLAG P99\tLAG MAX\tLAST APPLIED")
	for _, r := range st.Replicas {
		row := fmt.Sprintf("%s\t%s", r.Region, r.Status)
		if r.Region == st.Region {
			row += "\t(this region)\t\t\t\t"
		}
		for _, l := range st.Lag {
			if l.Origin == r.Region {
				last := "-"
				if !l.LastApplied.IsZero() {
					last = l.LastApplied.UTC().Format(time.RFC3339)
				}
				row += fmt.Sprintf("\t%d samples\t%.1fms\t%.1fms\t%.1fms\t%s", l.Samples, l.P50ms, l.P99ms, l.MaxMs, last)
			}
		}
		fmt.Fprintln(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return o.fail(err)
	}
	return 0
}
