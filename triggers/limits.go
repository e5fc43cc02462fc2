package triggers

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Throttle reasons, Lambda's ThrottleReason values (TooManyRequestsException's
// Reason member in the Lambda API model).
const (
	// ReasonConcurrentLimit: the account's unreserved concurrency is in use
	// (or eddy's queue of Event invocations is full).
	ReasonConcurrentLimit = "ConcurrentInvocationLimitExceeded"
	// ReasonReservedLimit: the function's reserved concurrency is in use
	// (or is 0).
	ReasonReservedLimit = "ReservedFunctionConcurrentInvocationLimitExceeded"
)

// ThrottleError is an invocation refused because a concurrency limit is
// reached; errors.Is(err, ErrThrottled) holds. Lambda answers
// TooManyRequestsException (429) with the Reason, its message "Rate
// Exceeded." for concurrency ("Rate Exceeded. (Service: AWSLambda; Status
// Code: 429; Error Code: TooManyRequestsException ...)", quoted in
// HumanCellAtlas/data-store#1118; the wire body is
// {"Reason":...,"Type":"User","message":...}, as fyoorer/ShadowClone#25
// shows for another reason).
type ThrottleError struct {
	Reason string
}

func (e *ThrottleError) Error() string { return "Rate Exceeded." }

// Unwrap returns ErrThrottled.
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

// checkMemory refuses a module whose declared initial memory does not fit
// in memoryMB: wazero allocates the minimum at instantiation, before any
// memory.grow the limit could refuse.
func checkMemory(info *moduleInfo, memoryMB int) error {
	if info == nil || !info.hasMem {
		return nil
	}
	if limit := uint64(memoryMB) << 4; info.memMin > limit { // 16 pages of 64 KiB per MB
		return newErr(ErrInvalidParameter, "The module declares an initial memory of %d pages (%d MB), more than its MemorySize of %d MB: raise MemorySize or lower the module's initial memory",
			info.memMin, (info.memMin+15)>>4, memoryMB)
	}
	return nil
}

// memBudget is the runtime-wide cap on linear memory (Options.MaxTotalMemoryMB):
// every instance's memory, running or idle, is charged as it grows.
type memBudget struct {
	mu    sync.Mutex
	limit uint64
	used  uint64
	gauge prometheus.Gauge
}

func (b *memBudget) take(n uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	b.gauge.Set(float64(b.used))
	return true
}

func (b *memBudget) give(n uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.gauge.Set(float64(b.used))
}

// limiter holds the concurrency limits: at most max invocations run at
// once; a function with a reservation runs at most that many and they are
// kept out of the others' share (max minus every reservation), as Lambda's
// reserved concurrency does. Waiters (event source mappings, queued Event
// invocations) block on changed, which is closed and replaced whenever a
// slot frees or a reservation changes.
//
// A reservation can change while the function runs. What a slot is
// counted against is therefore derived from the counts at each acquire,
// not fixed when it was taken: a reserved function's slots up to its
// reservation are its own, every other slot (a function without a
// reservation, or one whose reservation was lowered or removed while it
// ran) counts against the unreserved share; and no slot is given while
// max are held (a reservation raised while the others held more than
// their new share takes effect as they end).
type limiter struct {
	mu       sync.Mutex
	max      int
	reserved map[string]int // function → ReservedConcurrentExecutions
	sumRes   int
	running  map[string]int // function → invocations holding a slot
	total    int            // slots held, by every function
	changed  chan struct{}
	// queued and queuedBytes count Event invocations accepted and not yet
	// running.
	queued, queuedBytes int

	m *hostMetrics
}

// slot is one acquired invocation slot.
type slot struct {
	fn string
}

func newLimiter(max int, m *hostMetrics) *limiter {
	return &limiter{max: max, reserved: map[string]int{}, running: map[string]int{}, changed: make(chan struct{}), m: m}
}

// unreservedInUseLocked is the slots counted against the unreserved share:
// all but each reserved function's slots up to its reservation.
func (l *limiter) unreservedInUseLocked() int {
	n := l.total
	for fn, r := range l.reserved {
		n -= min(l.running[fn], r)
	}
	return n
}

// tryLocked takes a slot for fn, or returns the throttle reason.
func (l *limiter) tryLocked(fn string) (slot, string) {
	s := slot{fn: fn}
	if r, ok := l.reserved[fn]; ok {
		if l.running[fn] >= r {
			return s, ReasonReservedLimit
		}
	} else if l.unreservedInUseLocked() >= l.max-l.sumRes {
		return s, ReasonConcurrentLimit
	}
	if l.total >= l.max {
		return s, ReasonConcurrentLimit
	}
	l.total++
	l.running[fn]++
	l.m.running.WithLabelValues(fn).Set(float64(l.running[fn]))
	return s, ""
}

// acquire takes a slot for fn. If none is free it fails with a
// ThrottleError, or, if wait is set, waits until one frees or ctx ends.
// Either way a throttle is counted once.
func (l *limiter) acquire(ctx context.Context, fn string, wait bool) (slot, error) {
	counted := false
	for {
		l.mu.Lock()
		s, reason := l.tryLocked(fn)
		ch := l.changed
		l.mu.Unlock()
		if reason == "" {
			return s, nil
		}
		if !counted {
			l.m.throttles.WithLabelValues(fn, reason).Inc()
			counted = true
		}
		if !wait {
			return s, &ThrottleError{Reason: reason}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

func (l *limiter) release(s slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.running[s.fn]--; l.running[s.fn] <= 0 {
		delete(l.running, s.fn)
		l.m.running.DeleteLabelValues(s.fn)
	} else {
		l.m.running.WithLabelValues(s.fn).Set(float64(l.running[s.fn]))
	}
	l.wakeLocked()
}

func (l *limiter) wakeLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// reservation returns fn's reserved concurrency.
func (l *limiter) reservation(fn string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.reserved[fn]
	return r, ok
}

// setReservation records fn's reservation (n < 0: none).
func (l *limiter) setReservation(fn string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.reserved[fn]; ok {
		l.sumRes -= old
		delete(l.reserved, fn)
	}
	if n >= 0 {
		l.reserved[fn] = n
		l.sumRes += n
	}
	l.wakeLocked()
}

// reservedExcept is the sum of every reservation but fn's.
func (l *limiter) reservedExcept(fn string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sumRes - l.reserved[fn]
}

// enqueue admits an Event invocation of n bytes into the queue of those
// waiting for a slot, or refuses it when the queue is full.
func (l *limiter) enqueue(fn string, n, maxCount, maxBytes int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.reserved[fn]; ok && r == 0 {
		// Lambda would keep retrying such events for up to 6 hours; eddy
		// refuses them, as nothing could ever run them.
		l.m.throttles.WithLabelValues(fn, ReasonReservedLimit).Inc()
		return &ThrottleError{Reason: ReasonReservedLimit}
	}
	if l.queued >= maxCount || l.queuedBytes+n > maxBytes {
		l.m.throttles.WithLabelValues(fn, ReasonConcurrentLimit).Inc()
		return &ThrottleError{Reason: ReasonConcurrentLimit}
	}
	l.queued++
	l.queuedBytes += n
	l.m.queued.Set(float64(l.queued))
	return nil
}

func (l *limiter) dequeue(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued--
	l.queuedBytes -= n
	l.m.queued.Set(float64(l.queued))
}

// cpuGate bounds the invocations executing guest code at once
// (Limits.MaxRunningGuests, by default one less than GOMAXPROCS, at least
// two, so that one guest spinning until its timeout does not stop every
// other function). Compiled
// guest code is native code Go's scheduler can not preempt: a guest in a
// loop keeps its processor until it returns or calls out, so as many
// spinning guests as processors stall every request of the server (issue
// 13 measured GetItem p50 at 1.7 ms → 189 ms; with 4 spinning guests on 2
// cores p50 was ~100 ms, with 1 it stayed at ~0.1 ms). An invocation holds
// a slot while its guest runs (_initialize and the handler) and gives it
// back while it waits in eddy.table_call or eddy.emit. Waiting for a slot
// inside the handler counts against its timeout; a guest blocked in a
// WASI call (poll_oneoff: a Go guest's time.Sleep) keeps its slot.
type cpuGate struct {
	slots chan struct{}
	gauge prometheus.Gauge
}

// cpuHold is one invocation's hold on the gate.
type cpuHold struct {
	g    *cpuGate
	held bool
}

func (c *cpuHold) acquire(ctx context.Context) error {
	if c.held {
		return nil
	}
	select {
	case c.g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.held = true
	c.g.gauge.Inc()
	return nil
}

func (c *cpuHold) release() {
	if c.held {
		c.held = false
		<-c.g.slots
		c.g.gauge.Dec()
	}
}

// hostMetrics are the function host's series, registered in one place.
type hostMetrics struct {
	running   *prometheus.GaugeVec
	throttles *prometheus.CounterVec
	queued    prometheus.Gauge
	memory    prometheus.Gauge
	guests    prometheus.Gauge
}

func newHostMetrics(reg prometheus.Registerer) (*hostMetrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &hostMetrics{
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eddy_function_concurrent_executions",
			Help: "Lambda's ConcurrentExecutions: invocations of the function holding a concurrency slot (instantiating or running).",
		}, []string{"function"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_function_throttles_total",
			Help: "Lambda's Throttles: invocations refused (429) or, for event source mappings and queued Event invocations, made to wait, by reason.",
		}, []string{"function", "reason"}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eddy_function_async_queued",
			Help: "Event invocations accepted and waiting for a concurrency slot.",
		}),
		guests: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eddy_function_running_guests",
			Help: "Invocations executing guest code (not waiting in a table call or emit), at most Limits.MaxRunningGuests.",
		}),
		memory: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eddy_function_wasm_memory_bytes",
			Help: "Linear memory of every function instance, running or idle, charged against Options.MaxTotalMemoryMB.",
		}),
	}
	for _, c := range []prometheus.Collector{m.running, m.throttles, m.queued, m.memory, m.guests} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("triggers: metrics: %w", err)
		}
	}
	return m, nil
}
