package server

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/cwlogs"
	"github.com/eddydb/eddy/internal/ddberr"
)

// HTTPLimits bound what clients can hold of the server: connections,
// time, requests running at once, and response bytes waiting for slow
// readers. Zero values mean the documented defaults; a negative value
// turns that limit off. Each limit has a metric (eddy_http_*).
//
// What the limits answer:
//
//   - over MaxConnections: a connection idle for a second, else the one
//     whose request body has stalled longest (a second or more), else any
//     idle one is closed for the new one; with none of those the new one
//     may only ask /healthz or /metrics (a reserve of 16), else it is
//     closed at once (connlimit.go).
//   - over MaxInFlight plus MaxQueued, or after QueueWait in the queue,
//     and when the response budget is spent: DynamoDB's
//     RequestLimitExceeded (HTTP 400) on the DynamoDB and Streams
//     protocols, Lambda's TooManyRequestsException (HTTP 429) on the
//     Lambda API and eddy's own routes. The SDKs retry both with backoff.
//   - a body or a response slower than the timeouts allow: the connection
//     is closed (there is no one left to answer).
type HTTPLimits struct {
	// MaxConnections caps the open client connections (keep-alive ones
	// included), beyond a reserve of 16 for /healthz and /metrics.
	// Default 4096, and at most the process's open-file limit less 256.
	MaxConnections int
	// HeaderTimeout bounds reading a request's headers. Default 10s.
	HeaderTimeout time.Duration
	// ReadTimeout bounds reading a request body: the body must be
	// complete within ReadTimeout plus its size at MinRate (a 16 MB
	// BatchWriteItem gets 10s + 64s at the defaults, a 100-byte GetItem
	// 10s). A body that falls behind is cut off and its connection
	// closed. Default 10s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response the same way: each write
	// must finish within WriteTimeout plus its size at MinRate, counted
	// from when it starts, so a handler that legitimately runs long (a
	// Lambda Invoke of a function with a 900 s timeout, a long Scan) is
	// not cut off, but a client that does not read its response is, and
	// the response's memory is released. Default 10s.
	WriteTimeout time.Duration
	// MinRate is the slowest a body or a response may move once past its
	// timeout's grace, in bytes per second. Default 256 KiB/s.
	MinRate int
	// IdleTimeout closes keep-alive connections idle this long. Default
	// 120s.
	IdleTimeout time.Duration
	// MaxInFlight caps the requests running at once (a DynamoDB request
	// counts from when its body has been read, so slow uploads hold no
	// slot; /healthz and /metrics do not count: they have their own 8;
	// Lambda Invokes, which wait for their function, have MaxInFlight of
	// their own, refused with TooManyRequestsException beyond it, so they
	// never starve the DynamoDB API). Default 128.
	MaxInFlight int
	// MaxQueued requests wait for a slot beyond MaxInFlight, each at
	// most QueueWait; more are refused at once, before their body is
	// read. Defaults 256 and 500ms.
	MaxQueued int
	QueueWait time.Duration
	// ResponseBudget caps the memory of large DynamoDB responses, across
	// all clients: an operation that can answer with megabytes
	// (BatchGetItem 17 MiB, TransactGetItems and ExecuteTransaction 5,
	// BatchExecuteStatement 11, Query, Scan, ExecuteStatement and Streams
	// GetRecords 2) reserves its most before its body is read, waiting in
	// the queue (MaxQueued, QueueWait) when it does not fit, and keeps
	// what its response uses until the response is written; any other
	// response of 64 KiB or more takes its size when written. What does
	// not fit is answered with RequestLimitExceeded: before it runs, or in
	// place of its response. So clients that do not read their responses
	// hold at most this much, and a burst of large reads waits or is
	// refused before it costs CPU and memory. At the default 64 MiB three
	// BatchGetItems run at once (a small one holds its reservation for
	// the milliseconds it runs), 32 Queries or Scans.
	ResponseBudget int64
}

// Defaults of HTTPLimits.
const (
	DefaultMaxConnections = 4096
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultReadTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultMinRate        = 256 << 10
	DefaultIdleTimeout    = 120 * time.Second
	DefaultMaxInFlight    = 128
	DefaultMaxQueued      = 256
	DefaultQueueWait      = 500 * time.Millisecond
	DefaultResponseBudget = 64 << 20
)

// ensureDefaults fills in zero fields.
func (l *HTTPLimits) ensureDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.HeaderTimeout, DefaultHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	def(&l.QueueWait, DefaultQueueWait)
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
		if n := openFileLimit(); n > 0 && n < uint64(l.MaxConnections)+256 {
			l.MaxConnections = max(int(n)-256, 64)
		}
	}
	if l.MinRate == 0 {
		l.MinRate = DefaultMinRate
	}
	if l.MaxInFlight == 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	if l.MaxQueued == 0 {
		l.MaxQueued = DefaultMaxQueued
	}
	if l.ResponseBudget == 0 {
		l.ResponseBudget = DefaultResponseBudget
	}
}

// httpMetrics are the limits' metrics, on the server's registry.
type httpMetrics struct {
	connsRejected prometheus.Counter
	connsEvicted  prometheus.Counter
	throttled     *prometheus.CounterVec // reason
	timeouts      *prometheus.CounterVec // direction: read, write
	collectors    []prometheus.Collector // every one of them, gauges included
}

func newHTTPMetrics(h *httpLimiter) *httpMetrics {
	m := &httpMetrics{
		connsRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "eddy_http_connections_refused_total",
			Help: "Connections closed on accept: the cap and its reserve were full, none idle."}),
		connsEvicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "eddy_http_connections_evicted_total",
			Help: "Idle connections closed at the cap to make room for a new one."}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_http_requests_throttled_total",
			Help: "Requests answered with the throttling error, by reason: in_flight (cap and queue full, or waited QueueWait), invocations (Lambda Invokes in flight at the cap), response_budget, connections (a reserve connection asked for something else than /healthz or /metrics), probes (the probes' own reserve was full)."},
			[]string{"reason"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_http_timeouts_total",
			Help: "Requests cut off because the client sent its body (read) or took its response (write) too slowly."},
			[]string{"direction"}),
	}
	for _, r := range []string{"in_flight", "invocations", "response_budget", "connections", "probes"} {
		m.throttled.WithLabelValues(r)
	}
	m.timeouts.WithLabelValues("read")
	m.timeouts.WithLabelValues("write")
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.collectors = append(m.collectors, m.connsRejected, m.connsEvicted, m.throttled, m.timeouts,
		gauge("eddy_http_connections_open", "Client connections open (the cap's and the reserve's).", func() float64 {
			cl := h.conns.Load()
			if cl == nil {
				return 0
			}
			open, res := cl.counts()
			return float64(open + res)
		}),
		gauge("eddy_http_requests_in_flight", "Requests holding an in-flight slot.", func() float64 { return float64(h.inFlight()) }),
		gauge("eddy_http_requests_queued", "Requests waiting for an in-flight slot.", func() float64 { return float64(h.queued.Load()) }),
		gauge("eddy_http_response_bytes_in_flight", "Bytes of the response budget taken: large responses reserved before they run or being written to clients.", func() float64 {
			return float64(h.respBytes.Load())
		}),
	)
	return m
}

// register puts the limits' metrics on the server's registry (once it
// exists: the limiter is built before, for api's Admit).
func (h *httpLimiter) register(reg prometheus.Registerer) {
	reg.MustRegister(h.m.collectors...)
}

// httpLimiter applies HTTPLimits to every request (handler) and
// connection (listen).
type httpLimiter struct {
	lim   HTTPLimits
	log   *slog.Logger
	m     *httpMetrics
	conns atomic.Pointer[connListener] // nil until Start, or when MaxConnections < 0

	slots   chan struct{} // in-flight semaphore; nil when MaxInFlight < 0
	queued  atomic.Int64
	probes  chan struct{} // /healthz and /metrics
	invokes chan struct{} // Lambda Invoke: MaxInFlight of its own; nil when off

	respBytes atomic.Int64 // large response bytes reserved or being written
	budgetMu  sync.Mutex
	freed     chan struct{} // closed (and replaced) when budget is given back to waiters
	waiters   atomic.Int64  // requests waiting for budget

	mu         sync.Mutex
	throttling atomic.Bool  // logged "throttling", not yet "ended"; set under mu
	lastRefuse atomic.Int64 // unix nanoseconds of the last refusal
	rejected   atomic.Int64 // since throttling began
}

func newHTTPLimiter(lim HTTPLimits, log *slog.Logger) *httpLimiter {
	h := &httpLimiter{lim: lim, log: log, probes: make(chan struct{}, 8)}
	if lim.MaxInFlight > 0 {
		h.slots = make(chan struct{}, lim.MaxInFlight)
		h.invokes = make(chan struct{}, lim.MaxInFlight)
	}
	h.m = newHTTPMetrics(h)
	return h
}

func (h *httpLimiter) inFlight() int {
	if h.slots == nil {
		return 0
	}
	return len(h.slots)
}

// saturated reports that a new request would be refused: every slot is
// taken and the queue is full.
func (h *httpLimiter) saturated() bool {
	return h.slots != nil && len(h.slots) == cap(h.slots) && h.queued.Load() >= int64(max(h.lim.MaxQueued, 0))
}

// acquire takes an in-flight slot, waiting in the queue at most
// QueueWait; false means refused.
func (h *httpLimiter) acquire(ctx context.Context) bool {
	if h.slots == nil {
		return true
	}
	select {
	case h.slots <- struct{}{}:
		h.calm()
		return true
	default:
	}
	if h.queued.Add(1) > int64(max(h.lim.MaxQueued, 0)) {
		h.queued.Add(-1)
		return false
	}
	defer h.queued.Add(-1)
	t := time.NewTimer(max(h.lim.QueueWait, 0))
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (h *httpLimiter) release() {
	if h.slots != nil {
		<-h.slots
	}
}

// admit is api.Deps.Admit: a slot for a DynamoDB request whose body has
// been read.
func (h *httpLimiter) admit(ctx context.Context) (func(), error) {
	if !h.acquire(ctx) {
		h.throttled("in_flight")
		return nil, throttleError()
	}
	return h.release, nil
}

// throttled counts a refusal and logs the first one of a spell.
func (h *httpLimiter) throttled(reason string) {
	h.m.throttled.WithLabelValues(reason).Inc()
	h.lastRefuse.Store(time.Now().UnixNano())
	h.rejected.Add(1)
	if h.throttling.Load() { // under attack: no lock per refusal
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.throttling.Load() {
		h.throttling.Store(true)
		h.log.Warn("http: throttling requests", "reason", reason, "in_flight", h.inFlight(),
			"max_in_flight", h.lim.MaxInFlight, "queued", h.queued.Load(), "response_bytes", h.respBytes.Load())
	}
}

// calm logs the end of a spell of throttling: a request found a free slot
// at once, and nothing was refused for calmAfter.
func (h *httpLimiter) calm() {
	if !h.throttling.Load() { // the common case: no lock on the hot path
		return
	}
	if time.Since(time.Unix(0, h.lastRefuse.Load())) < calmAfter {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.throttling.Load() {
		h.log.Info("http: throttling ended", "refused", h.rejected.Swap(0))
		h.throttling.Store(false)
	}
}

// calmAfter is how long without a refusal ends a spell of throttling (in
// the log: one line when it begins, one when it ends).
const calmAfter = 10 * time.Second

// throttleError is what DynamoDB answers when requests exceed the
// account's throughput: RequestLimitExceeded, HTTP 400, retried by the
// SDKs (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html:
// "Throughput exceeds the current throughput limit for your account";
// ThrottlingException is for control-plane calls made too rapidly).
func throttleError() *ddberr.Error {
	return ddberr.New(ddberr.KindRequestLimitExceeded, "")
}

// writeThrottle answers a refused request in its protocol's shape; when
// the body was not read, the connection is closed after the answer.
func writeThrottle(w http.ResponseWriter, r *http.Request, bodyUnread bool) {
	h := w.Header()
	if bodyUnread && r.ContentLength != 0 {
		h.Set("Connection", "close")
		// Nothing more is read: make net/http's discard of the rest of
		// the body fail at once rather than wait for a slow client.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	if isDynamoDB(r) {
		body := api.ErrorJSON(throttleError())
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
		return
	}
	writeLambdaThrottle(w, r, false, "CallerRateLimitExceeded")
}

// writeLambdaThrottle answers Lambda's TooManyRequestsException
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors):
// 429, Retry-After for retryAfterSeconds, Type, message and Reason.
func writeLambdaThrottle(w http.ResponseWriter, r *http.Request, bodyUnread bool, reason string) {
	h := w.Header()
	if bodyUnread && r.ContentLength != 0 {
		h.Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	body := []byte(`{"Type":"User","message":"Rate Exceeded.","Reason":"` + reason + `"}`)
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", "TooManyRequestsException")
	h.Set("Retry-After", "1")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}

// isDynamoDB reports a request package api answers: POST / that is not
// the CloudWatch Logs protocol (GET / is api's too, but cheap and bodiless).
func isDynamoDB(r *http.Request) bool {
	return r.URL.Path == "/" && !strings.HasPrefix(r.Header.Get("X-Amz-Target"), cwlogs.TargetPrefix)
}

// largeResponses are the operations whose response can be large, with
// the most each can return (DynamoDB's limits: a BatchGetItem 16 MB, a
// Query or Scan page 1 MB of items, a transaction's items 4 MB, a
// BatchExecuteStatement 25 reads of 400 KB, GetRecords 1 MB), plus room
// for the JSON around the items. Each reserves that much of the response
// budget before its body is read (or waits for it in the queue), and gives
// back what its response does not use once it is built, so a burst of
// them waits or is refused up front, before it costs CPU and memory,
// rather than after.
var largeResponses = map[string]int64{
	"DynamoDB_20120810.BatchGetItem":          17 << 20,
	"DynamoDB_20120810.Query":                 2 << 20,
	"DynamoDB_20120810.Scan":                  2 << 20,
	"DynamoDB_20120810.ExecuteStatement":      2 << 20,
	"DynamoDB_20120810.TransactGetItems":      5 << 20,
	"DynamoDB_20120810.ExecuteTransaction":    5 << 20,
	"DynamoDB_20120810.BatchExecuteStatement": 11 << 20,
	"DynamoDBStreams_20120810.GetRecords":     2 << 20,
}

// reserveWait takes n bytes of the response budget, waiting for them in
// the queue (MaxQueued, QueueWait) when they do not fit; false means
// refused.
func (h *httpLimiter) reserveWait(ctx context.Context, n int64) bool {
	if h.reserve(n) {
		return true
	}
	if h.queued.Add(1) > int64(max(h.lim.MaxQueued, 0)) {
		h.queued.Add(-1)
		return false
	}
	defer h.queued.Add(-1)
	h.waiters.Add(1)
	defer h.waiters.Add(-1)
	t := time.NewTimer(max(h.lim.QueueWait, 0))
	defer t.Stop()
	for {
		h.budgetMu.Lock()
		if h.freed == nil {
			h.freed = make(chan struct{})
		}
		freed := h.freed
		h.budgetMu.Unlock()
		if h.reserve(n) { // after taking freed: a release in between is not missed
			return true
		}
		select {
		case <-freed:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// unreserve gives n bytes of the response budget back and wakes the
// requests waiting for it.
func (h *httpLimiter) unreserve(n int64) {
	if n <= 0 {
		return
	}
	h.respBytes.Add(-n)
	if h.waiters.Load() == 0 {
		return
	}
	h.budgetMu.Lock()
	if h.freed != nil {
		close(h.freed)
		h.freed = nil
	}
	h.budgetMu.Unlock()
}

// reserve takes n bytes of the response budget; false when they do not
// fit beside what is reserved already.
func (h *httpLimiter) reserve(n int64) bool {
	for {
		cur := h.respBytes.Load()
		if cur+n > h.lim.ResponseBudget {
			return false
		}
		if h.respBytes.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// largeWrite is the smallest response write counted in ResponseBudget.
const largeWrite = 64 << 10

// handler wraps the server's mux with the limits.
func (h *httpLimiter) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*limitConn)
		lw := &limitWriter{ResponseWriter: w, h: h}
		// Writes net/http makes on its own before the handler's first
		// (100 Continue) get a deadline too, not a stale one.
		lw.extend(0)
		if p := r.URL.Path; p == "/healthz" || p == "/metrics" {
			if c != nil && c.reserve {
				w.Header().Set("Connection", "close") // give the reserve back
			}
			select {
			case h.probes <- struct{}{}:
				defer func() { <-h.probes }()
			default:
				h.throttled("probes")
				writeThrottle(w, r, true)
				return
			}
			next.ServeHTTP(lw, r)
			lw.finish()
			return
		}
		if c != nil && c.reserve {
			h.throttled("connections")
			writeThrottle(w, r, true)
			return
		}
		if r.ContentLength != 0 && h.lim.ReadTimeout > 0 {
			r.Body = h.bodyDeadline(w, r, c)
			if c != nil {
				defer c.bodySince.Store(0)
			}
		}
		if r.Method == http.MethodPost && isDynamoDB(r) {
			// Admission comes after the body (api calls admit): here only
			// refuse at once what would be refused anyway.
			if h.saturated() {
				h.throttled("in_flight")
				writeThrottle(w, r, true)
				return
			}
			lw.budgeted = h.lim.ResponseBudget > 0
			if n := largeResponses[r.Header.Get("X-Amz-Target")]; n > 0 && lw.budgeted {
				n = min(n, h.lim.ResponseBudget)
				if !h.reserveWait(r.Context(), n) {
					h.throttled("response_budget")
					writeThrottle(w, r, true)
					return
				}
				lw.reserved = n
			}
			lw.r = r
			next.ServeHTTP(lw, r)
			lw.finish()
			h.unreserve(lw.reserved)
			return
		}
		if isInvoke(r) {
			// A synchronous Invoke waits for its function (up to 900 s):
			// it has its own slots, so long invocations never starve the
			// DynamoDB API of its own.
			if h.invokes != nil {
				select {
				case h.invokes <- struct{}{}:
					defer func() { <-h.invokes }()
				default:
					h.throttled("invocations")
					writeLambdaThrottle(w, r, true, "ConcurrentInvocationLimitExceeded")
					return
				}
			}
			next.ServeHTTP(lw, r)
			lw.finish()
			return
		}
		if !h.acquire(r.Context()) {
			h.throttled("in_flight")
			writeThrottle(w, r, true)
			return
		}
		defer h.release()
		next.ServeHTTP(lw, r)
		lw.finish()
	})
}

// isInvoke reports Lambda's Invoke: POST /2015-03-31/functions/NAME/invocations.
func isInvoke(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	return ok && r.Method == http.MethodPost && strings.HasSuffix(rest, "/invocations") &&
		strings.Count(rest, "/") == 1
}

// connKey is the request context's key of its *limitConn (ConnContext).
type connKey struct{}

// bodyDeadline sets the body's read deadline (ReadTimeout plus its
// declared size at MinRate) and returns the body that moves it along as
// bytes arrive when the size is unknown, and counts a timeout. net/http
// clears the deadline itself when the body ends (it starts its background
// read of the connection then), so a handler that runs long after reading
// its body is not canceled by it.
func (h *httpLimiter) bodyDeadline(w http.ResponseWriter, r *http.Request, c *limitConn) io.ReadCloser {
	b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), h: h, conn: c, start: time.Now()}
	if c != nil {
		c.bodySince.Store(b.start.UnixNano()) // closed first at the cap once stalled
	}
	b.size = max(r.ContentLength, 0)
	b.deadline = b.allowed(b.size)
	if err := b.rc.SetReadDeadline(b.deadline); err != nil {
		return r.Body // the connection does not support deadlines (tests' recorders)
	}
	return b
}

type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	h        *httpLimiter
	conn     *limitConn // nil without a connection cap
	start    time.Time
	size     int64 // declared; 0 when unknown
	n        int64 // read so far
	deadline time.Time
	done     bool
}

// allowed is the deadline for n bytes: ReadTimeout plus n at MinRate.
func (b *deadlineBody) allowed(n int64) time.Time {
	return b.start.Add(b.h.lim.ReadTimeout + rateTime(n, b.h.lim.MinRate))
}

func rateTime(n int64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == nil && b.size == 0 && !b.done:
		// Unknown size: the allowance grows with what has arrived.
		if d := b.allowed(b.n); d.Sub(b.deadline) > time.Second {
			b.deadline = d
			_ = b.rc.SetReadDeadline(d) // supported: bodyDeadline checked
		}
	case err == io.EOF:
		b.done = true
		if b.conn != nil {
			b.conn.bodySince.Store(0)
		}
	case err != nil && !b.done && errors.Is(err, os.ErrDeadlineExceeded):
		b.done = true
		b.h.m.timeouts.WithLabelValues("read").Inc()
	}
	return n, err
}

// limitWriter applies the write timeout to each write and, on DynamoDB
// requests (budgeted), ResponseBudget to large ones: it holds the status
// back until the body comes, so a response over the budget can still be
// replaced by the throttling error.
type limitWriter struct {
	http.ResponseWriter
	h           *httpLimiter
	r           *http.Request
	budgeted    bool
	reserved    int64 // of the response budget, given back by the handler wrapper
	status      int   // held back
	wroteHeader bool
}

// Unwrap lets http.ResponseController reach the connection.
func (w *limitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *limitWriter) WriteHeader(code int) {
	if w.wroteHeader || w.status != 0 {
		return
	}
	if code < 200 { // informational: the real status follows
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.budgeted {
		w.status = code
		return
	}
	w.writeHeader(code, 0)
}

func (w *limitWriter) writeHeader(code, size int) {
	w.wroteHeader = true
	w.extend(size)
	w.ResponseWriter.WriteHeader(code)
}

// extend sets the write deadline for size more bytes from now.
func (w *limitWriter) extend(size int) {
	if w.h.lim.WriteTimeout <= 0 {
		return
	}
	d := time.Now().Add(w.h.lim.WriteTimeout + rateTime(int64(size), w.h.lim.MinRate))
	_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(d) // unsupported only on recorders
}

// errOverBudget is the handler's write error when its response was
// replaced by the throttling error.
var errOverBudget = errors.New("server: response over the response budget")

func (w *limitWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if w.budgeted {
			need := int64(len(p))
			if need < largeWrite {
				need = 0
			}
			switch {
			case need > w.reserved && !w.h.reserve(need-w.reserved):
				w.h.throttled("response_budget")
				w.Header().Del("Content-Encoding")
				writeThrottle(w.ResponseWriter, w.r, false)
				w.wroteHeader = true
				return 0, errOverBudget
			case need > w.reserved:
				w.reserved = need
			default: // give back what this response does not use
				w.h.unreserve(w.reserved - need)
				w.reserved = need
			}
		}
		w.writeHeader(cmpStatus(w.status), len(p))
	} else {
		w.extend(len(p))
	}
	n, err := w.ResponseWriter.Write(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		w.h.m.timeouts.WithLabelValues("write").Inc()
	}
	return n, err
}

// finish writes a status held back by a handler that wrote no body.
func (w *limitWriter) finish() {
	if !w.wroteHeader && w.status != 0 {
		w.writeHeader(w.status, 0)
	}
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// validate reports every limit that cannot work.
func (l HTTPLimits) validate() error {
	var errs []error
	if l.MaxConnections > 0 && l.MaxConnections < 2 {
		errs = append(errs, fmt.Errorf("server: HTTP MaxConnections %d: want at least 2 (or negative for no cap)", l.MaxConnections))
	}
	return errors.Join(errs...)
}
