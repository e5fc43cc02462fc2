package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/console"
	"github.com/eddydb/eddy/cwlogs"
	"github.com/eddydb/eddy/lambdaapi"
)

// isLambda reports whether path is one of the Lambda API's.
func isLambda(p string) bool {
	return strings.HasPrefix(p, "/2015-03-31/") || strings.HasPrefix(p, lambdaapi.ConcurrencyPrefix2017) || strings.HasPrefix(p, lambdaapi.ConcurrencyPrefix2019)
}

// maxRPCBody is the largest body read to check its hash for the other
// routes: DynamoDB's 16 MB request limit (api answers a larger one 413).
const maxRPCBody = 16 << 20

// maxSignedBody is the largest body the authenticator reads to check its
// hash: Lambda's CreateFunction request (lambdaapi's limit). Each protocol
// still applies its own, smaller, limit.
const maxSignedBody = 70 << 20

// authenticator is the middleware in front of the mux: it verifies every
// request's SigV4 signature (DynamoDB, Streams, Lambda, CloudWatch Logs,
// /eddy/*, /metrics unless public) and puts the identity in the request's
// context; /healthz, DynamoDB's GET / health text and the console's static
// files stay open. With no credentials configured it verifies nothing and
// every request is anonymous.
type authenticator struct {
	verifier      atomic.Pointer[auth.Verifier] // nil: open
	metricsPublic bool
	log           *slog.Logger
	denied        *prometheus.CounterVec
	forbidden     *prometheus.CounterVec // refused by IAM policies (authorized)

	mu     sync.Mutex
	logged map[string]time.Time // access key ("" unsigned), or "iam " + principal → last denial logged
}

func newAuthenticator(v *auth.Verifier, metricsPublic bool, log *slog.Logger) *authenticator {
	a := &authenticator{metricsPublic: metricsPublic, log: log, logged: map[string]time.Time{},
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_auth_denied_total",
			Help: "Requests refused because they were not authenticated, by the exception answered (UnrecognizedClientException, InvalidSignatureException, ...)."},
			[]string{"code"}),
		forbidden: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_access_denied_total",
			Help: "Requests refused by IAM policies (AccessDeniedException), by action."},
			[]string{"action"})}
	a.verifier.Store(v)
	return a
}

func (a *authenticator) open(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/healthz":
		return true
	case p == "/" && r.Method == http.MethodGet: // DynamoDB's health text
		return true
	case p == "/console" || strings.HasPrefix(p, console.Prefix): // static files; the data comes through the APIs
		return true
	case p == "/metrics":
		return a.metricsPublic
	}
	return false
}

func (a *authenticator) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := a.verifier.Load()
		if v == nil {
			next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), auth.Anonymous(r))))
			return
		}
		if a.open(r) {
			next.ServeHTTP(w, r)
			return
		}
		// Everything but the body first: a request that cannot be
		// authentic (no or an unknown key, a stale date) is not buffered.
		err := v.Precheck(r)
		var body []byte
		if err == nil && auth.NeedsBody(r) && r.Body != nil && r.Body != http.NoBody {
			limit := int64(maxSignedBody)
			if !isLambda(r.URL.Path) {
				limit = maxRPCBody
			}
			body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				return // the client went away or was too slow; the limits log it
			}
			if int64(len(body)) > limit {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		var id auth.Identity
		if err == nil {
			id, err = v.Verify(r, body)
		}
		if err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) {
				ae = &auth.Error{Code: auth.InvalidSignature, Message: err.Error()}
			}
			if body == nil && r.ContentLength != 0 {
				// Refused from its headers: the body stays unread, and the
				// connection is not kept for another request (else the
				// server would first read up to 256 KB of it).
				w.Header().Set("Connection", "close")
			}
			a.deny(w, r, ae)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
	})
}

// deny answers e in the shape of the surface r was for: DynamoDB's JSON
// 1.0 error (400), CloudWatch Logs' JSON 1.1 error (400), Lambda's REST
// error (403 with X-Amzn-Errortype), a JSON error for eddy's own routes
// (403).
func (a *authenticator) deny(w http.ResponseWriter, r *http.Request, e *auth.Error) {
	a.denied.WithLabelValues(e.Code).Inc()
	a.logDenial(r, e)
	h := w.Header()
	p := r.URL.Path
	switch {
	case isLambda(p):
		// Lambda's front end: 403, the type in X-Amzn-Errortype, the
		// message in the body (as recorded in bref issue 1250 and
		// iamlive issue 58).
		msg := e.Message
		if e.Code == auth.MissingAuthenticationToken {
			msg = "Missing Authentication Token"
		}
		h.Set("X-Amzn-Errortype", e.Code)
		writeAuthJSON(w, http.StatusForbidden, "application/json", map[string]string{"message": msg})
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), cwlogs.TargetPrefix):
		writeAuthJSON(w, http.StatusBadRequest, "application/x-amz-json-1.1", map[string]string{"__type": e.Code, "message": e.Message})
	case p == "/" || p == "":
		// DynamoDB and DynamoDB Streams: the coral namespace and 400, as
		// ddberr's MissingAuthenticationTokenException and
		// IncompleteSignatureException are.
		h.Set("X-Amzn-Requestid", newRequestID())
		writeAuthJSON(w, http.StatusBadRequest, "application/x-amz-json-1.0", map[string]string{"__type": "com.amazon.coral.service#" + e.Code, "message": e.Message})
	default:
		writeAuthJSON(w, http.StatusForbidden, "application/json", map[string]string{"__type": e.Code, "message": e.Message})
	}
}

func writeAuthJSON(w http.ResponseWriter, status int, ctype string, v map[string]string) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logDenial logs a denied request once per access key and minute.
func (a *authenticator) logDenial(r *http.Request, e *auth.Error) {
	now := time.Now()
	a.mu.Lock()
	last, seen := a.logged[e.AccessKeyID]
	log := !seen || now.Sub(last) >= time.Minute
	if log {
		if len(a.logged) >= 10000 {
			clear(a.logged)
		}
		a.logged[e.AccessKeyID] = now
	}
	a.mu.Unlock()
	if log {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a.log.Warn("request denied: not authenticated (logged once a minute per access key)",
			"access_key", e.AccessKeyID, "code", e.Code, "reason", e.Message, "remote", host, "path", r.URL.Path)
	}
}

// authorized is api's Denied hook: a request the principal's policies
// refused, counted by action and logged once per principal and minute.
func (a *authenticator) authorized(principal, action, resource string) {
	a.forbidden.WithLabelValues(action).Inc()
	if a.once("iam " + principal) {
		a.log.Warn("request denied: not authorized (logged once a minute per principal)",
			"principal", principal, "action", action, "resource", resource)
	}
}

// once reports whether key's denial is to be logged now: its first, or a
// minute after the last one logged.
func (a *authenticator) once(key string) bool {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if last, seen := a.logged[key]; seen && now.Sub(last) < time.Minute {
		return false
	}
	if len(a.logged) >= 10000 {
		clear(a.logged)
	}
	a.logged[key] = now
	return true
}

// adminActions logs every change made through eddy's own admin API
// (/eddy/..., any method but GET and HEAD) with the principal that made it,
// after it was answered: who redrove or purged dead letters, added a sink,
// enabled a relay, changed a user or a policy.
func (a *authenticator) adminActions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/eddy/") || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		id, _ := auth.FromContext(r.Context())
		who := cmp.Or(id.ARN, id.AccessKeyID, "anonymous")
		a.log.Info("admin action", "principal", who, "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

// statusRecorder keeps the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// newRequestID is a request ID for an error answered before api sees the
// request.
func newRequestID() string {
	return fmt.Sprintf("EDDYAUTH%044d", time.Now().UnixNano())
}

// loopbackOnly reports whether addr (host:port) listens on loopback
// addresses only.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openAuth builds the authenticator from the credentials (refusing to run
// open beyond loopback) and loads the TLS certificate.
func (s *Server) openAuth(log *slog.Logger) error {
	keys, err := s.loadKeys()
	if err != nil {
		return err
	}
	var v *auth.Verifier
	switch {
	case keys.Len() > 0:
		v = auth.NewVerifier(keys, auth.Options{})
		log.Info("requests must be signed (SigV4)", "access_keys", keys.Len())
	case !loopbackOnly(s.opts.Addr) && !s.opts.InsecureOpen:
		return fmt.Errorf("server: refusing to listen on %s without credentials: anyone who can reach it could read and change every table; "+
			"pass --credentials FILE, listen on 127.0.0.1, or pass --insecure-open to accept unauthenticated requests there", s.opts.Addr)
	case loopbackOnly(s.opts.Addr):
		log.Info("no credentials configured: eddy runs open, accepting unsigned requests, on loopback only", "addr", s.opts.Addr)
	default:
		log.Warn("no credentials configured and --insecure-open: eddy accepts unauthenticated requests from anyone who can reach it", "addr", s.opts.Addr)
	}
	s.authn = newAuthenticator(v, s.opts.MetricsPublic, log)
	return nil
}

// openTLS loads the TLS certificate, or makes the self-signed one under
// the data directory (once the store has opened it: an empty directory
// is a new database).
func (s *Server) openTLS(log *slog.Logger) (err error) {
	t := s.opts.TLS
	if !t.enabled() {
		return nil
	}
	if t.CertFile == "" {
		dir := filepath.Join(s.opts.DataDir, "tls")
		if s.opts.InMemory {
			if dir, err = os.MkdirTemp("", "eddy-tls-"); err != nil {
				return err
			}
		}
		var created bool
		if t.CertFile, t.KeyFile, created, err = selfSignedCert(dir); err != nil {
			return err
		}
		log.Info("serving HTTPS with a self-signed development certificate: make clients trust it (AWS_CA_BUNDLE, --ca-bundle)",
			"cert", t.CertFile, "created", created)
	}
	s.certs = &certReloader{certFile: t.CertFile, keyFile: t.KeyFile}
	return s.certs.load()
}

func (s *Server) loadKeys() (*auth.Keys, error) {
	creds := append([]auth.Credential(nil), s.opts.Credentials...)
	if f := s.opts.CredentialsFile; f != "" {
		c, err := auth.LoadCredentialsFile(f, s.opts.AccountID)
		if err != nil {
			return nil, err
		}
		creds = append(creds, c...)
	}
	if s.users != nil {
		c, err := s.users.credentials()
		if err != nil {
			return nil, err
		}
		creds = append(creds, c...)
	}
	for i := range creds {
		if creds[i].ARN == "" && creds[i].UserName != "" {
			creds[i].ARN = auth.UserARN(s.opts.AccountID, creds[i].UserName)
		}
	}
	return auth.NewKeys(creds)
}

// Reload reads the credentials file and the TLS certificate again (eddy
// serve does on SIGHUP): rotated keys and a renewed certificate take effect
// for the next request, without a restart. On an error the old ones stay.
// A server started without credentials stays open.
func (s *Server) Reload() error {
	var errs []error
	if err := s.keysChanged(); err != nil {
		errs = append(errs, err)
	}
	if s.certs != nil {
		if err := s.certs.load(); err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("reload failed: keeping the previous credentials and certificate", "err", err)
	} else {
		s.log.Info("reloaded credentials and TLS certificate")
	}
	return err
}

// keysChanged rebuilds the accepted keys from the credentials file and the
// users store (a Reload, a user added, rotated or removed). The first key
// turns verification on; a change that would leave none is refused and
// the old keys stay.
func (s *Server) keysChanged() error {
	keys, err := s.loadKeys()
	if err != nil {
		return err
	}
	v := s.authn.verifier.Load()
	switch {
	case keys.Len() == 0 && v == nil:
		return nil // open, and stays so
	case keys.Len() == 0:
		return errors.New("server: no access keys left; keeping the old ones")
	case v == nil:
		s.authn.verifier.Store(auth.NewVerifier(keys, auth.Options{}))
		s.authn.log.Info("the first access key was added: requests must be signed (SigV4) from now on", "access_keys", keys.Len())
	default:
		v.SetKeys(keys)
	}
	return nil
}

// verifiedPrincipal is Options.Principal's default: the ARN of the user an
// accepted access key belongs to ("" while eddy runs open, or for a key
// it does not know). The authenticator has verified the request's key
// before api, lambdaapi or /eddy/policies ask.
func (s *Server) verifiedPrincipal(accessKeyID string) string {
	if s.authn == nil {
		return ""
	}
	v := s.authn.verifier.Load()
	if v == nil {
		return ""
	}
	c, _ := v.Keys().Lookup(accessKeyID)
	return c.ARN
}
