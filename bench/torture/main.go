// Command torture is eddy's crash-consistency harness (issue 13). It builds
// eddy (or takes -bin), runs `eddy serve` as a child process on a temporary
// data directory, drives a seeded random workload through aws-sdk-go-v2
// with retries off, SIGKILLs the server at seeded random moments, restarts
// it on the same directory and, after every restart, checks what the
// server holds against a model of what was acknowledged:
//
//   - the table equals the model: every acknowledged write present, no
//     unacknowledged write visible, each write whose answer was lost by the
//     kill (in doubt) applied wholly or not at all (transactions included);
//
//   - the stream, read through the DynamoDB Streams API from TRIM_HORIZON
//     following shard lineage: sequence numbers increasing per shard and
//     unique, and per item exactly the model's changes, in order, each
//     record's OldImage the previous record's NewImage (gapless);
//
//   - no mapping checkpoint ahead of the records of its shard;
//
//   - once caught up, the materialized view (the esm guest with VIEW)
//     equals a recomputation from the stream's INSERT records;
//
//   - every poison record (FAIL_ON) dead-lettered exactly once, nothing else.
//
//     go run ./bench/torture -seed 1 -kills 100
//     go run ./bench/torture -seed 7 -kills 20 -bin /tmp/eddy -v
//
// It prints one summary line and exits 1 on any violation, after printing
// the first violations in detail. The workload's choices are seeded; the
// kill moments are seeded delays, so what is in flight differs from run to
// run and the model resolves it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.Int64Var(&o.seed, "seed", 1, "seed of the workload and the kill moments")
	flag.IntVar(&o.kills, "kills", 10, "SIGKILLs (each followed by a restart and the checks)")
	flag.StringVar(&o.bin, "bin", "", "eddy binary (default: build ./cmd/eddy into a temporary directory)")
	flag.IntVar(&o.workers, "workers", 4, "concurrent writers (each owns its keys)")
	flag.IntVar(&o.keys, "keys", 16, "keys per writer")
	flag.BoolVar(&o.verbose, "v", false, "log each round and eddy's output")
	flag.DurationVar(&o.maxRun, "max-run", 600*time.Millisecond, "longest seeded run of the workload before a kill (the shortest is 50ms)")
	flag.DurationVar(&o.rollover, "rollover", 0, "eddy serve --stream-rollover (default: eddy's, 4h)")
	flag.Float64Var(&o.split, "split", 0, "eddy serve --stream-split-writes (default: eddy's, 10000/s)")
	flag.Parse()
	o.log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := run(ctx, o)
	fmt.Println(s)
	if len(s.violations) > 0 {
		s.printViolations(os.Stderr, 20)
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "torture:", err)
		os.Exit(2)
	case len(s.violations) > 0:
		os.Exit(1)
	}
}
