package triggers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// blockingTables holds every Call until release is closed, and counts the
// calls waiting.
type blockingTables struct {
	release chan struct{}
	mu      sync.Mutex
	waiting int
	calls   int
}

func newBlockingTables() *blockingTables { return &blockingTables{release: make(chan struct{})} }

func (b *blockingTables) Call(ctx context.Context, _ string, _ []byte) ([]byte, error) {
	b.mu.Lock()
	b.waiting++
	b.calls++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
	}()
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []byte(`{}`), nil
}

func (b *blockingTables) count() (waiting, calls int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting, b.calls
}

// waitFor polls cond every 5 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waiter is a handler that waits in eddy.table_call until the test
// releases it.
var waiter = triggerstest.Module{MemoryMin: 1, Imports: []triggerstest.Import{triggerstest.TableCall},
	Handle: triggerstest.TableGetItem}.Bytes()

// TestInvocationsAreBounded: with the default options, no more than 64
// invocations run at once; the next synchronous one is refused at once
// ("Rate Exceeded.") instead of starting one more instance (issue 13,
// finding 2: 100 invocations of a spinning guest all ran).
func TestInvocationsAreBounded(t *testing.T) {
	tables := newBlockingTables()
	h := newHost(t, triggers.Deps{Tables: tables})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "w", Code: waiter, Timeout: 60 * time.Second}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() {
		close(tables.release)
		wg.Wait()
	}()
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := h.Invoke(ctx, "w", "", nil); err != nil || res.FunctionError != "" {
				t.Errorf("invocation %d: %v %v", i, err, res)
			}
		}()
	}
	waitFor(t, "64 invocations waiting", func() bool { w, _ := tables.count(); return w == 64 })
	done := make(chan error, 1)
	go func() {
		_, err := h.Invoke(ctx, "w", "", nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "Rate Exceeded." {
			t.Fatalf("65th invocation: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the 65th invocation was not refused: it runs")
	}
}

func throttleReason(err error) string {
	var te *triggers.ThrottleError
	if errors.As(err, &te) && errors.Is(err, triggers.ErrThrottled) {
		return te.Reason
	}
	return ""
}

// TestConcurrencyLimits: the account limit, reserved concurrency (its
// bounds and its reservation out of the shared limit), the bounded queue of
// Event invocations, InvokeWait, and the metrics.
func TestConcurrencyLimits(t *testing.T) {
	tables := newBlockingTables()
	reg := prometheus.NewRegistry()
	h, err := triggers.New(triggers.Deps{DB: memDB(t), Tables: tables, Metrics: reg}, triggers.Options{
		Limits: triggers.Limits{MaxConcurrency: 3, MinUnreservedConcurrency: 1, MaxQueuedEvents: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	released := false
	defer func() {
		if !released {
			close(tables.release)
		}
		wg.Wait()
		_ = h.Close()
	}()
	for _, n := range []string{"a", "b"} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: n, Code: waiter, Timeout: 60 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	invoke := func(name string, wait bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := h.Invoke
			if wait {
				f = h.InvokeWait
			}
			if res, err := f(ctx, name, "", nil); err != nil || res.FunctionError != "" {
				t.Errorf("%s: %v %v", name, err, res)
			}
		}()
	}
	waiting := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d invocations waiting", n), func() bool { w, _ := tables.count(); return w == n })
	}

	// Reservations: at most MaxConcurrency - MinUnreserved = 2 in all.
	if _, err := h.PutFunctionConcurrency("a", 3); !errors.Is(err, triggers.ErrInvalidParameter) ||
		err.Error() != "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [1]." {
		t.Fatalf("reserve 3 of 3: %v", err)
	}
	if _, err := h.PutFunctionConcurrency("a", -1); !errors.Is(err, triggers.ErrValidation) {
		t.Fatalf("reserve -1: %v", err)
	}
	if _, err := h.PutFunctionConcurrency("a", 1); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := h.GetFunctionConcurrency("a"); err != nil || !ok || n != 1 {
		t.Fatalf("GetFunctionConcurrency: %d %v %v", n, ok, err)
	}
	// a holds its one slot; the next a is throttled by its reservation.
	invoke("a", false)
	waiting(1)
	if _, err := h.Invoke(ctx, "a", "", nil); throttleReason(err) != triggers.ReasonReservedLimit {
		t.Fatalf("second a: %v", err)
	}
	// b has the 2 unreserved slots; a third b is throttled by the account
	// limit, although a's slot is not counted against it.
	invoke("b", false)
	invoke("b", false)
	waiting(3)
	if _, err := h.Invoke(ctx, "b", "", nil); throttleReason(err) != triggers.ReasonConcurrentLimit {
		t.Fatalf("third b: %v", err)
	}
	// Event invocations queue (2 at most), then are throttled.
	for i := 0; i < 2; i++ {
		if err := h.InvokeAsync("b", "", nil); err != nil {
			t.Fatalf("queued event %d: %v", i, err)
		}
	}
	if err := h.InvokeAsync("b", "", nil); throttleReason(err) != triggers.ReasonConcurrentLimit {
		t.Fatalf("event past the queue: %v", err)
	}
	// InvokeWait (event source mappings) waits instead.
	invoke("b", true)
	// The two queued events and the InvokeWait count a throttle each when
	// they find no slot: wait for all three before anything frees one (the
	// test counted 6 of 7 when a goroutine got there after the release).
	waitFor(t, "the queued events and InvokeWait to be throttled", func() bool {
		return metricSum(t, reg, "eddy_function_throttles_total") == 6
	})
	if got := metricSum(t, reg, "eddy_function_async_queued"); got != 2 {
		t.Fatalf("queued gauge %v", got)
	}
	// Reserved concurrency 0 refuses every invocation, Event ones too.
	if _, err := h.PutFunctionConcurrency("a", 0); err != nil {
		t.Fatal(err)
	}
	if err := h.InvokeAsync("a", "", nil); throttleReason(err) != triggers.ReasonReservedLimit {
		t.Fatalf("event to a reserved 0: %v", err)
	}
	if err := h.DeleteFunctionConcurrency("a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.GetFunctionConcurrency("a"); ok {
		t.Fatal("reservation still there")
	}
	// Release everything: the queued events and the waiting invocation run.
	close(tables.release)
	released = true
	wg.Wait()
	waitFor(t, "queued events to run", func() bool { _, c := tables.count(); return c == 6 })
	// Throttles: second a, third b, the event past the queue, the event to
	// a reserved 0, and the InvokeWait and two queued events that waited.
	if n := metricSum(t, reg, "eddy_function_throttles_total"); n != 7 {
		t.Fatalf("throttles: %v", n)
	}
}

// TestReservationLoweredWhileRunning: lowering or removing a reservation
// while the function's invocations run does not free their slots for the
// other functions: they count against the unreserved concurrency until
// they end, and no more than MaxConcurrency invocations run at once
// (Lambda's account concurrency, "the maximum number of concurrent
// instances": docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
// The limiter counted a reserved function's slots against its reservation
// only, so with the reservation at 0 or removed they were counted nowhere
// and a third invocation ran with MaxConcurrency 2 (it let
// TestConcurrencyLimits' waiting invocations start before the release).
func TestReservationLoweredWhileRunning(t *testing.T) {
	tables := newBlockingTables()
	h, err := triggers.New(triggers.Deps{DB: memDB(t), Tables: tables}, triggers.Options{
		Limits: triggers.Limits{MaxConcurrency: 2, MinUnreservedConcurrency: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	defer func() {
		close(tables.release)
		wg.Wait()
		_ = h.Close()
	}()
	for _, n := range []string{"a", "b", "c"} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: n, Code: waiter, Timeout: 60 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.PutFunctionConcurrency("a", 1); err != nil {
		t.Fatal(err)
	}
	// invoke starts an invocation and returns once it is refused (its
	// error) or runs (nil: it waits in its table call with the others).
	invoke := func(name string, running int) error {
		t.Helper()
		done := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Invoke(ctx, name, "", nil)
			done <- err
		}()
		err := errors.New("never")
		waitFor(t, name+" refused or running", func() bool {
			select {
			case err = <-done:
				return true
			default:
				w, _ := tables.count()
				if w > running {
					err = nil
					return true
				}
				return false
			}
		})
		return err
	}
	// a holds its reserved slot, b the unreserved one: both are in use.
	if err := invoke("a", 0); err != nil {
		t.Fatal(err)
	}
	if err := invoke("b", 1); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		what   string
		change func() error
		a      string // a's throttle reason after the change
	}{
		{"a's reservation lowered to 0", func() error { _, err := h.PutFunctionConcurrency("a", 0); return err }, triggers.ReasonReservedLimit},
		{"a's reservation removed", func() error { return h.DeleteFunctionConcurrency("a") }, triggers.ReasonConcurrentLimit},
	} {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		if err := invoke("b", 2); throttleReason(err) != triggers.ReasonConcurrentLimit {
			t.Fatalf("%s: b while a and b run (MaxConcurrency 2): %v", step.what, err)
		}
		if err := invoke("a", 2); throttleReason(err) != step.a {
			t.Fatalf("%s: a while a and b run (MaxConcurrency 2): %v", step.what, err)
		}
	}
	// A reservation made while the others use every slot takes effect as
	// they end: c is throttled by the account's limit meanwhile.
	if _, err := h.PutFunctionConcurrency("c", 1); err != nil {
		t.Fatal(err)
	}
	if err := invoke("c", 2); throttleReason(err) != triggers.ReasonConcurrentLimit {
		t.Fatalf("c reserved 1 while a and b run (MaxConcurrency 2): %v", err)
	}
}

// metricSum sums the values of every series of a gauge or counter.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestTotalMemoryBudget: the linear memory of all instances is capped
// (Options.MaxTotalMemoryMB): idle instances are dropped to make room, and
// a running one keeps its memory, so a new instance past the cap fails
// (its init, Runtime.InitError) instead of growing the process.
func TestTotalMemoryBudget(t *testing.T) {
	tables := newBlockingTables()
	h, err := triggers.New(triggers.Deps{DB: memDB(t), Tables: tables}, triggers.Options{
		Limits: triggers.Limits{MaxTotalMemoryMB: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	six := triggerstest.Module{MemoryMin: 96, Imports: []triggerstest.Import{triggerstest.TableCall}, Handle: triggerstest.TableGetItem}.Bytes() // 6 MB
	idle := triggerstest.Module{MemoryMin: 96}.Bytes()
	for _, f := range []struct {
		name string
		code []byte
	}{{"idle", idle}, {"busy", six}, {"other", idle}} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: f.name, Code: f.code, MemoryMB: 8, Timeout: 60 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	// idle leaves a warm 6 MB instance; busy needs 6 MB more: idle's goes.
	if res, err := h.Invoke(ctx, "idle", "", nil); err != nil || res.FunctionError != "" {
		t.Fatalf("idle: %v %v", err, res)
	}
	done := make(chan *triggers.Result, 1)
	go func() {
		res, err := h.Invoke(ctx, "busy", "", nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitFor(t, "busy running", func() bool { w, _ := tables.count(); return w == 1 })
	// busy runs with 6 of the 10 MB: other can not have 6 more.
	res, err := h.Invoke(ctx, "other", "", nil)
	// Its instance could not start: an init error.
	if err != nil || res.FunctionError == "" || !strings.Contains(string(res.Payload), `"errorType":"Runtime.InitError"`) ||
		!strings.Contains(string(res.Payload), "memory for all functions (10 MB) exhausted") {
		t.Fatalf("other past the budget: %v %s", err, res.Payload)
	}
	close(tables.release)
	if res := <-done; res == nil || res.FunctionError != "" {
		t.Fatalf("busy: %v", res)
	}
	// busy's instance is idle now and is dropped for other.
	if res, err := h.Invoke(ctx, "other", "", nil); err != nil || res.FunctionError != "" {
		t.Fatalf("other after busy: %v %s", err, res.Payload)
	}
}

// TestGrowPastTotalMemory: memory.grow within MemorySize but past what all
// functions may use together is refused (the guest sees -1) and reported
// as Runtime.OutOfMemory naming the shared limit.
func TestGrowPastTotalMemory(t *testing.T) {
	h, err := triggers.New(triggers.Deps{DB: memDB(t)}, triggers.Options{Limits: triggers.Limits{MaxTotalMemoryMB: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	// memory.grow 96 pages (6 MB); trap if refused.
	grow := append(triggerstest.I32Const(96), 0x40, 0x00)
	grow = append(grow, triggerstest.I32Const(-1)...)
	grow = append(grow, 0x46, 0x04, 0x40, 0x00, 0x0b) // i32.eq, if, unreachable, end
	grow = append(grow, triggerstest.ReturnOK...)
	code := triggerstest.Module{MemoryMin: 1, Handle: grow}.Bytes()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "g", Code: code, MemoryMB: 8}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(ctx, "g", "", nil)
	if err != nil || !strings.Contains(string(res.Payload), `"errorType":"Runtime.OutOfMemory"`) ||
		!strings.Contains(string(res.Payload), "memory for all functions (4 MB) exhausted") {
		t.Fatalf("grow past the total: %v %s", err, res.Payload)
	}
	// Within the total it grows.
	small := append(triggerstest.I32Const(16), grow[len(triggerstest.I32Const(96)):]...)
	if _, err := h.UpdateFunctionCode(ctx, "g", triggerstest.Module{MemoryMin: 1, Handle: small}.Bytes(), false); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Invoke(ctx, "g", "", nil); err != nil || res.FunctionError != "" {
		t.Fatalf("grow 1 MB: %v %s", err, res.Payload)
	}
}

// TestGuestsLeaveProcessorsFree: at most MaxRunningGuests invocations
// execute guest code at once, so spinning guests can not take every
// processor from the server (compiled guest code is not preemptible; issue
// 13, finding 2: GetItem p50 1.7 ms → 189 ms). An invocation waiting in
// eddy.table_call gives its slot back.
func TestGuestsLeaveProcessorsFree(t *testing.T) {
	tables := newBlockingTables()
	reg := prometheus.NewRegistry()
	h, err := triggers.New(triggers.Deps{DB: memDB(t), Tables: tables, Metrics: reg},
		triggers.Options{Limits: triggers.Limits{MaxRunningGuests: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	defer func() {
		close(tables.release)
		wg.Wait()
		_ = h.Close()
	}()
	spin := triggerstest.Module{MemoryMin: 1, Handle: append(append([]byte{}, triggerstest.Spin...), triggerstest.ReturnOK...)}.Bytes()
	for _, f := range []struct {
		name    string
		code    []byte
		timeout time.Duration
	}{{"w", waiter, time.Minute}, {"spin", spin, time.Second}} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: f.name, Code: f.code, Timeout: f.timeout}); err != nil {
			t.Fatal(err)
		}
	}
	invokeBg := func(name string) chan *triggers.Result {
		done := make(chan *triggers.Result, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Invoke(ctx, name, "", nil)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		return done
	}
	// w waits in table_call without its slot: spin gets it and runs (to
	// its timeout).
	invokeBg("w")
	waitFor(t, "w in its table call", func() bool { w, _ := tables.count(); return w == 1 })
	select {
	case res := <-invokeBg("spin"):
		if !strings.Contains(string(res.Payload), "Sandbox.Timedout") {
			t.Fatalf("spin: %s", res.Payload)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("spin never ran: the waiting invocation kept its slot")
	}
	// While a spinning guest holds the only slot, no other guest starts.
	spinning := invokeBg("spin")
	waitFor(t, "spin running", func() bool { return metricSum(t, reg, "eddy_function_running_guests") == 1 })
	invokeBg("w")
	time.Sleep(200 * time.Millisecond)
	select {
	case <-spinning: // spin timed out already (a slow machine): nothing to check
	default:
		if w, _ := tables.count(); w != 1 {
			t.Fatalf("%d guests waiting in table calls while another spins with the only slot", w)
		}
	}
	<-spinning
	waitFor(t, "w after spin", func() bool { w, _ := tables.count(); return w == 2 })
}
