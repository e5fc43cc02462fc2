// Package triggers is eddy's function host: it stores user functions
// compiled to WebAssembly, runs them in a sandbox with wazero, and gives them
// the eddy-abi-v1 host functions (input/output, DynamoDB table calls, sinks,
// logs). The Lambda-compatible HTTP control plane is lambdaapi; the
// guest SDK is triggers/guest; the contract between host and guest is
// ABI.md in this directory.
//
// # What it owns
//
//   - Function configuration, published versions and aliases, and code
//     blobs, in Pebble under keys beginning with 0x20 (layout on keyPrefix in
//     store.go). Nothing else in the DB is touched.
//   - The compiled form of each module, compiled once per code hash and
//     cached on disk in DataDir/wasm-cache (in memory when DataDir is empty),
//     so a restart does not recompile.
//   - A pool of warm instances per function version.
//
// Dependency direction: lambdaapi -> triggers, and the server wires
// Tables (its DynamoDB dispatcher) and Sinks in through Options; triggers
// imports neither api nor store.
//
// # Invariants
//
//  1. An instance runs at most one invocation at a time. A pool hands an idle
//     instance to one caller or instantiates a new one; at most
//     Options.MaxIdleInstances stay warm per version. An invocation holds a
//     concurrency slot (limits.go) before it touches a pool: at most
//     Limits.MaxConcurrency run at once, a function with reserved
//     concurrency at most its reservation, the others share what the
//     reservations leave. Invoke fails with a ThrottleError when no slot is
//     free, InvokeWait (event source mappings) and queued Event invocations
//     wait for one. Guest code runs only with one of
//     Limits.MaxRunningGuests CPU slots (GOMAXPROCS-1, at least 2, by default), given
//     back while the guest waits in a table call or emit: compiled guest
//     code is not preemptible, and guests on every processor stall the
//     server's requests.
//  2. Any failure (timeout, trap, proc_exit, memory limit, host-function
//     panic) discards the instance. Only that invocation fails; the pool,
//     other functions and the server carry on. An instance whose memory
//     grew past RecyclePercent of its limit is discarded after a success.
//  3. A change to $LATEST (code or configuration) gives it a new RevisionID
//     and drops its pools: the next invocation instantiates with the new
//     configuration (environment variables are fixed per instance).
//     Published versions are immutable.
//  4. Every control-plane mutation is one synced Pebble batch, applied to
//     the in-memory map only if the batch commits.
//  5. Code blobs are content-addressed and shared; a blob is deleted when
//     no version of any function references it.
//
// # Sandbox
//
// Instances get no filesystem mounts, no arguments, no network (wazero has
// none to grant), the function's environment variables, crypto/rand as
// random_get, and the real wall and monotonic clocks (WithSysWalltime,
// WithSysNanotime: handlers stamp records and Go's scheduler needs a moving
// clock; the clocks reveal nothing beyond the time). stdout/stderr go to the
// invocation log (its tail is Result.Logs; Deps.Logs gets it line by
// line, stamped with the instance that names Lambda's log stream). Memory is limited per function by a custom
// experimental.MemoryAllocator that refuses memory.grow past MemorySize;
// the module's declared initial memory (read from its binary, wasmscan.go)
// must fit in MemorySize, checked whenever the code or MemorySize changes
// and again before instantiation, because wazero allocates it whole before
// any memory.grow. All instances together, running or idle, are held to
// Limits.MaxTotalMemoryMB: memory is charged as it grows, the initial
// memory before it is allocated, and idle instances are dropped when a new
// one needs room. On Linux an instance's memory is one mapping of
// MemorySize bytes reserved up front (MAP_NORESERVE: only touched pages
// are real) and grown in place, not a Go heap buffer copied as it doubles
// (memory_linux.go; issue 18). A module may import only the functions the host exports
// (wasi_snapshot_preview1, eddy-abi-v1), with their signatures; anything
// else is refused at CreateFunction, not at every cold start.
//
// # Stopping a runaway handler
//
// Every invocation runs under a context with the function's timeout (a cold
// start's _initialize under InitTimeout, default 10 s). wazero v1.12 can
// interrupt guest code only at checks compiled into it: its own
// (RuntimeConfig.WithCloseOnContextDone) is an indirect call to a
// trampoline at every loop header, which cost 5-10x on loop-heavy guest
// code such as JSON decoding, because Go's wasm backend turns nearly every
// loop and most control flow into wasm loops. Nothing else stops a pure
// CPU loop: neither Module.CloseWithExitCode from a watchdog nor context
// cancellation touches native code that never calls out.
//
// So eddy compiles its own check (guard.go): the module is rewritten to
// read one exported global at every loop header (a load and a branch) and
// trap when it is set, and a watchdog (context.AfterFunc on the
// invocation's context) sets it when the deadline passes or the
// invocation is canceled. The module is then compiled by a second runtime
// without wazero's checks. A module the rewrite does not understand
// (SIMD, threads, exceptions, tail calls, a start function) is compiled
// with wazero's guard: either way a runaway handler stops at its timeout
// (TestGuardStopsRunaways). Options.TrustedCode compiles without any
// check; a timeout is then reported only when the handler returns, and a
// true infinite loop leaks its goroutine. The compiled form of each mode
// is cached separately.
//
// Bulk memory operations are not interrupted. wazero v1.12 compiles
// memory.fill and memory.copy into a native loop of memmove calls with no
// termination check inside (internal/engine/wazevo/frontend/lower.go,
// OpcodeMiscMemoryFill), so one memory.fill over a large memory runs to its
// end past the timeout (issue 13 saw 19 s over 1 GiB under a 3 s timeout).
// The checks at loop headers stop a guest between two such operations, so
// the overrun is bounded by one operation over at most MemorySize bytes
// (and MaxTotalMemoryMB), which is now enforced from the first allocation.
//
// Rejected: (a) compiling both flavours and running the fast one, falling
// back to the guarded one: a runaway in the fast one is still unstoppable;
// (b) the interpreter engine: slower than guarded compiled code; (c) a
// watchdog closing the module: without compiled checks the guest never
// notices.
//
// # Benchmarks
//
// Measured on the 2-core AMD EPYC dev VM, Go 1.26, wazero v1.12.0:
//
//	go test ./triggers -run '^$' -bench Compile -benchtime 3x
//	go test ./triggers -run '^$' -bench 'Instantiate|Invoke'
//
//	                                          guard (default)   trusted
//	Compile, cold (3.4 MB Go module)               747 ms        736 ms
//	Compile, cached after restart (new runtime)    274 ms        277 ms
//	Instantiate (Go runtime start, _initialize)    2.8 ms        1.9 ms
//	Invoke, empty handler, warm instance           4.1 µs        2.4 µs
//	Invoke, 100-record stream batch (55 KB)       76.5 ms       13.5 ms
//
// The cached compile is dominated by decoding the 3.4 MB module and
// loading the cached machine code. The batch figure is the guest's
// encoding/json decoding 100 typed records: guest CPU, not host overhead.
//
// # Caveats
//
//   - Host functions run on the invocation's goroutine with its context;
//     Tables.Call and Sinks.Emit must honour ctx for the deadline to bound
//     them. That context derives from the one given to Invoke, so a caller
//     can hand per-invocation state to its Tables through context values
//     (package mappings passes a write buffer this way).
//   - Event (async) invocations run in the background with no retry or
//     dead-letter queue yet; they wait for a concurrency slot in a queue
//     bounded by Limits.MaxQueuedEvents and MaxQueuedEventBytes. Close
//     cancels and waits for them.
//   - Only modules built as reactors (-buildmode=c-shared, exporting
//     _initialize) get their runtime initialised; command modules with
//     _start are not supported.
package triggers
