// Command bench is eddy's benchmark harness. It drives running servers with
// aws-sdk-go-v2, the client users have, and prints per scenario ops/s,
// p50/p99 latency and the server process's CPU time per operation.
//
// A default run measures two servers with the same client settings, each a
// child process: the null endpoint (this binary's "null-serve" subcommand:
// fixed valid responses, no parsing, the ceiling that client, HTTP and JSON
// leave on this machine) and eddy built from the working tree (`eddy serve
// --data <tmpdir>`, durable writes). It then compares eddy against the
// null endpoint and the performance targets of issue 2.
//
//	go run ./bench                                   # null vs eddy, 16 clients, 10 s per scenario
//	go run ./bench -clients 1 -scenarios get         # latency of one client
//	go run ./bench -compare-ref HEAD~1               # also eddy built from another commit
//	go run ./bench -addr 127.0.0.1:8000 -pid 1234    # an eddy you started yourself
//	go run ./bench -cpuprofile /tmp/prof             # profile eddy over each measured window
//
// See bench/README.md for the figures and how to read them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "null-serve" {
		os.Exit(nullServe(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout))
}

// options are the harness's flags beyond the per-run config.
type options struct {
	cfg        config
	addr       string
	pid        int
	noNull     bool
	nullFsync  bool
	eddyBin    string
	compareRef string
	// compareReport: also the same eddy with --capacity report.
	compareReport bool
	cpuprofile    string
	json          bool
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := &options{}
	var scen string
	fs.IntVar(&o.cfg.clients, "clients", 16, "concurrent clients (goroutines sharing one SDK client)")
	fs.DurationVar(&o.cfg.duration, "duration", 10*time.Second, "measured window per scenario")
	fs.DurationVar(&o.cfg.warmup, "warmup", 2*time.Second, "unmeasured warmup per scenario")
	fs.IntVar(&o.cfg.rounds, "rounds", 5, "split each measured window into this many rounds that alternate between the targets (1 with -cpuprofile)")
	fs.StringVar(&scen, "scenarios", "put,get,query,mix", "comma-separated scenarios: "+scenarioNames())
	fs.IntVar(&o.cfg.items, "items", 10000, "distinct item keys (preloaded for get and mix)")
	fs.IntVar(&o.cfg.itemSize, "item-size", 100, "payload bytes per item")
	fs.IntVar(&o.cfg.queryItems, "query-items", 100, "items in each Query partition")
	fs.StringVar(&o.addr, "addr", "", "benchmark an already running eddy at host:port instead of building and starting one")
	fs.IntVar(&o.pid, "pid", 0, "with -addr: the server's PID, for CPU per operation")
	fs.BoolVar(&o.noNull, "no-null", false, "skip the null endpoint")
	fs.BoolVar(&o.nullFsync, "null-fsync", false, "also run the null endpoint with a durable log (null+fsync: writes answer after a group-committed fdatasync) on the write scenarios")
	fs.StringVar(&o.eddyBin, "eddy-bin", "", "use this eddy binary instead of building ./cmd/eddy")
	fs.StringVar(&o.compareRef, "compare-ref", "", "also build eddy from this git ref and run the same scenarios against it")
	fs.BoolVar(&o.compareReport, "compare-capacity-report", false, "also run the same eddy binary with --capacity report (the capacity limiter's cost: eddy enforces, eddy-report only records)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "directory: run eddy as bench/profserve and save a CPU profile of each measured window")
	fs.BoolVar(&o.json, "json", false, "print results as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, ok := findScenario(s); !ok {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", s, scenarioNames())
		}
		o.cfg.scenarios = append(o.cfg.scenarios, s)
	}
	if o.cpuprofile != "" {
		o.cfg.rounds = 1 // one profile per scenario covers one window
	}
	switch {
	case len(o.cfg.scenarios) == 0:
		return nil, fmt.Errorf("no scenarios")
	case o.cfg.clients < 1 || o.cfg.items < 1 || o.cfg.itemSize < 0 || o.cfg.queryItems < 1:
		return nil, fmt.Errorf("-clients, -items and -query-items must be positive, -item-size not negative")
	case o.cfg.duration <= 0:
		return nil, fmt.Errorf("-duration must be positive")
	case o.cfg.rounds < 1 || o.cfg.duration/time.Duration(o.cfg.rounds) < 50*time.Millisecond:
		return nil, fmt.Errorf("-rounds must be at least 1 and leave each round 50ms of -duration")
	case o.addr != "" && (o.eddyBin != "" || o.cpuprofile != ""):
		return nil, fmt.Errorf("-addr benchmarks a running server: -eddy-bin and -cpuprofile do not apply")
	}
	return o, nil
}

func scenarioNames() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

// report is everything one run produced (the -json output).
type report struct {
	Clients   int       `json:"clients"`
	Duration  string    `json:"duration"`
	Warmup    string    `json:"warmup"`
	Rounds    int       `json:"rounds"`
	Items     int       `json:"items"`
	ItemSize  int       `json:"item_size"`
	NumCPU    int       `json:"num_cpu"`
	Results   []result  `json:"results"`
	Verdicts  []verdict `json:"verdicts"`
	Notes     []string  `json:"notes,omitempty"`
	Subject   string    `json:"subject"`
	Reference string    `json:"reference,omitempty"`
}

func run(args []string, stdout io.Writer) int {
	o, err := parseFlags(args)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep, err := benchmark(ctx, o)
	if rep != nil {
		if o.json {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			printReport(stdout, rep)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// benchmark starts each target in turn, runs the scenarios against it and
// stops it. Targets run one after the other, never at the same time.
func benchmark(ctx context.Context, o *options) (*report, error) {
	cfg := &o.cfg
	rep := &report{
		Clients: cfg.clients, Duration: cfg.duration.String(), Warmup: cfg.warmup.String(), Rounds: cfg.rounds,
		Items: cfg.items, ItemSize: cfg.itemSize, NumCPU: runtime.NumCPU(), Subject: "eddy",
	}
	tmp, err := os.MkdirTemp("", "eddy-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	logf := func(format string, args ...any) {
		if !o.json {
			log.Printf(format, args...)
		}
	}

	type target struct {
		name    string
		bin     string
		args    []string
		url     string // running already (-addr)
		pid     int
		profile bool
		// writesOnly targets run only the scenarios that write.
		writesOnly bool
	}
	var targets []target
	if !o.noNull {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		targets = append(targets, target{name: "null", bin: self, args: []string{"null-serve", "-addr", "{addr}",
			"-item-size", fmt.Sprint(cfg.itemSize), "-query-items", fmt.Sprint(cfg.queryItems)}})
		if o.nullFsync {
			dir := filepath.Join(tmp, "data-null")
			if err := os.Mkdir(dir, 0o755); err != nil {
				return nil, err
			}
			targets = append(targets, target{name: nullFsyncTarget, bin: self, writesOnly: true, args: []string{"null-serve", "-addr", "{addr}",
				"-item-size", fmt.Sprint(cfg.itemSize), "-query-items", fmt.Sprint(cfg.queryItems), "-durable", dir}})
		}
	}
	needRoot := o.addr == "" && o.eddyBin == "" || o.compareRef != "" || o.cpuprofile != ""
	var root string
	if needRoot {
		if root, err = moduleRoot(); err != nil {
			return nil, err
		}
	}
	switch {
	case o.addr != "":
		targets = append(targets, target{name: "eddy", url: "http://" + o.addr, pid: o.pid})
		if o.pid == 0 {
			rep.Notes = append(rep.Notes, "eddy at -addr without -pid: server CPU per op not measured")
		}
	default:
		bin := o.eddyBin
		pkg := "./cmd/eddy"
		if o.cpuprofile != "" {
			pkg = "./bench/profserve"
			rep.Notes = append(rep.Notes, "eddy ran as bench/profserve with a CPU profile taken over each window: expect a few % overhead")
		}
		if bin == "" || o.cpuprofile != "" {
			bin = filepath.Join(tmp, "eddy")
			logf("building %s", pkg)
			if err := goBuild(ctx, root, bin, pkg); err != nil {
				return nil, err
			}
		}
		data := filepath.Join(tmp, "data-eddy")
		if err := os.Mkdir(data, 0o755); err != nil { // empty: eddy serve creates a database in it
			return nil, err
		}
		targets = append(targets, target{name: "eddy", bin: bin, args: []string{"serve", "--addr", "{addr}", "--data", data}, profile: o.cpuprofile != ""})
		if o.compareReport {
			data := filepath.Join(tmp, "data-report")
			if err := os.Mkdir(data, 0o755); err != nil {
				return nil, err
			}
			targets = append(targets, target{name: "eddy-report", bin: bin, args: []string{"serve", "--addr", "{addr}", "--data", data, "--capacity", "report"}})
			rep.Reference = "eddy-report"
		}
	}
	if o.compareRef != "" {
		src := filepath.Join(tmp, "ref-src")
		short, err := checkoutRef(ctx, root, o.compareRef, src)
		if err != nil {
			return nil, err
		}
		name := "eddy@" + short
		bin := filepath.Join(tmp, "eddy-ref")
		logf("building ./cmd/eddy at %s (%s)", o.compareRef, short)
		if err := goBuild(ctx, src, bin, "./cmd/eddy"); err != nil {
			return nil, err
		}
		data := filepath.Join(tmp, "data-ref")
		if err := os.Mkdir(data, 0o755); err != nil {
			return nil, err
		}
		targets = append(targets, target{name: name, bin: bin, args: []string{"serve", "--addr", "{addr}", "--data", data}})
		rep.Reference = name
	}
	if o.cpuprofile != "" {
		if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
			return nil, err
		}
	}

	// All servers run for the whole benchmark (an idle one costs nothing);
	// scenarios run target after target, so that a change in the machine's
	// load during the run shifts every target of a scenario alike.
	type live struct {
		name string
		url  string
		pid  int
		srv  *server
		env  *env
		prof bool
		// writesOnly: see target.
		writesOnly bool
	}
	var lives []*live
	defer func() {
		for _, l := range lives {
			if l.srv != nil {
				if err := l.srv.stop(); err != nil {
					log.Printf("bench: %v", err)
				}
			}
		}
	}()
	for _, t := range targets {
		l := &live{name: t.name, url: t.url, pid: t.pid, prof: t.profile, writesOnly: t.writesOnly}
		if l.url == "" {
			logf("starting %s", t.name)
			srv, err := startServer(ctx, t.name, t.bin, t.args...)
			if err != nil {
				return rep, err
			}
			l.srv, l.url, l.pid = srv, srv.url, srv.pid
		}
		l.env = &env{ddb: newClient(l.url, cfg.clients), cfg: cfg}
		lives = append(lives, l)
	}
	for _, sn := range cfg.scenarios {
		sc, _ := findScenario(sn)
		// Setup and warmup on every target, then the measured rounds: each
		// round gives every target duration/rounds in turn, so a change in
		// the machine's speed during the scenario (other tenants, thermal)
		// reaches all targets alike instead of whichever ran then.
		var run []*live
		for _, l := range lives {
			if l.writesOnly && !sc.writes {
				continue
			}
			logf("%s: %s: setup and %v warmup", sn, l.name, cfg.warmup)
			skipped, err := prepareScenario(ctx, l.env, l.name, sc)
			if err != nil {
				return rep, err
			}
			if skipped != nil {
				rep.Results = append(rep.Results, *skipped)
				continue
			}
			run = append(run, l)
		}
		windows := make([][]window, len(run))
		per := cfg.duration / time.Duration(cfg.rounds)
		for round := range cfg.rounds {
			logf("%s: round %d of %d (%d clients, %v per target)", sn, round+1, cfg.rounds, cfg.clients, per)
			for i, l := range run {
				var profiled sync.WaitGroup
				var onMeasure func()
				if l.prof {
					secs := max(1, int(per.Seconds()))
					path := filepath.Join(o.cpuprofile, l.name+"-"+sn+".pprof")
					onMeasure = func() {
						profiled.Go(func() {
							if err := fetchProfile(l.url, secs, path); err != nil {
								log.Printf("bench: %s/%s: %v", l.name, sn, err)
								return
							}
							logf("profile of %s/%s: go tool pprof -top %s", l.name, sn, path)
						})
					}
				}
				w, err := measureWindow(ctx, l.env, l.pid, sc, per, onMeasure)
				profiled.Wait()
				if err != nil {
					return rep, err
				}
				windows[i] = append(windows[i], w)
			}
		}
		for i, l := range run {
			rep.Results = append(rep.Results, summarize(l.name, sc, cfg.clients, windows[i]))
		}
	}
	rep.Verdicts = evaluate(rep.Results, "null", "eddy", cfg.clients)
	return rep, nil
}
