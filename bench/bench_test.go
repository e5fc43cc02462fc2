package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the bench binary when the
// harness re-executes itself as the null endpoint child process.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "null-serve" {
		os.Exit(nullServe(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole harness for about two seconds: the null endpoint
// and the durable null endpoint as child processes, and an in-process null
// endpoint standing in for eddy (-addr, -pid of this process), every
// scenario in two rounds, JSON output.
func TestSmoke(t *testing.T) {
	inproc := httptest.NewServer(newNullHandler(64, 10, nil))
	defer inproc.Close()

	var out bytes.Buffer
	code := run([]string{
		"-addr", strings.TrimPrefix(inproc.URL, "http://"), "-pid", strconv.Itoa(os.Getpid()),
		"-clients", "4", "-duration", "150ms", "-rounds", "2", "-warmup", "30ms", "-null-fsync",
		"-items", "100", "-item-size", "64", "-query-items", "10", "-json",
	}, &out)
	if code != 0 {
		t.Fatalf("run exited %d; output:\n%s", code, out.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out.String())
	}
	writing := 0
	for _, s := range scenarios {
		if s.writes {
			writing++
		}
	}
	if got, want := len(rep.Results), 2*len(scenarios)+writing; got != want {
		t.Fatalf("%d results, want %d (2 targets x %d scenarios, and %s on the %d that write)", got, want, len(scenarios), nullFsyncTarget, writing)
	}
	for _, r := range rep.Results {
		name := r.Target + "/" + r.Scenario
		switch {
		case r.Skipped != "":
			t.Errorf("%s skipped: %s", name, r.Skipped)
		case r.Errors != 0:
			t.Errorf("%s: %d errors, first: %s", name, r.Errors, r.FirstError)
		case r.Ops < 10 || r.OpsPerSec < 50:
			t.Errorf("%s: %d ops, %.0f ops/s: implausibly few", name, r.Ops, r.OpsPerSec)
		case r.P50us <= 0 || r.P99us < r.P50us || r.P99us > 5e6:
			t.Errorf("%s: p50 %.1fµs, p99 %.1fµs: not sane", name, r.P50us, r.P99us)
		case r.ServerCPUus <= 0 || r.ServerCPUus > 1e5:
			t.Errorf("%s: server CPU/op %.1fµs: not measured or implausible", name, r.ServerCPUus)
		case r.ClientCPUus <= 0:
			t.Errorf("%s: client CPU/op %.1fµs: not measured", name, r.ClientCPUus)
		}
	}
	checks := map[string]bool{}
	for _, v := range rep.Verdicts {
		checks[v.Scenario+" "+v.Check] = true
	}
	for _, s := range scenarios {
		for _, c := range []string{"ops/s share of null", "server CPU/op ÷ null's"} {
			if !checks[s.name+" "+c] {
				t.Errorf("no verdict %q for %s; verdicts: %+v", c, s.name, rep.Verdicts)
			}
		}
	}

	var text bytes.Buffer
	printReport(&text, &rep)
	for _, want := range []string{"ops/s", "server CPU/op", "null", nullFsyncTarget, "eddy", "query", "PASS"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestEvaluate(t *testing.T) {
	res := []result{
		{Target: "null", Scenario: "get", Ops: 100, OpsPerSec: 1000, ServerCPUus: 10, P50us: 300},
		{Target: "eddy", Scenario: "get", Ops: 100, OpsPerSec: 850, ServerCPUus: 25, P50us: 400},
		{Target: "null", Scenario: "put", Ops: 100, OpsPerSec: 1000, ServerCPUus: 10},
		{Target: "eddy", Scenario: "put", Ops: 100, OpsPerSec: 700, ServerCPUus: 15, Errors: 1, FirstError: "boom"},
		{Target: "eddy", Scenario: "query", Skipped: "no Query"},
	}
	got := map[string]bool{}
	for _, v := range evaluate(res, "null", "eddy", 1) {
		got[v.Scenario+" "+v.Check] = v.Pass
	}
	want := map[string]bool{
		"get ops/s share of null":       true,  // 85% >= 80%
		"get server CPU/op ÷ null's":    false, // 2.5x > 2x
		"get GetItem p50 µs (1 client)": true,  // 400µs < 500µs
		"put ops/s share of null":       false, // 70%
		"put server CPU/op ÷ null's":    true,  // 1.5x
		"put errors":                    false,
	}
	if len(got) != len(want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: pass=%v (present %v), want %v", k, g, ok, w)
		}
	}
}

func TestProcCPU(t *testing.T) {
	if _, ok := procCPU(0); ok {
		t.Error("procCPU(0) reported a value")
	}
	before, ok := procCPU(os.Getpid())
	if !ok {
		t.Fatal("procCPU of this process failed")
	}
	x := 0
	for start := selfCPU(); selfCPU()-start < 30e6; x++ { // burn 30 ms of CPU
	}
	after, _ := procCPU(os.Getpid())
	if d := after - before; d < 10e6 {
		t.Errorf("30 ms of CPU burnt, /proc/self/stat moved %v", d)
	}
}
