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

	"github.com/eddydb/eddy/capacity"
)

const partitionsUsage = `usage:
  eddy tables partitions NAME [--region R] [--json]   the table's partitions (as DynamoDB sizes them from its throughput
                                                      and size), their hash ranges and what each consumed and had
                                                      throttled; its global indexes' the same
common flags: --endpoint URL (default http://127.0.0.1:8000)
The client calls the server's /eddy/capacity/tables/NAME JSON API (capacity.Limiter.Handler).`

// partitionsMain runs "eddy tables partitions ..." (args[0] is
// "partitions"); tablesMain dispatches to it.
func partitionsMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || args[0] != "partitions" {
		fmt.Fprintln(stderr, partitionsUsage)
		return 2
	}
	fs := flag.NewFlagSet("eddy tables partitions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	region := fs.String("region", "", "the table's region (default: the server's)")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, partitionsUsage)
		return 2
	}
	o := output{stdout, stderr}
	u := strings.TrimRight(*endpoint, "/") + "/eddy/capacity/tables/" + url.PathEscape(pos[0])
	if *region != "" {
		u += "?region=" + url.QueryEscape(*region)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var r capacity.TableReport
	if err := callJSON(ctx, http.DefaultClient, http.MethodGet, u, &r); err != nil {
		return o.fail(err)
	}
	if *asJSON {
		return o.json(r)
	}
	printParts(stdout, r.Table, r.BillingMode, r.Read, r.Write, r.Partitions)
	for _, ix := range r.Indexes {
		fmt.Fprintln(stdout)
		printParts(stdout, r.Table+" index "+ix.Index, "", ix.Read, ix.Write, ix.Partitions)
	}
	return 0
}

func printParts(w io.Writer, name, billing string, rd, wr capacity.SideReport, parts []capacity.PartReport) {
	side := func(s capacity.SideReport) string {
		if s.OnDemandLimit > 0 && s.Rate == 0 {
			return fmt.Sprintf("on demand, up to %g/s now", s.OnDemandLimit)
		}
		return fmt.Sprintf("%g/s, %.1f available", s.Rate, s.Available)
	}
	fmt.Fprintf(w, "%s %s: %d partitions; read %s; write %s\n", name, billing, len(parts), side(rd), side(wr))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tHASH FROM\tHASH TO\tREAD UNITS\tWRITE UNITS\tREAD THROTTLES\tWRITE THROTTLES")
	for _, p := range parts {
		id := fmt.Sprint(p.Partition)
		if p.SplitForHeat {
			id += " (heat)" // made by a split for heat: capacity/heat.go
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%g\t%d\t%d\n", id, p.HashFrom, p.HashTo, p.ReadUnits, p.WriteUnits, p.ReadThrottles, p.WriteThrottles)
	}
	tw.Flush()
}
