package triggers_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/triggers"
)

// TestCloseWithInvocationsInFlight closes the host while synchronous
// invocations are instantiating and running (as event source mappings do
// during shutdown). Every invocation must end with a result or ErrClosed,
// and Close must not hang on a runaway handler: it cancels them.
//
// The race this guards (Close closing the wazero runtime under a running
// InstantiateModule, which panicked in a mappings test) has a narrow
// window; this test exercises the path but does not reproduce that panic
// reliably without the fix. The fix is structural: Invoke registers in
// Host.inflight under h.mu after its closed check, and Close waits for it.
func TestCloseWithInvocationsInFlight(t *testing.T) {
	for round := 0; round < 4; round++ {
		h, err := triggers.New(triggers.Deps{DB: memDB(t)}, triggers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "k", Code: guestCode(t, "kitchen"), Timeout: 30 * time.Second}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A trapping handler discards its instance, so every call
				// instantiates anew: the window the race lives in.
				action := `{"action":"panic"}`
				if i == 0 {
					action = `{"action":"loop"}` // a runaway handler Close must cancel
				}
				for j := 0; j < 20; j++ {
					_, err := h.Invoke(ctx, "k", "", []byte(action))
					if errors.Is(err, triggers.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("invoke: %v", err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%4*15) * time.Millisecond)
		start := time.Now()
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("Close took %v with a runaway handler in flight", el)
		}
		wg.Wait()
	}
}
