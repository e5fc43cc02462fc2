package triggers

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/kv"
)

// Tables is what a guest's eddy.table_call reaches: the server's DynamoDB
// dispatcher. op is one of GetItem, PutItem, UpdateItem, DeleteItem, Query;
// req and the returned response are DynamoDB JSON 1.0 bodies exactly as on
// the wire. A DynamoDB-level failure is returned as an error implementing
// DynamoDBErrorJSON() []byte (see TableError). Call must be safe for
// concurrent use.
type Tables interface {
	Call(ctx context.Context, op string, req []byte) ([]byte, error)
}

// Sinks receives the documents a guest emits with eddy.emit. Emit must be
// safe for concurrent use; an error is reported to the guest.
type Sinks interface {
	Emit(ctx context.Context, sink string, doc []byte) error
}

// KV is the key space where a Host keeps function configurations, versions,
// aliases and code; keys are relative to the space (triggers/store.go has
// the layout). eddy passes its store's functions space
// (store.KeySpace for store.SpaceFunctions implements KV), so the Host
// reaches no other keys and triggers does not import the store.
type KV interface {
	// Get returns a copy of the value at key; ok is false when there is none.
	Get(key []byte) (value []byte, ok bool, err error)
	// Scan calls fn for each key in [lower, upper), in order; key and value
	// are valid only during the call.
	Scan(lower, upper []byte, fn func(key, value []byte) error) error
	// Write commits what fn writes through w in one batch, durably if sync.
	Write(sync bool, fn func(w kv.Writer) error) error
}

// Deps are what a Host works with, owned by its caller.
type Deps struct {
	// DB holds function configuration and code. Required. The Host does
	// not close it.
	DB KV
	// Tables serves eddy.table_call. Nil: every call fails with an
	// InternalServerError "no tables configured".
	Tables Tables
	// Sinks serves eddy.emit. Nil: every emit fails.
	Sinks Sinks
	// Logs receives every invocation's log line by line (see LogSink), for
	// Invoke, InvokeAsync and event source mappings alike. Nil: only
	// Result.Logs keeps the tail.
	Logs LogSink
	// Logger is where background failures are logged; nil discards.
	Logger *slog.Logger
	// Metrics is where the host registers its series (concurrent
	// executions, throttles, queued Event invocations, wasm memory); nil:
	// a private registry.
	Metrics prometheus.Registerer
}

// Options configures a Host. Zero values take the defaults documented on
// each field (applied by EnsureDefaults, called by New).
type Options struct {
	// DataDir, when set, holds the compiled-code cache in
	// DataDir/wasm-cache so a restart does not recompile. Empty means an
	// in-memory cache (in-memory servers and tests).
	DataDir string

	// Region and Account build ARNs. Defaults us-east-1 and 000000000000.
	Region  string
	Account string
	// HomeRegion is the region of the functions whose keys name none
	// (FunctionKey): the data directory's home region, fixed when it was
	// created, whatever Region a later start passes. Default Region.
	HomeRegion string

	// DefaultTimeout applies when a function does not set one. Default 3s.
	DefaultTimeout time.Duration
	// InitTimeout bounds a new instance's start (_initialize: the Go
	// runtime and init functions), separately from the handler's timeout,
	// as Lambda's 10 s init phase. Default 10s.
	InitTimeout time.Duration
	// MaxTimeout caps a function's timeout. Default 900s (Lambda's cap).
	MaxTimeout time.Duration
	// DefaultMemoryMB applies when a function does not set MemorySize.
	// Default 128.
	DefaultMemoryMB int
	// MaxMemoryMB caps MemorySize. Default 4096 (wasm32's 4 GiB).
	MaxMemoryMB int
	// MaxCodeSize caps a module's size in bytes. Default 50 MiB.
	MaxCodeSize int
	// MaxPayload caps the Invoke payload. Default 6 MiB. A response may be
	// 100 bytes longer, as in Lambda (6 MiB + 100); a longer one fails the
	// invocation with Function.ResponseSizeTooLarge.
	MaxPayload int
	// MaxIdleInstances is how many warm instances each function version
	// keeps for reuse. Default 4.
	MaxIdleInstances int
	// RecyclePercent: an instance whose linear memory has grown past this
	// percentage of its function's memory limit is discarded after the
	// invocation instead of returned to the pool. Default 75.
	RecyclePercent int
	// LogTail is how much of an invocation's log Invoke keeps (Lambda's
	// LogResult is the last 4 KB). Default 4096.
	LogTail int

	// Limits bound what functions can consume together.
	Limits

	// TrustedCode turns the runaway guard off: modules are compiled without
	// wazero's termination checks, so a handler in a pure CPU loop can not
	// be stopped and holds its goroutine forever. Only for code you trust
	// and benchmark comparisons. Default false (guard on). See doc.go.
	TrustedCode bool
}

// Limits bound what all functions together can consume on the machine.
// Lambda's defaults are per account and region (1000 concurrent executions,
// 100 of them unreservable); eddy's are for one machine (README, "Where
// eddy deliberately differs").
type Limits struct {
	// MaxConcurrency is the account-level concurrency: invocations that
	// hold an instance at once, across every function (Lambda's
	// ConcurrentExecutions quota). Over it, a synchronous Invoke answers
	// TooManyRequestsException (429), an Event invocation waits in a
	// bounded queue, an event source mapping waits. Default 64.
	MaxConcurrency int
	// MinUnreservedConcurrency is what PutFunctionConcurrency must leave to
	// the functions without a reservation (Lambda's
	// UnreservedConcurrentExecution minimum, 100 of 1000). Default 10,
	// at most MaxConcurrency.
	MinUnreservedConcurrency int
	// MaxQueuedEvents and MaxQueuedEventBytes bound the Event invocations
	// accepted (202) and waiting for a slot; past either, an Event Invoke
	// answers TooManyRequestsException. Defaults 1000 and 64 MiB.
	MaxQueuedEvents     int
	MaxQueuedEventBytes int
	// MaxTotalMemoryMB caps the linear memory of every instance together,
	// running or idle. An instance that would grow past it fails with
	// Runtime.OutOfMemory (idle instances are dropped first when a new one
	// needs room). Default 2048.
	MaxTotalMemoryMB int
	// MaxRunningGuests bounds the invocations executing guest code at once
	// (an invocation waiting in eddy.table_call or eddy.emit does not
	// count), so that guests in a loop can not take every processor from
	// the server's requests: compiled guest code is not preemptible (see
	// cpuGate in limits.go). Default GOMAXPROCS-1, at least 2: one guest
	// stuck in a loop until its timeout must not hold every other
	// function back.
	MaxRunningGuests int
}

// EnsureDefaults fills the zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.HomeRegion == "" {
		o.HomeRegion = o.Region
	}
	if o.Account == "" {
		o.Account = arn.DefaultAccount
	}
	if o.DefaultTimeout == 0 {
		o.DefaultTimeout = 3 * time.Second
	}
	if o.InitTimeout == 0 {
		o.InitTimeout = 10 * time.Second
	}
	if o.MaxTimeout == 0 {
		o.MaxTimeout = 900 * time.Second
	}
	if o.DefaultMemoryMB == 0 {
		o.DefaultMemoryMB = 128
	}
	if o.MaxMemoryMB == 0 {
		o.MaxMemoryMB = 4096
	}
	if o.MaxCodeSize == 0 {
		o.MaxCodeSize = 50 << 20
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 6 << 20
	}
	if o.MaxIdleInstances == 0 {
		o.MaxIdleInstances = 4
	}
	if o.RecyclePercent == 0 {
		o.RecyclePercent = 75
	}
	if o.LogTail == 0 {
		o.LogTail = 4096
	}
	if o.MaxConcurrency == 0 {
		o.MaxConcurrency = 64
	}
	if o.MinUnreservedConcurrency == 0 {
		o.MinUnreservedConcurrency = min(10, o.MaxConcurrency)
	}
	if o.MaxQueuedEvents == 0 {
		o.MaxQueuedEvents = 1000
	}
	if o.MaxQueuedEventBytes == 0 {
		o.MaxQueuedEventBytes = 64 << 20
	}
	if o.MaxTotalMemoryMB == 0 {
		o.MaxTotalMemoryMB = 2048
	}
	if o.MaxRunningGuests == 0 {
		o.MaxRunningGuests = max(2, runtime.GOMAXPROCS(0)-1)
	}
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.DefaultTimeout < 0 || o.MaxTimeout < o.DefaultTimeout {
		errs = append(errs, errors.New("triggers: need 0 < DefaultTimeout <= MaxTimeout"))
	}
	if o.DefaultMemoryMB < 1 || o.MaxMemoryMB < o.DefaultMemoryMB || o.MaxMemoryMB > 4096 {
		errs = append(errs, errors.New("triggers: need 0 < DefaultMemoryMB <= MaxMemoryMB <= 4096"))
	}
	if o.RecyclePercent < 1 || o.RecyclePercent > 100 {
		errs = append(errs, errors.New("triggers: RecyclePercent must be in 1..100"))
	}
	if o.MaxConcurrency < 1 || o.MinUnreservedConcurrency < 1 || o.MinUnreservedConcurrency > o.MaxConcurrency {
		errs = append(errs, errors.New("triggers: need 0 < MinUnreservedConcurrency <= MaxConcurrency"))
	}
	if o.MaxRunningGuests < 1 {
		errs = append(errs, errors.New("triggers: need MaxRunningGuests > 0"))
	}
	if o.MaxTotalMemoryMB < 1 || o.MaxQueuedEvents < 1 || o.MaxQueuedEventBytes < o.MaxPayload {
		errs = append(errs, errors.New("triggers: need MaxTotalMemoryMB > 0, MaxQueuedEvents > 0, MaxQueuedEventBytes >= MaxPayload"))
	}
	if o.MaxIdleInstances < 0 || o.MaxCodeSize < 0 || o.MaxPayload < 0 || o.LogTail < 0 {
		errs = append(errs, errors.New("triggers: limits must not be negative"))
	}
	return errors.Join(errs...)
}
