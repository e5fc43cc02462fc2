package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestTorture is the short run of the harness in CI: a few kills, zero
// violations, shards closing and splitting under it. About 40 s on a loaded
// 2-core machine, the builds of eddy and the guest included.
func TestTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds eddy and runs it as a child process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the builds may be slow on a loaded machine
	defer cancel()
	o := options{seed: 1, kills: 3, workers: 3, keys: 8, minRun: 150 * time.Millisecond, maxRun: 500 * time.Millisecond,
		rollover: 2 * time.Second, split: 40} // shards close and split within the run
	if testing.Verbose() {
		o.verbose, o.log = true, os.Stderr
	}
	s, err := run(ctx, o)
	t.Log(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.violations) > 0 {
		for i, v := range s.violations {
			if i == 20 {
				break
			}
			t.Errorf("violation: %s", v)
		}
	}
	if s.kills != 3 || s.acked == 0 {
		t.Fatalf("ran %d kills with %d acknowledged writes", s.kills, s.acked)
	}
}
