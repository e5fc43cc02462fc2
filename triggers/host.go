package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// Host stores, compiles and runs functions. It is safe for concurrent use.
// Create with New; Close releases the runtime and every instance but not
// Deps.DB.
//
// Lock order: Host.mu before pool.mu, and Host.mu before limiter.mu and
// memBudget.mu (which take no other lock). None is held while guest code
// runs or while a module compiles.
type Host struct {
	deps Deps
	opts Options
	log  *slog.Logger   // opts.Logger, or a discarding one
	rt   wazero.Runtime // with wazero's guard unless TrustedCode
	// rtFast compiles without wazero's guard: modules carrying eddy's
	// (guard.go), and everything when TrustedCode (then it is rt).
	rtFast wazero.Runtime
	cache  wazero.CompilationCache

	mu       sync.Mutex
	closed   bool
	fns      map[string]*record
	compiled map[string]*compiledCode // by code hash
	// compiling serializes compilation per code hash: one CompileModule
	// per hash, never a duplicate handle to close (see compiledFor).
	compiling sync.Map // code hash → *sync.Mutex
	pools     map[poolKey]*pool

	limits *limiter   // concurrency (Options.MaxConcurrency, reservations)
	budget *memBudget // linear memory of all instances (Options.MaxTotalMemoryMB)
	cpu    *cpuGate   // invocations executing guest code (Options.MaxRunningGuests)

	async          sync.WaitGroup // Event invocations in flight
	droppedAtClose atomic.Int64   // queued Event invocations Close canceled
	// inflight counts every invocation between its closed check and its
	// end; Close waits for it before closing the runtime, which must never
	// happen under a running instantiation or call. stop cancels running
	// invocations when the host closes.
	inflight sync.WaitGroup
	stopCtx  context.Context
	stop     context.CancelFunc
}

// New opens a Host over deps.DB, loading the stored functions. Modules are
// compiled lazily on first use (and found in the compilation cache when
// opts.DataDir is set).
func New(deps Deps, opts Options) (*Host, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if deps.DB == nil {
		return nil, errors.New("triggers: Deps.DB is required")
	}
	fns, err := loadRecords(deps.DB)
	if err != nil {
		return nil, err
	}
	metrics, err := newHostMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	limits := newLimiter(opts.MaxConcurrency, metrics)
	for name, r := range fns {
		if r.ReservedConcurrency != nil {
			limits.setReservation(name, *r.ReservedConcurrency)
		}
	}
	var cache wazero.CompilationCache
	if opts.DataDir != "" {
		cache, err = wazero.NewCompilationCacheWithDir(filepath.Join(opts.DataDir, "wasm-cache"))
		if err != nil {
			return nil, fmt.Errorf("triggers: compilation cache: %w", err)
		}
	} else {
		cache = wazero.NewCompilationCache()
	}
	h := &Host{
		log:      lifecycle.Or(deps.Logger),
		deps:     deps,
		opts:     opts,
		cache:    cache,
		fns:      fns,
		compiled: map[string]*compiledCode{},
		pools:    map[poolKey]*pool{},
		limits:   limits,
		budget:   &memBudget{limit: uint64(opts.MaxTotalMemoryMB) << 20, gauge: metrics.memory},
		cpu:      &cpuGate{slots: make(chan struct{}, opts.MaxRunningGuests), gauge: metrics.guests},
	}
	h.stopCtx, h.stop = context.WithCancel(context.Background())
	ctx := context.Background()
	newRuntime := func(guard bool) (wazero.Runtime, error) {
		cfg := wazero.NewRuntimeConfig().
			WithCompilationCache(cache).
			WithCloseOnContextDone(guard).
			WithMemoryLimitPages(uint32(opts.MaxMemoryMB) * 16)
		rt := wazero.NewRuntimeWithConfig(ctx, cfg)
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("triggers: wasi: %w", err)
		}
		if err := instantiateABI(ctx, h, rt); err != nil {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("triggers: abi host module: %w", err)
		}
		return rt, nil
	}

	if h.rt, err = newRuntime(!opts.TrustedCode); err != nil {
		h.stop()
		return nil, err
	}
	h.rtFast = h.rt
	if !opts.TrustedCode {
		if h.rtFast, err = newRuntime(false); err != nil {
			_ = h.rt.Close(ctx)
			h.stop()
			return nil, err
		}
	}
	return h, nil
}

// Close cancels the invocations in flight and waits for them (Event and
// synchronous alike), then closes every instance and the runtime. Calls
// after Close fail with ErrClosed.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	h.stop()
	h.async.Wait()
	h.inflight.Wait()
	if n := h.droppedAtClose.Load(); n > 0 {
		h.log.Warn("queued asynchronous invocations dropped at close", "count", n)
	}
	h.mu.Lock()
	pools := h.pools
	h.pools = map[poolKey]*pool{}
	h.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
	ctx := context.Background()
	err := h.rt.Close(ctx)
	if h.rtFast != h.rt {
		if ferr := h.rtFast.Close(ctx); err == nil {
			err = ferr
		}
	}
	if cerr := h.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// FunctionARN returns arn:aws:lambda:<region>:<account>:function:<name>
// of the function key names, with ":<qualifier>" appended when qualifier is
// not empty.
func (h *Host) FunctionARN(key, qualifier string) string {
	a := h.opts.account()
	_, name := SplitFunctionKey(key)
	a.Region = h.RegionOf(key)
	return a.Function(name, qualifier)
}

// maxResponse is the longest response a handler may write: Lambda allows
// 100 bytes over its 6 MiB request limit.
func (h *Host) maxResponse() int { return h.opts.MaxPayload + 100 }

// Options returns the effective options (defaults applied).
func (h *Host) Options() Options { return h.opts }

// compiledCode is a compiled module and what scanModule read from its
// bytes.
type compiledCode struct {
	wazero.CompiledModule
	info *moduleInfo
	// rt is the runtime it was compiled by: h.rtFast for modules carrying
	// eddy's deadline guard (guard.go) and trusted code, h.rt (wazero's
	// guard) for the others.
	rt wazero.Runtime
	// guarded: the module carries eddy's guard global; its instances
	// start without _initialize, which runs under the watchdog.
	guarded bool
}

// compiledFor returns the compiled module for the code hash, compiling it
// (or fetching it from the compilation cache) on first use. code may be nil,
// in which case it is loaded from the DB.
func (h *Host) compiledFor(ctx context.Context, hash string, code []byte) (*compiledCode, error) {
	h.mu.Lock()
	cc, ok := h.compiled[hash]
	h.mu.Unlock()
	if ok {
		return cc, nil
	}
	// One compilation per hash at a time: concurrent first uses wait for
	// it instead of compiling twice and closing a duplicate handle of a
	// module wazero shares between them.
	lock, _ := h.compiling.LoadOrStore(hash, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	defer lock.(*sync.Mutex).Unlock()
	h.mu.Lock()
	cc, ok = h.compiled[hash]
	h.mu.Unlock()
	if ok {
		return cc, nil
	}
	if code == nil {
		var err error
		if code, err = loadCode(h.deps.DB, hash); err != nil {
			return nil, err
		}
	}
	info, err := scanModule(code)
	if err != nil {
		return nil, newErr(ErrInvalidParameter, "Could not compile WebAssembly module: %v", err)
	}
	cc = &compiledCode{info: info, rt: h.rt}
	if h.rtFast != h.rt { // the guard is on: eddy's where the rewrite applies
		if guarded, ierr := instrumentGuard(code); ierr == nil {
			if cm, cerr := h.rtFast.CompileModule(ctx, guarded); cerr == nil {
				cc.CompiledModule, cc.rt, cc.guarded = cm, h.rtFast, true
			}
		}
	}
	if cc.CompiledModule == nil {
		cm, err := h.rt.CompileModule(ctx, code)
		if err != nil {
			return nil, newErr(ErrInvalidParameter, "Could not compile WebAssembly module: %v", err)
		}
		cc.CompiledModule = cm
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.compiled[hash] = cc
	return cc, nil
}

// saveLocked persists r (and, if code is not nil, the code blob) in one
// synced batch, deleting the blobs of dropped that no function references.
// Caller holds h.mu.
func (h *Host) saveLocked(r *record, code []byte, dropped []string) error {
	return h.deps.DB.Write(true, func(b kv.Writer) error {
		if code != nil {
			if err := b.Set(codeKey(r.Latest.CodeHash), code); err != nil {
				return err
			}
		}
		if err := b.Set(fnKey(r.Latest.Name), mustJSON(r)); err != nil {
			return err
		}
		h.gcCodeLocked(b, dropped)
		return nil
	})
}

// gcCodeLocked deletes the code blobs in hashes no stored function uses and
// forgets their compiled modules. Caller holds h.mu and has already updated
// h.fns.
func (h *Host) gcCodeLocked(b kv.Writer, hashes []string) {
	for _, hs := range hashes {
		used := false
		for _, r := range h.fns {
			if r.codeRefs(hs) {
				used = true
				break
			}
		}
		if used {
			continue
		}
		_ = b.Delete(codeKey(hs))
		if cm, ok := h.compiled[hs]; ok {
			delete(h.compiled, hs)
			// Instances already running keep their own reference; the
			// compiled code is freed when the runtime closes.
			_ = cm
		}
	}
}

// dropIdle closes every idle instance of every function, returning their
// memory to the budget.
func (h *Host) dropIdle() {
	h.mu.Lock()
	pools := make([]*pool, 0, len(h.pools))
	for _, p := range h.pools {
		pools = append(pools, p)
	}
	h.mu.Unlock()
	for _, p := range pools {
		p.drain()
	}
}

// dropPoolsLocked closes the idle instances of every pool of the function.
// Instances in use are closed when they come back. Caller holds h.mu.
func (h *Host) dropPoolsLocked(name string) {
	for k, p := range h.pools {
		if k.name == name {
			delete(h.pools, k)
			p.close()
		}
	}
}
