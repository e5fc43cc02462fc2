// Package webhook is the webhook sink kind: it sends each document an
// outbox delivers as one HTTP request to a URL, in order.
//
// # Requests
//
// One request per document, with the configured method (POST by default):
//
//	index   the body is the document (outbox.Doc.Body, as it is),
//	        Content-Type: application/json
//	delete  an empty body, no Content-Type
//
// and the headers
//
//	Eddy-Op                index or delete
//	Eddy-Document-Id       the document's ID
//	Eddy-Document-Version  its version (only grows for one ID: a receiver
//	                       must not let a lower version overwrite a higher)
//	Eddy-Table             its table, when it has one
//	Idempotency-Key        ID@Version (outbox.Doc.MsgID): the same on
//	                       every retry of the document
//
// plus the header.NAME options. A delete is told by Eddy-Op, not by the
// method or the body, so one endpoint serves both.
//
// # Answers
//
//	2xx, 409                    success (409: the receiver holds this
//	                            version or a newer one)
//	408, 429, 5xx, 3xx,         the document is not applied and will be
//	401, 403, 404, 405, 407,    retried: it and the rest of the batch are
//	a network error, a timeout  the *outbox.Partial's Failed, so a
//	                            document is never sent before an earlier
//	                            one was accepted. Retry-After is quoted in
//	                            the error (a *StatusError).
//	other 4xx (400, 413, 422..) the document is rejected for good (the
//	                            outbox lists it, does not retry it) and the
//	                            batch goes on
//
// 401, 403, 404, 405 and 407 mean the sink's URL or credentials are wrong,
// not the document: rejecting every document until someone fixes them
// would empty the outbox into the rejected list, so they stall the sink
// instead. Redirects are not followed (a POST redirected by 301-303 would
// become a GET); point the sink at the final URL. At most 64 KiB of an
// answer's body is read.
//
// # Configuration
//
// outbox.Config.URL is the http:// or https:// URL. Options:
//
//	header.NAME           a header sent with every request (e.g.
//	                      header.Authorization); not one of those above
//	method                POST (default), PUT or PATCH
//	timeout               a request's timeout, answer included (default 10s)
//	ca_file               PEM certificates to trust (instead of the
//	                      system's) for an https URL
//	insecure_skip_verify  true: do not verify the server's certificate
//
// Safe for concurrent use.
package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/outbox"
)

const (
	// DefaultTimeout bounds one request.
	DefaultTimeout = 10 * time.Second
	// maxAnswer bounds how much of an answer's body is read (to reuse
	// the connection); errorBody, how much of it an error quotes.
	maxAnswer = 64 << 10
	errorBody = 512
)

// reserved are the headers the sink sets itself.
var reserved = []string{"Eddy-Op", "Eddy-Document-Id", "Eddy-Document-Version", "Eddy-Table", "Idempotency-Key", "Content-Type", "Content-Length", "Host"}

// Sink sends documents to a webhook; see the package doc. It is an
// outbox.Target.
type Sink struct {
	name   string
	url    string
	method string
	header http.Header
	client *http.Client
	log    *slog.Logger
}

// StatusError is a webhook's answer that is not success.
type StatusError struct {
	Status int
	// RetryAfter is the answer's Retry-After (0 when absent).
	RetryAfter time.Duration
	// Body is the start of the answer's body.
	Body string
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "webhook answered %d %s", e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// New returns the webhook sink of cfg (see the package doc for the URL and
// options). It checks the configuration and reads ca_file; it does not
// contact the webhook.
func New(cfg outbox.Config, env outbox.Env) (*Sink, error) {
	s := &Sink{name: cfg.Name, url: cfg.URL, method: http.MethodPost, header: http.Header{}, log: env.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	// s.log carries the sink's name (outbox.Env.Logger)
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sink %s: "+format, append([]any{cfg.Name}, args...)...))
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		bad("%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		bad("URL %q: want http:// or https://", cfg.URL)
	case u.Host == "":
		bad("URL %q has no host", cfg.URL)
	}
	timeout := DefaultTimeout
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	tlsSet := false
	for k, v := range cfg.Options {
		switch k {
		case "method":
			s.method = strings.ToUpper(v)
			if s.method != http.MethodPost && s.method != http.MethodPut && s.method != http.MethodPatch {
				bad("method %q: want POST, PUT or PATCH", v)
			}
		case "timeout":
			if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
				bad("timeout %q is not a positive duration (e.g. 10s)", v)
			}
		case "ca_file":
			tlsSet = true
			pem, err := os.ReadFile(v)
			if err != nil {
				bad("ca_file: %v", err)
				break
			}
			tlsCfg.RootCAs = x509.NewCertPool()
			if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				bad("ca_file %s holds no PEM certificate", v)
			}
		case "insecure_skip_verify":
			tlsSet = true
			if tlsCfg.InsecureSkipVerify, err = strconv.ParseBool(v); err != nil {
				bad("insecure_skip_verify %q is not true or false", v)
			}
		default:
			name, ok := strings.CutPrefix(k, "header.")
			if !ok {
				bad("unknown option %q for an http sink (header.NAME, method, timeout, ca_file, insecure_skip_verify)", k)
				break
			}
			if err := checkHeader(name, v); err != nil {
				bad("%s: %v", k, err)
				break
			}
			s.header.Set(name, v)
		}
	}
	if tlsSet && u != nil && u.Scheme != "https" {
		bad("ca_file and insecure_skip_verify need an https URL")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	}
	tr.TLSClientConfig = tlsCfg
	s.client = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return s, nil
}

// checkHeader checks a header.NAME option.
func checkHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return fmt.Errorf("%q is not a header name", name)
	}
	for _, r := range reserved {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("the sink sets %s itself", textproto.CanonicalMIMEHeaderKey(name))
		}
	}
	if !validValue(value) {
		return errors.New("the value holds control characters")
	}
	return nil
}

func isTokenChar(r rune) bool {
	return r < 0x7f && r > 0x20 && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// validValue reports whether v can be a header's value (no control
// characters but tab).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Deliver sends docs one at a time, in order; see the package doc for how
// answers are classified.
func (s *Sink) Deliver(ctx context.Context, docs []outbox.Doc) error {
	var rejected []int
	var firstErr error
	for i := range docs {
		err := s.send(ctx, &docs[i])
		if err == nil {
			continue
		}
		err = fmt.Errorf("sink %s: document %s: %w", s.name, docs[i].MsgID(), err)
		if firstErr == nil {
			firstErr = err
		}
		if errors.Is(err, errReject) {
			rejected = append(rejected, i)
			continue
		}
		if i == 0 && len(rejected) == 0 {
			return err // nothing applied
		}
		failed := make([]int, 0, len(docs)-i)
		for j := i; j < len(docs); j++ {
			failed = append(failed, j)
		}
		return &outbox.Partial{Failed: failed, Rejected: rejected, Err: firstErr}
	}
	if len(rejected) > 0 {
		return &outbox.Partial{Rejected: rejected, Err: firstErr}
	}
	return nil
}

// errReject marks the errors of documents rejected for good.
var errReject = errors.New("rejected")

// rejection is a document the sink or the webhook refuses for good.
type rejection struct{ err error }

func (r rejection) Error() string   { return r.err.Error() }
func (r rejection) Unwrap() []error { return []error{r.err, errReject} }

// send sends one document: nil when the webhook accepted it, a rejection
// when it refused it for good, any other error when it may accept it
// later.
func (s *Sink) send(ctx context.Context, d *outbox.Doc) error {
	if !validValue(d.ID) || !validValue(d.Table) {
		return rejection{errors.New("the ID or table holds control characters, which a header cannot")}
	}
	var body io.Reader
	switch d.Op {
	case outbox.OpIndex:
		body = bytes.NewReader(d.Body)
	case outbox.OpDelete:
	default:
		return rejection{fmt.Errorf("unknown op %q", d.Op)}
	}
	req, err := http.NewRequestWithContext(ctx, s.method, s.url, body)
	if err != nil {
		return err
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	if d.Op == outbox.OpIndex {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Eddy-Op", string(d.Op))
	req.Header.Set("Eddy-Document-Id", d.ID)
	req.Header.Set("Eddy-Document-Version", strconv.FormatUint(d.Version, 10))
	if d.Table != "" {
		req.Header.Set("Eddy-Table", d.Table)
	}
	req.Header.Set("Idempotency-Key", d.MsgID())
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	head := make([]byte, errorBody)
	n, _ := io.ReadFull(resp.Body, head) // an answer's body is advisory: a short or failed read is no error
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer-errorBody)); err != nil {
		s.log.Debug("webhook sink: reading the answer", "err", err)
	}
	code := resp.StatusCode
	if code/100 == 2 || code == http.StatusConflict {
		return nil
	}
	se := &StatusError{Status: code, RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Body: strings.TrimSpace(string(head[:n]))}
	if loc := resp.Header.Get("Location"); code/100 == 3 && loc != "" {
		se.Body = "redirect to " + loc + " (not followed: point the sink at it)"
	}
	if code/100 == 4 && !retried(code) {
		return rejection{se}
	}
	return se
}

// retried reports the 4xx answers that stall the sink rather than reject
// the document.
func retried(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusProxyAuthRequired:
		return true
	}
	return false
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t).Round(time.Second); d > 0 {
			return d
		}
	}
	return 0
}

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

var _ outbox.Target = (*Sink)(nil)
