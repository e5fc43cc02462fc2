package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/linearize"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestStrongBarrierSkippedWrite: the MRSC stream keeps each item's last
// write only, so a region whose consumer is behind skips a write that the
// item's next write deleted from the stream, and its position passes the
// skipped write's sequence (another item's change) before the next write is
// applied. A strongly consistent GetItem (the item's barrier) or Query (the
// table's) that began after the skipped write was acknowledged must wait
// for the next write, not answer the item as it was before both. Before the
// barriers stopped trusting the consumer's position they answered the item
// absent here (the failure TestStrongLinearizableR3 found about one run in
// ten under load).
func TestStrongBarrierSkippedWrite(t *testing.T) {
	for _, op := range []string{"read", "query"} {
		t.Run(op, func(t *testing.T) {
			var (
				mu       sync.Mutex
				holdNext bool // hold the consumer at its next Fetch
				held     = make(chan struct{}, 1)
				release  = make(chan struct{})
				counting bool     // count the changes applied after release
				applied  []uint64 // their sequences
				answered = make(chan struct{})
			)
			hook := func(table string, seq uint64) {
				mu.Lock()
				if seq == 0 && holdNext {
					holdNext = false
					mu.Unlock()
					held <- struct{}{}
					<-release
					return
				}
				if seq == 0 || !counting {
					mu.Unlock()
					return
				}
				applied = append(applied, seq)
				second := len(applied) == 2
				mu.Unlock()
				if second {
					// The item's next write: held while the read may answer
					// (shorter than StrongTimeout, 2 s).
					select {
					case <-answered:
					case <-time.After(500 * time.Millisecond):
					}
				}
			}
			ns := natstest.Start(t)
			c := strongClusterOn(t, func(i int, o *global.Options) {
				if i == 2 {
					o.BeforeStrongApply = hook
				}
			}, 1, func(int) string { return ns.ClientURL() })
			c.createStrong()
			ctx := context.Background()
			do := func(i int, in linearize.Input) linearize.Output {
				t.Helper()
				out, err := linearize.Do(ctx, c.srvs[i].DDB, "glob.t", in)
				if err != nil {
					t.Fatalf("%s %+v: %v", regions[i], in, err)
				}
				return out
			}

			mu.Lock()
			holdNext = true
			mu.Unlock()
			select {
			case <-held:
			case <-time.After(10 * time.Second):
				t.Fatal("region 2's MRSC consumer did not reach a Fetch")
			}
			do(0, linearize.Input{Op: "write", Key: "x", To: "x1"})
			got := make(chan linearize.Output, 1)
			go func() {
				out, err := linearize.Do(ctx, c.srvs[2].DDB, "glob.t", linearize.Input{Op: op, Key: "x"})
				if err != nil {
					t.Errorf("%s of x in %s: %v", op, regions[2], err)
				}
				close(answered)
				got <- out
			}()
			// The read's barrier asks the stream for x's last write (x1) in
			// a few milliseconds; if it asked later, it would wait for x2
			// itself and the test would prove less, not fail.
			time.Sleep(300 * time.Millisecond)
			do(0, linearize.Input{Op: "write", Key: "y", To: "y1"})
			do(0, linearize.Input{Op: "write", Key: "x", To: "x2"}) // deletes x1 from the stream
			mu.Lock()
			counting = true
			mu.Unlock()
			close(release)

			if out := <-got; out.Value != "x2" {
				t.Errorf("a strongly consistent %s of x in %s after x1 was acknowledged answered %q, want x2", op, regions[2], out.Value)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(applied) != 2 {
				t.Errorf("region 2 applied sequences %v after the release, want two (y1's and x2's; x1's skipped)", applied)
			}
		})
	}
}
