package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Config is what a Server runs over. Zero values mean the documented
// defaults.
type Config struct {
	// Region and AccountID appear in ARNs. Defaults "us-east-1" and
	// "000000000000".
	Region    string
	AccountID string
}

// Deps are what a Server serves, owned by its caller.
type Deps struct {
	// DB is the store the DynamoDB operations read and write. Required.
	DB *store.DB
	// Log is the change log the Streams operations read. Required.
	Log *streams.Log
	// Logger is where a handler's recovered panic is logged (with its
	// stack); nil discards.
	Logger *slog.Logger
	// Admit, when set, is called for each DynamoDB or Streams request
	// over HTTP once its body has been read and before its operation runs:
	// an error is answered as is (the server's RequestLimitExceeded when
	// too many requests are in flight), release is called when the
	// response has been written. Reading a body is bounded by the server's
	// read deadline, not by admission, so a client that sends its body
	// slowly holds no slot. Nil admits everything. Call (in process) does
	// not use it.
	Admit func(ctx context.Context) (release func(), err error)
	// Usage, when set, receives what each successful request consumed and
	// returned, per table (see Usage), over HTTP and in process. Nil
	// meters nothing.
	Usage func(*Usage)
	// Policies, when set, authorizes every DynamoDB and Streams operation
	// (over HTTP and in process) with the IAM policies of the principal it
	// acts as (authorize.go). Nil allows everything.
	Policies Policies
	// Principal maps the access key ID of a request's SigV4 credential
	// scope to the ARN of the principal it acts as ("": anonymous). Nil:
	// every HTTP request is anonymous. Verified credentials (the users
	// store) connect here; tests map keys to users directly.
	Principal func(accessKeyID string) string
	// Denied, when set, hears of every request the policies refused (the
	// server counts them in metrics and logs them once per principal and
	// minute).
	Denied func(principal, action, resource string)
	// Capacity, when set, admits and charges reads (GetItem, BatchGetItem,
	// Query, Scan)
	// against their table's or index's capacity; writes go through it as
	// the store's admitter (store.DB.SetAdmitter), which the caller
	// installs. Nil: reads are never throttled.
	Capacity *capacity.Limiter
	// Ops are DynamoDB operations served by other packages (export and
	// import: package dataport), by operation name, in the request's
	// region; decode reads the body as every operation's is read
	// (SerializationException for a bad one).
	Ops map[string]func(ctx context.Context, region string, decode func(v any) error) (any, error)
	// Global, when set, is the replication of global tables (package
	// global): UpdateTable's ReplicaUpdates and DescribeTable's Replicas.
	// Nil: ReplicaUpdates are refused (replicas.go).
	Global GlobalTables
}

// opFunc handles one DynamoDB operation. It returns the response body: a
// rawJSON is sent as is, anything else through encoding/json.
type opFunc func(ctx context.Context, c *call) (any, error)

// rawJSON is a response body built by hand on hot paths.
type rawJSON []byte

// Server speaks the DynamoDB and DynamoDB Streams JSON protocols over a
// store and its change log. It is an http.Handler for POST / (and DynamoDB's
// answers to GET / and other methods); Call runs an operation in process.
// It opens, starts and closes nothing: package internal/server owns the
// listener and the lifecycle. Safe for concurrent use.
type Server struct {
	opts   Config
	db     *store.DB
	log    *streams.Log
	logger *slog.Logger
	admit  func(ctx context.Context) (release func(), err error)
	cap    *capacity.Limiter // nil: no read is throttled
	usage  func(*Usage)
	ops    map[string]opFunc

	policies    Policies
	principalOf func(accessKeyID string) string
	denied      func(principal, action, resource string)

	txTokens tokenLocks // TransactWriteItems ClientRequestToken serialization

	// settingsMu serializes the read-modify-write of a resource policy's
	// revision (put, delete, and CreateTable's ResourcePolicy).
	settingsMu sync.Mutex

	global GlobalTables // nil: no global tables
}

// New builds the protocol handlers over cfg.DB and cfg.Log.
func New(deps Deps, cfg Config) *Server {
	cfg.Region, cfg.AccountID = cmp.Or(cfg.Region, arn.DefaultRegion), cmp.Or(cfg.AccountID, arn.DefaultAccount)
	s := &Server{opts: cfg, db: deps.DB, log: deps.Log, logger: lifecycle.Or(deps.Logger), admit: deps.Admit, cap: deps.Capacity, usage: deps.Usage,
		policies: deps.Policies, principalOf: deps.Principal, denied: deps.Denied, global: deps.Global}
	s.ops = map[string]opFunc{}
	s.registerTableOps()
	s.registerBackupOps()
	s.registerItemOps()
	s.registerReadOps()
	s.registerStreamOps()
	s.registerBatchOps()
	s.registerTransactOps()
	s.registerTTLOps()
	s.registerGlobalLegacyOps()
	s.registerPartiQLOps()
	s.registerSettingsOps()
	for name, f := range deps.Ops {
		s.ops[name] = func(ctx context.Context, c *call) (any, error) { return f(ctx, c.region, c.decode) }
	}
	return s
}

// ServeHTTP answers one request: a DynamoDB or Streams operation on POST
// (X-Amz-Target), DynamoDB's health text on GET /, a bare XML 404 otherwise.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serveRPC(w, r) }

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Amzn-Requestid"] = []string{newRequestID()}
	if r.Method != http.MethodPost {
		if r.URL.Path == "/" && r.Method == http.MethodGet {
			// DynamoDB answers a GET / with a health text; so do we.
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("healthy: eddy\n"))
			return
		}
		// DynamoDB answers other methods with a bare XML 404.
		body := []byte("<UnknownOperationException/>\n")
		w.Header()["X-Amz-Crc32"] = []string{strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)}
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	var op string
	switch {
	case strings.HasPrefix(target, targetDynamoDB):
		op = target[len(targetDynamoDB):]
	case strings.HasPrefix(target, targetStreams):
		op = "Streams." + target[len(targetStreams):]
	}
	f := s.ops[op]
	if f == nil {
		writeError(w, ddberr.New(ddberr.KindUnknownOperation, ""))
		return
	}
	scope, err := arn.ParseScope(r)
	if err != nil {
		writeError(w, ddberr.New(ddberr.KindIncompleteSignature, "%s", err.Error()))
		return
	}
	body, err := readBody(r)
	if err == nil {
		body, err = inflate(r, body)
	}
	if errors.Is(err, errBodyTooLarge) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if s.admit != nil {
		release, err := s.admit(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		defer release()
	}
	// The identity the server's authenticator verified (or, running open,
	// the anonymous one with the key the signature claims).
	id, _ := auth.FromContext(r.Context())
	c := &call{op: op, body: body, principal: cmp.Or(id.AccessKeyID, scope.AccessKeyID), identity: id,
		region: cmp.Or(scope.Region, s.opts.Region), host: r.Host, metered: s.usage != nil}
	switch {
	case !id.Anonymous && id.ARN != "": // verified: its user's policies
		c.principalARN, c.sourceIP = id.ARN, sourceIP(r.RemoteAddr)
	case s.principalOf != nil && c.principal != "":
		c.principalARN, c.sourceIP = s.principalOf(c.principal), sourceIP(r.RemoteAddr)
	}
	start := time.Now()
	resp, err := s.dispatch(r.Context(), f, c)
	if err != nil {
		writeError(w, err)
		return
	}
	s.report(c, start)
	writeBody(w, r, http.StatusOK, resp)
	c.recycle(resp)
}

// dispatch runs a handler and renders its response body; a panic in a
// handler is logged with its stack and becomes an InternalServerError
// instead of a dropped connection.
func (s *Server) dispatch(ctx context.Context, f opFunc, c *call) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			lifecycle.LogPanic(s.logger, "api: "+c.op, p)
			err = ddberr.New(ddberr.KindInternal, "")
			body = nil
		}
	}()
	if err := s.authorize(c); err != nil {
		return nil, err
	}
	out, err := f(ctx, c)
	if err != nil {
		return nil, err
	}
	switch o := out.(type) {
	case rawJSON:
		return o, nil
	case nil:
		return []byte("{}"), nil
	}
	return json.Marshal(out)
}

// Call is CallIn in the server's default region.
func (s *Server) Call(ctx context.Context, op string, req []byte, principal string) ([]byte, error) {
	return s.CallIn(ctx, "", op, req, principal)
}

// CallIn runs a DynamoDB operation in process, in region (empty: the
// server's default), with the same validation and semantics as over HTTP:
// trigger functions' table calls use it, in their function's region. The
// error, if any, is a *ddberr.Error.
func (s *Server) CallIn(ctx context.Context, region, op string, req []byte, principal string) ([]byte, error) {
	f := s.ops[op]
	if f == nil || strings.HasPrefix(op, "Streams.") {
		return nil, ddberr.New(ddberr.KindUnknownOperation, "")
	}
	c := &call{op: op, body: req, principal: principal, region: cmp.Or(region, s.opts.Region), principalARN: arn.PrincipalFrom(ctx), metered: s.usage != nil}
	start := time.Now()
	resp, err := s.dispatch(ctx, f, c)
	if err == nil {
		s.report(c, start)
	}
	return resp, err
}

// ErrorJSON renders err in DynamoDB's error JSON ({"__type":...,"message":...}),
// the body an HTTP client would get; an error that is not a *ddberr.Error
// renders as InternalServerError.
func ErrorJSON(err error) []byte { return errorBody(ddberr.As(err)) }
