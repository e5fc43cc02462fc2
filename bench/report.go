package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The targets of issue 2 (2 cores; the SDK client is the bottleneck):
// with durable writes and 16 clients eddy reaches at least 80% of the null
// endpoint's ops/s and spends at most 2x its CPU per operation; with one
// client, GetItem p50 is under 0.5 ms.
const (
	targetOpsShare   = 0.80
	targetCPURatio   = 2.0
	targetGetP50us   = 500
	targetClientsFor = 16
)

// verdict is one target checked on one scenario. A benchmark measures: a
// MISS is reported, it does not fail the run.
type verdict struct {
	Scenario string  `json:"scenario"`
	Check    string  `json:"check"`
	Value    float64 `json:"value"`
	Target   float64 `json:"target"`
	Pass     bool    `json:"pass"`
	Note     string  `json:"note,omitempty"`
}

func find(results []result, target, scenario string) *result {
	for i := range results {
		if r := &results[i]; r.Target == target && r.Scenario == scenario && r.Skipped == "" && r.Ops > 0 {
			return r
		}
	}
	return nil
}

// evaluate checks subject's results against base's (the null endpoint) and
// the latency target.
func evaluate(results []result, base, subject string, clients int) []verdict {
	var vs []verdict
	seen := map[string]bool{}
	for _, r := range results {
		if r.Target != subject || seen[r.Scenario] {
			continue
		}
		seen[r.Scenario] = true
		s := find(results, subject, r.Scenario)
		if s == nil {
			continue
		}
		var note string
		if clients != targetClientsFor {
			note = fmt.Sprintf("target set for %d clients", targetClientsFor)
		}
		if n := find(results, base, r.Scenario); n != nil {
			share := s.OpsPerSec / n.OpsPerSec
			vs = append(vs, verdict{r.Scenario, "ops/s share of null", share, targetOpsShare, share >= targetOpsShare, note})
			if s.ServerCPUus > 0 && n.ServerCPUus > 0 {
				ratio := s.ServerCPUus / n.ServerCPUus
				vs = append(vs, verdict{r.Scenario, "server CPU/op ÷ null's", ratio, targetCPURatio, ratio <= targetCPURatio, note})
			}
		}
		if clients == 1 && r.Scenario == "get" {
			vs = append(vs, verdict{r.Scenario, "GetItem p50 µs (1 client)", s.P50us, targetGetP50us, s.P50us < targetGetP50us, ""})
		}
		if s.Errors > 0 {
			vs = append(vs, verdict{r.Scenario, "errors", float64(s.Errors), 0, false, s.FirstError})
		}
	}
	return vs
}

func printReport(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\neddy bench: %d clients, %s per scenario (in %d alternating rounds) after %s warmup, %d items of %d B payload, %d CPUs\n\n",
		rep.Clients, rep.Duration, rep.Rounds, rep.Warmup, rep.Items, rep.ItemSize, rep.NumCPU)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tops/s\tp50\tp99\tserver CPU/op\tclient CPU/op\terrors\t")
	for _, sc := range scenarioOrder(rep.Results) {
		for _, r := range rep.Results {
			if r.Scenario != sc {
				continue
			}
			if r.Skipped != "" {
				fmt.Fprintf(tw, "%s\t%s\tskipped\t\t\t\t\t\t\n", r.Scenario, r.Target)
				continue
			}
			cpu := "n/a"
			if r.ServerCPUus >= 0 {
				cpu = fmtUs(r.ServerCPUus)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.Target, r.OpsPerSec,
				fmtUs(r.P50us), fmtUs(r.P99us), cpu, fmtUs(r.ClientCPUus), r.Errors)
		}
	}
	tw.Flush()

	for _, r := range rep.Results {
		switch {
		case r.Skipped != "":
			fmt.Fprintf(w, "%s/%s skipped: %s\n", r.Target, r.Scenario, r.Skipped)
		case r.FirstError != "":
			fmt.Fprintf(w, "%s/%s: first error: %s\n", r.Target, r.Scenario, r.FirstError)
		}
	}

	if rep.Reference != "" {
		fmt.Fprintf(w, "\n%s vs %s (same run, same client settings):\n", rep.Subject, rep.Reference)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tops/s\tp50\tserver CPU/op\t")
		for _, sc := range scenarioOrder(rep.Results) {
			a, b := find(rep.Results, rep.Subject, sc), find(rep.Results, rep.Reference, sc)
			if a == nil || b == nil {
				continue
			}
			cpu := "n/a"
			if a.ServerCPUus > 0 && b.ServerCPUus > 0 {
				cpu = delta(a.ServerCPUus, b.ServerCPUus)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", sc, delta(a.OpsPerSec, b.OpsPerSec), delta(a.P50us, b.P50us), cpu)
		}
		tw.Flush()
	}

	printFloor(w, rep)

	if len(rep.Verdicts) > 0 {
		fmt.Fprintf(w, "\ntargets (issue 2; %s against the null endpoint, same client settings):\n", rep.Subject)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, v := range rep.Verdicts {
			verdict := "PASS"
			if !v.Pass {
				verdict = "MISS"
			}
			var val, tgt string
			switch v.Check {
			case "ops/s share of null":
				val, tgt = fmt.Sprintf("%.0f%%", 100*v.Value), fmt.Sprintf(">= %.0f%%", 100*v.Target)
			case "server CPU/op ÷ null's":
				val, tgt = fmt.Sprintf("%.2fx", v.Value), fmt.Sprintf("<= %.1fx", v.Target)
			case "errors":
				val, tgt = fmt.Sprintf("%.0f", v.Value), "0"
			default:
				val, tgt = fmtUs(v.Value), "< "+fmtUs(v.Target)
			}
			note := ""
			if v.Note != "" {
				note = "(" + v.Note + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", v.Scenario, v.Check, val, tgt, verdict, note)
		}
		tw.Flush()
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w)
}

// scenarioOrder lists the scenarios in results in first-seen order.
func scenarioOrder(results []result) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.Scenario] {
			seen[r.Scenario] = true
			out = append(out, r.Scenario)
		}
	}
	return out
}

func fmtUs(us float64) string {
	switch {
	case us >= 1000:
		return fmt.Sprintf("%.2fms", us/1000)
	case us >= 100:
		return fmt.Sprintf("%.0fµs", us)
	default:
		return fmt.Sprintf("%.1fµs", us)
	}
}

// delta formats a relative to b as a signed percentage.
func delta(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	d := 100 * (a - b) / b
	return strings.Replace(fmt.Sprintf("%+.1f%%", d), "+0.0%", "±0.0%", 1)
}

// printFloor shows, for the write scenarios, what durability alone costs on
// this machine: the durable null endpoint (null+fsync: no parsing, no
// storage, one group-committed fdatasync per write) against the null
// endpoint, and the subject against the durable null endpoint.
func printFloor(w io.Writer, rep *report) {
	header := false
	for _, sc := range scenarioOrder(rep.Results) {
		n, f, s := find(rep.Results, "null", sc), find(rep.Results, nullFsyncTarget, sc), find(rep.Results, rep.Subject, sc)
		if n == nil || f == nil {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nthe cost of durability alone (%s: the null endpoint plus a group-committed fdatasync per write):\n", nullFsyncTarget)
			header = true
		}
		line := fmt.Sprintf("  %-6s %s: %.0f%% of null's ops/s, %s its CPU/op", sc, nullFsyncTarget, 100*f.OpsPerSec/n.OpsPerSec, ratio(f.ServerCPUus, n.ServerCPUus))
		if s != nil {
			line += fmt.Sprintf("; %s: %.0f%% of %s's ops/s, %s its CPU/op", rep.Subject, 100*s.OpsPerSec/f.OpsPerSec, nullFsyncTarget, ratio(s.ServerCPUus, f.ServerCPUus))
		}
		fmt.Fprintln(w, line)
	}
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a x"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
