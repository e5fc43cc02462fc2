package triggers

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// Result is the outcome of an invocation that reached the function. A
// handler error, timeout, trap or memory blow-up is a Result with
// FunctionError set, not a Go error: Go errors are for requests that never
// ran (unknown function, bad payload, closed host).
type Result struct {
	// Payload is the handler's JSON response, or for a function error
	// {"errorMessage":...,"errorType":...}.
	Payload []byte
	// FunctionError is "" on success, "Unhandled" otherwise (Lambda's
	// X-Amz-Function-Error).
	FunctionError string
	// Logs is the tail (Options.LogTail bytes) of the invocation's log:
	// START/END/REPORT lines, eddy.log output and the guest's stdout/stderr.
	Logs []byte
	// ExecutedVersion is the version that ran ("$LATEST", "3").
	ExecutedVersion string
	RequestID       string
	Duration        time.Duration
	// Role is the execution role the invocation ran as (its table calls'
	// principal; empty: none).
	Role string
}

// poolKey identifies one version's configuration; a change of $LATEST makes
// a new revision and so a new pool.
type poolKey struct {
	name, version, revision string
}

// pool holds the warm instances of one function version.
type pool struct {
	h        *Host
	cfg      *FunctionConfig
	compiled *compiledCode

	mu     sync.Mutex
	idle   []*instance
	closed bool
}

// instance is one instantiated module, used by one invocation at a time.
type instance struct {
	mod     api.Module
	handler api.Function
	guard   api.MutableGlobal // eddy's deadline guard (guard.go); nil without
	mem     *limitedMemory
	out     *instanceWriter
	env     env // names its log stream
	// indexBuf is the last invocation's event index buffer, reused by the
	// next (input_index): one allocation per instance instead of one per
	// batch (about 0.6 of each event's size; issue 18).
	indexBuf []byte
}

// maxKeptIndex bounds the index buffer an idle instance keeps.
const maxKeptIndex = 1 << 20

// instanceWriter is the guest's stdout/stderr: it appends to the log of the
// invocation the instance is running.
type instanceWriter struct{ cur *logBuffer }

func (w *instanceWriter) Write(p []byte) (int, error) {
	if w.cur != nil {
		w.cur.Write(p)
		w.cur.noteFatal(p)
	}
	return len(p), nil
}

// logBuffer keeps the last max bytes written to it, and the first line of a
// Go runtime crash ("panic: ...", "fatal error: ...") written by the guest,
// which the error message quotes even when the tail has lost it.
type logBuffer struct {
	max   int
	b     []byte
	fatal string
	line  []byte    // partial line seen by noteFatal
	lines *lineSink // Deps.Logs, or nil
}

func (l *logBuffer) noteFatal(p []byte) {
	if l.fatal != "" {
		return
	}
	// The Go runtime writes a crash line in pieces: assemble whole lines.
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(l.line) < 512 {
				l.line = append(l.line, p...)
			}
			return
		}
		line := string(append(l.line, p[:i]...))
		l.line, p = l.line[:0], p[i+1:]
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			l.fatal = strings.TrimSpace(line)
			return
		}
	}
}

func (l *logBuffer) Write(p []byte) {
	if l.lines != nil {
		l.lines.write(p)
	}
	l.b = append(l.b, p...)
	if len(l.b) > 2*l.max {
		l.b = append(l.b[:0], l.b[len(l.b)-l.max:]...)
	}
}

func (l *logBuffer) tail() []byte {
	if len(l.b) > l.max {
		return append([]byte(nil), l.b[len(l.b)-l.max:]...)
	}
	return append([]byte(nil), l.b...)
}

// printf writes whole lines of the host's own (START, END, REPORT, errors).
func (l *logBuffer) printf(format string, args ...any) {
	l.writeLine(fmt.Appendf(nil, format, args...))
}

// writeLine writes a line of the host's or of eddy.log: a guest's partial
// stdout line before it is ended first, so each stays its own log event. A
// newline is added if missing.
func (l *logBuffer) writeLine(p []byte) {
	if l.lines != nil {
		l.lines.flush()
	}
	l.Write(p)
	if len(p) == 0 || p[len(p)-1] != '\n' {
		l.Write([]byte{'\n'})
	}
}

func (p *pool) get() *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return inst
	}
	return nil
}

// put returns a healthy instance, or closes it if the pool is closed or full.
func (p *pool) put(inst *instance) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.h.opts.MaxIdleInstances {
		p.idle = append(p.idle, inst)
		inst = nil
	}
	p.mu.Unlock()
	if inst != nil {
		inst.close()
	}
}

// drain closes the idle instances, keeping the pool open.
func (p *pool) drain() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, inst := range idle {
		inst.close()
	}
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, inst := range idle {
		inst.close()
	}
}

func (inst *instance) close() { _ = inst.mod.Close(context.Background()) }

// instantiate creates a fresh instance: no filesystem, no args, the
// function's environment, real wall and monotonic clocks, crypto/rand, the
// memory limit and stdout/stderr into the invocation log. _initialize (the
// Go reactor's runtime and init functions) runs under ctx's deadline
// (Options.InitTimeout).
func (p *pool) instantiate(ctx context.Context, logs *logBuffer) (inst *instance, err error) {
	// A panic inside the runtime while instantiating fails this invocation,
	// not the server (seen once in wazero's NewFunction under concurrent
	// mapping lanes; cause not yet found).
	defer func() {
		if r := recover(); r != nil {
			lifecycle.LogPanic(p.h.log, "triggers: instantiating "+p.cfg.Name, r)
			inst, err = nil, fmt.Errorf("triggers: runtime panic while instantiating: %v", r)
		}
	}()
	return p.instantiateModule(ctx, logs)
}

func (p *pool) instantiateModule(ctx context.Context, logs *logBuffer) (*instance, error) {
	limit := uint64(p.cfg.MemoryMB) << 20
	// The declared minimum is allocated whole by wazero before any
	// memory.grow: it must fit in MemorySize (checked when the function
	// changed; again here for functions stored before that check) and is
	// charged to the runtime-wide budget before it is allocated.
	var minBytes uint64
	if info := p.compiled.info; info != nil && info.hasMem {
		minBytes = info.memMin << 16
	}
	if err := checkMemory(p.compiled.info, p.cfg.MemoryMB); err != nil {
		return nil, &instError{err: err, mem: &limitedMemory{refused: true}}
	}
	if !p.h.budget.take(minBytes) {
		// Idle instances hold memory too: give theirs back and retry.
		p.h.dropIdle()
		if !p.h.budget.take(minBytes) {
			return nil, &instError{err: errOverBudget, mem: &limitedMemory{refused: true, overBudget: true}}
		}
	}
	alloc := &memoryAllocator{limit: limit, budget: p.h.budget, precharged: minBytes}
	w := &instanceWriter{cur: logs}
	start := []string{"_initialize"}
	if p.compiled.guarded {
		start = nil // run below, under the watchdog
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(start...).
		WithStdout(w).WithStderr(w).
		WithSysWalltime().WithSysNanotime().
		WithRandSource(crand.Reader)
	for k, v := range p.cfg.Environment {
		if k != memorySizeEnv {
			mc = mc.WithEnv(k, v)
		}
	}
	// As Lambda does; the guest SDK paces its garbage collector by it.
	mc = mc.WithEnv(memorySizeEnv, strconv.Itoa(p.cfg.MemoryMB))
	mod, err := p.compiled.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, alloc), p.compiled.CompiledModule, mc)
	var guard api.MutableGlobal
	if err == nil && p.compiled.guarded {
		guard = guardOf(mod)
		if init := mod.ExportedFunction("_initialize"); init != nil && guard != nil {
			i := &instance{guard: guard}
			err = i.guarded(ctx, func() error { _, err := init.Call(ctx); return err })
			if err != nil {
				_ = mod.Close(context.Background())
			}
		} else if guard == nil {
			err = errors.New("triggers: guard global missing")
		}
	}
	alloc.mu.Lock()
	mem := alloc.last
	if alloc.precharged > 0 { // never allocated: return the charge
		p.h.budget.give(alloc.precharged)
		alloc.precharged = 0
	}
	alloc.mu.Unlock()
	if err != nil {
		if mem != nil {
			mem.Free()
		}
		return nil, &instError{err: err, mem: mem}
	}
	inst := &instance{mod: mod, handler: mod.ExportedFunction(p.cfg.Handler), guard: guard, mem: mem, out: w}
	if inst.handler == nil {
		inst.close()
		return nil, fmt.Errorf("handler %q is not exported", p.cfg.Handler)
	}
	if mem == nil {
		mem = &limitedMemory{limit: limit, budget: p.h.budget}
		inst.mem = mem
	}
	return inst, nil
}

// memorySizeEnv is the environment variable in which Lambda tells a
// function its MemorySize in MB (a reserved key: the host's value wins).
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
const memorySizeEnv = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

var errOverBudget = errors.New("eddy's memory for all functions (MaxTotalMemoryMB) is in use")

// instError is an instantiation failure with the memory it used, so OOM in
// _initialize is classified like OOM in the handler.
type instError struct {
	err error
	mem *limitedMemory
}

func (e *instError) Error() string { return e.err.Error() }
func (e *instError) Unwrap() error { return e.err }

// poolFor returns the pool of a resolved version, creating it (and compiling
// the module) on first use.
func (h *Host) poolFor(ctx context.Context, c *FunctionConfig) (*pool, error) {
	key := poolKey{c.Name, c.Version, c.RevisionID}
	h.mu.Lock()
	p, ok := h.pools[key]
	h.mu.Unlock()
	if ok {
		return p, nil
	}
	cm, err := h.compiledFor(ctx, c.CodeHash, nil)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if p, ok := h.pools[key]; ok {
		return p, nil
	}
	// Only pool the version if it is still current; otherwise the caller
	// uses a throwaway pool.
	p = &pool{h: h, cfg: c, compiled: cm}
	if r, ok := h.fns[c.Name]; ok {
		if cur := r.version(c.Version); cur != nil && cur.RevisionID == c.RevisionID {
			h.pools[key] = p
			return p, nil
		}
	}
	p.closed = true
	return p, nil
}

// Invoke runs the function version qualifier names (empty: $LATEST; a
// version number; an alias) with payload as its input, synchronously. The
// function's timeout bounds the handler; a cold start's instantiation is
// bounded by Options.InitTimeout. See Result for which failures are
// errors. When no concurrency slot is free (Options.MaxConcurrency, the
// function's reservation) it fails at once with a ThrottleError.
func (h *Host) Invoke(ctx context.Context, name, qualifier string, payload []byte) (*Result, error) {
	if err := h.checkPayload(payload); err != nil {
		return nil, err
	}
	return h.invokeChecked(ctx, name, qualifier, payload, false, nil)
}

// InvokeWait is Invoke for event source mappings: when no concurrency slot
// is free it waits for one (until ctx ends) instead of failing. Lambda
// retries a mapping's throttled invocations without counting them against
// MaximumRetryAttempts; waiting is that, without the polling.
func (h *Host) InvokeWait(ctx context.Context, name, qualifier string, payload []byte) (*Result, error) {
	if err := h.checkPayload(payload); err != nil {
		return nil, err
	}
	return h.invokeChecked(ctx, name, qualifier, payload, true, nil)
}

// InvokeBuilt is InvokeWait for a payload eddy built itself as JSON (a
// mapping's batch of records): only its size is checked. Checking that
// such a payload is JSON cost about 2 µs of CPU per record of a batch,
// for nothing.
func (h *Host) InvokeBuilt(ctx context.Context, name, qualifier string, payload []byte) (*Result, error) {
	if len(payload) > h.opts.MaxPayload {
		return h.InvokeWait(ctx, name, qualifier, payload) // fails as InvokeWait does
	}
	return h.invokeChecked(ctx, name, qualifier, payload, true, nil)
}

// invokeChecked is Invoke for a payload checkPayload has accepted. wait:
// wait for a concurrency slot instead of failing; started, if not nil, is
// called once the slot is held.
func (h *Host) invokeChecked(ctx context.Context, name, qualifier string, payload []byte, wait bool, started func()) (*Result, error) {
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	_, c, err := h.resolveLocked(name, qualifier)
	if err == nil {
		c = c.clone()
		h.inflight.Add(1) // under h.mu, after the closed check: Close waits for us
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer h.inflight.Done()
	// The function's table calls act in its own region, whoever invoked it
	// (an Event invocation has no request context at all).
	ctx = arn.WithRegion(ctx, h.RegionOf(c.Name))
	if c.Role != "" {
		ctx = arn.WithPrincipal(ctx, c.Role) // the function's table calls act as its role
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.stopCtx, cancel)()
	// The slot is taken before anything is instantiated: it bounds the
	// instances (and their memory) that run at once.
	s, err := h.limits.acquire(ctx, c.Name, wait)
	if err != nil {
		if h.stopCtx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	defer h.limits.release(s)
	if started != nil {
		started()
	}
	p, err := h.poolFor(ctx, c)
	if err == nil {
		var res *Result
		if res, err = p.invoke(ctx, payload); err == nil {
			return res, nil
		}
	}
	if h.stopCtx.Err() != nil {
		return nil, ErrClosed // canceled by Close
	}
	return nil, err
}

// InvokeAsync runs Invoke in the background (Lambda's Event invocation
// type) after checking the payload and resolving the function, in Invoke's
// order, so that a bad payload or a missing function is still reported (the
// background invocation's error would be dropped). The invocation waits
// for a concurrency slot in a queue bounded by Options.MaxQueuedEvents and
// MaxQueuedEventBytes; a full queue, or a function whose reserved
// concurrency is 0, fails with a ThrottleError. The result is dropped;
// Close waits for it.
func (h *Host) InvokeAsync(name, qualifier string, payload []byte) error {
	if err := h.checkPayload(payload); err != nil {
		return err
	}
	c, err := h.GetFunction(name, qualifier)
	if err != nil {
		return err
	}
	if err := h.limits.enqueue(c.Name, len(payload), h.opts.MaxQueuedEvents, h.opts.MaxQueuedEventBytes); err != nil {
		return err
	}
	h.async.Add(1)
	go func() {
		defer h.async.Done()
		queued := true
		dequeue := func() {
			if queued {
				queued = false
				h.limits.dequeue(len(payload))
			}
		}
		defer dequeue()
		// A function error is in the function's log; a failure to run
		// it at all (deleted meanwhile, host closing) only here.
		_, err := h.invokeChecked(context.Background(), name, qualifier, payload, true, dequeue)
		switch {
		case errors.Is(err, ErrClosed) && queued:
			h.droppedAtClose.Add(1) // Close logs them once
		case err != nil:
			h.log.Warn("asynchronous invocation not run", "function", name, "qualifier", qualifier, "err", err)
		}
	}()
	return nil
}

// checkPayload applies Invoke's size limit and JSON check to a payload
// (empty is allowed: it means {}).
func (h *Host) checkPayload(payload []byte) error {
	if len(payload) > h.opts.MaxPayload {
		return newErr(ErrTooLarge, "Request must be smaller than %d bytes for the InvokeFunction operation", h.opts.MaxPayload)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		var v any
		err := json.Unmarshal(payload, &v) // for the parser's detail: it fails as Valid did
		return newErr(ErrInvalidPayload, "Could not parse request body into json: Could not parse payload into json: %v", err)
	}
	return nil
}

func (p *pool) invoke(parent context.Context, payload []byte) (*Result, error) {
	// Guest code runs only with a CPU slot (cpuGate): taken before the
	// cold start or the handler, under the caller's context, so the wait
	// counts against neither InitTimeout nor the function's timeout.
	cpu := &cpuHold{g: p.h.cpu}
	if err := cpu.acquire(parent); err != nil {
		return nil, err
	}
	defer cpu.release()
	start := time.Now()
	reqID := newRevision()
	// A warm instance keeps its log stream; a cold start names a new one.
	inst := p.get()
	e := newEnv(start)
	if inst != nil {
		e = inst.env
	}
	logs := &logBuffer{max: p.h.opts.LogTail}
	if p.h.deps.Logs != nil {
		logs.lines = &lineSink{sink: p.h.deps.Logs, ev: LogEvent{Function: p.cfg.Name, Version: p.cfg.Version,
			Instance: e.id, InstanceStarted: e.started, RequestID: reqID}}
	}
	logs.printf("START RequestId: %s Version: %s\n", reqID, p.cfg.Version)
	res := &Result{ExecutedVersion: p.cfg.Version, RequestID: reqID, Role: p.cfg.Role}

	// initDur is the cold start's instantiation; Lambda reports it apart
	// from the handler's Duration, as "Init Duration" on cold starts only.
	var initDur time.Duration
	finish := func(memBytes uint64) (*Result, error) {
		res.Duration = time.Since(start)
		msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		ms := msOf(res.Duration - initDur)
		initNote := ""
		if initDur > 0 {
			initNote = fmt.Sprintf("Init Duration: %.2f ms\t", msOf(initDur))
		}
		logs.printf("END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t%s\n",
			reqID, reqID, ms, int(ms)+1, p.cfg.MemoryMB, (memBytes+(1<<20)-1)>>20, initNote)
		if logs.lines != nil {
			logs.lines.flush()
		}
		res.Logs = logs.tail()
		return res, nil
	}

	if inst == nil {
		var err error
		ictx, icancel := context.WithTimeout(parent, p.h.opts.InitTimeout)
		inst, err = p.instantiate(ictx, logs)
		icancel()
		initDur = max(time.Since(start), time.Microsecond)
		if err != nil {
			if perr := parent.Err(); perr != nil {
				return nil, perr
			}
			var ie *instError
			var mem *limitedMemory
			if errors.As(err, &ie) {
				mem = ie.mem
			}
			p.fail(res, logs, ictx, err, mem, "Runtime.InitError")
			return finish(0)
		}
		inst.env = e
	}
	// The function's timeout bounds the handler alone, as Lambda's does: a
	// cold start's instantiation had its own bound (InitTimeout).
	ctx, cancel := context.WithTimeout(parent, p.cfg.Timeout)
	defer cancel()
	inst.out.cur = logs
	inv := &invocation{h: p.h, input: payload, logs: logs, cpu: cpu, indexBuf: inst.indexBuf}
	var results []uint64
	err := inst.guarded(ctx, func() error {
		var err error
		results, err = inst.handler.Call(context.WithValue(ctx, invocationKey{}, inv))
		return err
	})
	inst.out.cur = nil
	if inst.indexBuf = nil; cap(inv.indexBuf) <= maxKeptIndex {
		inst.indexBuf = inv.indexBuf[:0]
	}
	memBytes := uint64(len(inst.mem.buf))
	if err != nil {
		inst.close()
		if perr := parent.Err(); perr != nil {
			return nil, perr
		}
		p.fail(res, logs, ctx, err, inst.mem, "")
		return finish(memBytes)
	}
	switch status := int32(results[0]); {
	case inv.tooLarge && (status == statusOK || status == statusError):
		res.FunctionError = "Unhandled"
		res.Payload = errorPayload(fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", p.h.maxResponse()),
			"Function.ResponseSizeTooLarge")
	case status == statusOK:
		res.Payload = inv.output
		if !inv.hasOut {
			res.Payload = []byte("null")
		}
	case status == statusError:
		res.FunctionError = "Unhandled"
		res.Payload = inv.output
		if !json.Valid(res.Payload) {
			res.Payload = errorPayload(string(inv.output), "HandlerError")
		}
	default:
		res.FunctionError = "Unhandled"
		res.Payload = errorPayload(fmt.Sprintf("RequestId: %s Error: handler returned unknown status %d", reqID, status), "Runtime.InvalidStatus")
	}
	if res.FunctionError != "" {
		// The error goes to the log too, one JSON line, as Lambda's Go
		// runtime writes it: a function's log shows why it failed.
		logs.printf("%s\n", bytes.TrimSpace(res.Payload))
	}
	if memBytes > uint64(p.cfg.MemoryMB)<<20*uint64(p.h.opts.RecyclePercent)/100 {
		inst.close()
	} else {
		p.put(inst)
	}
	return finish(memBytes)
}

// fail turns a wazero error into Lambda's function-error payload. The
// instance that produced it has already been discarded.
func (p *pool) fail(res *Result, logs *logBuffer, ctx context.Context, err error, mem *limitedMemory, phase string) {
	res.FunctionError = "Unhandled"
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	var msg, typ string
	switch {
	// Only the deadline is a timeout: an init context is already canceled
	// (released) when its failure is classified, and a canceled parent
	// never gets here.
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (isExit && exit.ExitCode() == sys.ExitCodeDeadlineExceeded):
		limit := p.cfg.Timeout
		if phase != "" {
			limit = p.h.opts.InitTimeout
		}
		msg = fmt.Sprintf("Task timed out after %.2f seconds", limit.Seconds())
		typ = "Sandbox.Timedout"
	case mem != nil && mem.overBudget:
		msg = fmt.Sprintf("Runtime exited with error: memory for all functions (%d MB) exhausted", p.h.opts.MaxTotalMemoryMB)
		typ = "Runtime.OutOfMemory"
	case mem != nil && mem.refused:
		msg = fmt.Sprintf("Runtime exited with error: memory limit of %d MB exceeded", p.cfg.MemoryMB)
		typ = "Runtime.OutOfMemory"
	case isExit:
		msg = fmt.Sprintf("Runtime exited with error: exit status %d", exit.ExitCode())
		typ = "Runtime.ExitError"
	default:
		msg = "Runtime trapped: " + firstLine(err.Error())
		typ = "Runtime.Trap"
	}
	if logs.fatal != "" && typ != "Sandbox.Timedout" {
		msg += " (" + logs.fatal + ")"
	}
	if phase != "" {
		typ = phase
		msg = "Init error: " + msg
	}
	// Lambda's own failures name the request in the payload's errorMessage
	// as in the log line.
	msg = fmt.Sprintf("RequestId: %s Error: %s", res.RequestID, msg)
	logs.printf("%s\n", msg)
	res.Payload = errorPayload(msg, typ)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func errorPayload(msg, typ string) []byte {
	return mustJSON(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, typ})
}
