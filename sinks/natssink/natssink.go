// Package natssink is the NATS sink kind: it publishes each document an
// outbox delivers as one message, through JetStream (deduplicated,
// acknowledged) or core NATS (fire and flush).
//
// # Messages
//
// The body is the document's envelope (package sinks/file documents it:
// {"seq":..,"op":..,"id":..,"version":..,"table":..,"doc":{..}}). Headers:
//
//	Nats-Msg-Id    ID@Version (outbox.Doc.MsgID): JetStream drops a
//	               message it has seen within the stream's duplicates
//	               window, so a batch republished after a crash or a
//	               failed ack is stored once
//	Eddy-Op        index or delete
//	Eddy-Id        the document's ID
//	Eddy-Version   its version
//	Eddy-Seq       its seq in the sink's outbox
//	Eddy-Table     its table, when it has one
//
// # Configuration
//
// outbox.Config.URL is the server, nats://host:port (tls://, ws:// and
// wss:// too), or several separated by commas. Options:
//
//	subject     the subject to publish on (default "eddy.<sink name>");
//	            a token "{table}" is replaced by the document's table
//	            ("-" when it has none; characters a subject token cannot
//	            hold, such as '.', become '_')
//	stream      a JetStream stream: publish through JetStream, waiting for
//	            every message's ack. The stream is created when missing
//	            (file storage, subjects: the subject with "*" for
//	            {table}); an existing stream must capture the subject.
//	            Unset: core NATS, publish then flush (at most once to the
//	            subscribers connected at the time).
//	duplicates  the duplicates window of a stream the sink creates
//	            (default 2m); needs stream
//	timeout     how long to wait for a connection, an ack or a flush
//	            (default 10s)
//	creds       a credentials file (user JWT and seed)
//	token       an authentication token
//	user        a user name, with password
//	password
//
// # Delivery
//
// New does not contact the server: the first Deliver connects (and, with
// a stream, looks the stream up or creates it). A connection that fails is
// closed, and the next Deliver connects anew, so reconnection follows the
// outbox's backoff; connection errors are plain errors (the whole batch
// is retried). With JetStream a batch is published asynchronously, in
// order, and Deliver waits for every ack: the documents whose publish or
// ack failed are the *outbox.Partial's Failed (their retry may land after
// later documents: consumers order by version, not by arrival); an ack
// saying duplicate is success. A message larger than the server's
// max_payload, or a document whose envelope cannot be made, is rejected.
// Safe for concurrent use.
package natssink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/file"
)

const (
	// DefaultDuplicates is the duplicates window of a stream the sink
	// creates.
	DefaultDuplicates = 2 * time.Minute
	// DefaultTimeout bounds a connection, an ack and a flush.
	DefaultTimeout = 10 * time.Second
	// tableToken is the subject token replaced by a document's table.
	tableToken = "{table}"
	// maxPending bounds the async publishes in flight on a connection;
	// beyond it a publish waits (up to the timeout) for acks.
	maxPending = 4096
)

// Sink publishes documents to NATS; see the package doc. It is an
// outbox.Target.
type Sink struct {
	name       string
	servers    string
	subject    string // the template, with {table} tokens
	stream     string // "" for core NATS
	streamSubj string // subject with "*" for {table}
	dup        time.Duration
	timeout    time.Duration
	auth       []nats.Option
	log        *slog.Logger

	mu     sync.Mutex
	c      *conn // nil until connected, and after a failure
	closed bool
}

// conn is one connection and its JetStream context.
type conn struct {
	nc *nats.Conn
	js jetstream.JetStream // nil for core NATS
}

// New returns the NATS sink of cfg (see the package doc for the URL and
// options). It checks the configuration only: the first Deliver connects.
func New(cfg outbox.Config, env outbox.Env) (*Sink, error) {
	s := &Sink{name: cfg.Name, subject: "eddy." + cfg.Name, dup: DefaultDuplicates, timeout: DefaultTimeout, log: env.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	// s.log carries the sink's name (outbox.Env.Logger)
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sink %s: "+format, append([]any{cfg.Name}, args...)...))
	}
	servers, err := parseServers(cfg.URL)
	if err != nil {
		bad("%v", err)
	}
	s.servers = servers
	o := cfg.Options
	if v, ok := o["subject"]; ok {
		s.subject = v
	}
	if err := checkSubject(s.subject); err != nil {
		bad("subject: %v", err)
	}
	s.streamSubj = streamSubject(s.subject)
	s.stream = o["stream"]
	if _, ok := o["stream"]; ok && (s.stream == "" || strings.ContainsAny(s.stream, ">*. /\\\t\r\n")) {
		bad("stream %q is not a stream name (no spaces, '.', '*', '>', '/' or '\\')", s.stream)
	}
	if v, ok := o["duplicates"]; ok {
		if s.dup, err = time.ParseDuration(v); err != nil || s.dup <= 0 {
			bad("duplicates %q is not a positive duration (e.g. 2m)", v)
		}
		if s.stream == "" {
			bad("duplicates needs stream")
		}
	}
	if v, ok := o["timeout"]; ok {
		if s.timeout, err = time.ParseDuration(v); err != nil || s.timeout <= 0 {
			bad("timeout %q is not a positive duration (e.g. 10s)", v)
		}
	}
	creds, token, user, password := o["creds"], o["token"], o["user"], o["password"]
	switch {
	case creds != "" && (token != "" || user != ""), token != "" && user != "":
		bad("creds, token and user are alternatives: set one")
	case password != "" && user == "":
		bad("password needs user")
	case creds != "":
		s.auth = append(s.auth, nats.UserCredentials(creds))
	case token != "":
		s.auth = append(s.auth, nats.Token(token))
	case user != "":
		s.auth = append(s.auth, nats.UserInfo(user, password))
	}
	for k := range o {
		switch k {
		case "subject", "stream", "duplicates", "timeout", "creds", "token", "user", "password":
		default:
			bad("unknown option %q for a nats sink (subject, stream, duplicates, timeout, creds, token, user, password)", k)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// parseServers checks a comma-separated list of server URLs.
func parseServers(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", errors.New("a nats sink needs the server's URL, nats://host:4222")
	}
	var out []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		u, err := url.Parse(part)
		if err != nil {
			return "", err
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return "", fmt.Errorf("server URL %q: want nats://host:port (or tls://, ws://, wss://)", part)
		}
		if u.Host == "" {
			return "", fmt.Errorf("server URL %q has no host", part)
		}
		if strings.Trim(u.Path, "/") != "" {
			return "", fmt.Errorf("server URL %q has a path: the subject is the subject option", part)
		}
		out = append(out, part)
	}
	return strings.Join(out, ","), nil
}

// checkSubject checks a subject template: tokens separated by '.', none
// empty or holding a wildcard or a space, "{table}" only as a whole token.
func checkSubject(subject string) error {
	for _, tok := range strings.Split(subject, ".") {
		switch {
		case tok == tableToken:
		case tok == "":
			return fmt.Errorf("%q has an empty token", subject)
		case strings.Contains(tok, tableToken):
			return fmt.Errorf("%q: %s must be a whole token (e.g. eddy.%s)", subject, tableToken, tableToken)
		case strings.IndexFunc(tok, badInToken) >= 0:
			return fmt.Errorf("%q: a subject cannot hold '*', '>', spaces or control characters", subject)
		}
	}
	return nil
}

// badInToken reports the characters a literal subject token cannot hold.
func badInToken(r rune) bool {
	return r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r)
}

// streamSubject is the subject a created stream captures: the template
// with "*" for each {table} token.
func streamSubject(subject string) string {
	toks := strings.Split(subject, ".")
	for i, t := range toks {
		if t == tableToken {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, ".")
}

// subjectFor is the subject of a document of table.
func (s *Sink) subjectFor(table string) string {
	if !strings.Contains(s.subject, tableToken) {
		return s.subject
	}
	tok := "-"
	if table != "" {
		tok = strings.Map(func(r rune) rune {
			if badInToken(r) {
				return '_'
			}
			return r
		}, table)
	}
	toks := strings.Split(s.subject, ".")
	for i, t := range toks {
		if t == tableToken {
			toks[i] = tok
		}
	}
	return strings.Join(toks, ".")
}

// covers reports whether the stream subject filter captures every subject
// that pattern (literal tokens and "*") matches.
func covers(filter, pattern string) bool {
	f, p := strings.Split(filter, "."), strings.Split(pattern, ".")
	for i, ft := range f {
		switch {
		case ft == ">":
			return len(p) > i
		case i >= len(p):
			return false
		case ft == "*":
		case ft != p[i]:
			return false
		}
	}
	return len(f) == len(p)
}

// msg is the message of d.
func (s *Sink) msg(d *outbox.Doc) (*nats.Msg, error) {
	data, err := file.AppendEnvelope(nil, d)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(s.subjectFor(d.Table))
	m.Header.Set(jetstream.MsgIDHeader, d.MsgID())
	m.Header.Set("Eddy-Op", string(d.Op))
	m.Header.Set("Eddy-Id", d.ID)
	m.Header.Set("Eddy-Version", strconv.FormatUint(d.Version, 10))
	m.Header.Set("Eddy-Seq", strconv.FormatUint(d.Seq, 10))
	if d.Table != "" {
		m.Header.Set("Eddy-Table", d.Table)
	}
	m.Data = data
	return m, nil
}

// connect returns the live connection, connecting (and finding or creating
// the stream) when there is none.
func (s *Sink) connect(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("sink %s: closed", s.name)
	}
	if s.c != nil {
		if s.c.nc.IsConnected() {
			return s.c, nil
		}
		s.c.nc.Close()
		s.c = nil
	}
	opts := append([]nats.Option{
		nats.Name("eddy-sink-" + s.name),
		nats.Timeout(s.timeout),
		nats.NoReconnect(), // the next Deliver connects anew
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s.log.Warn("nats sink: asynchronous error", "err", err)
		}),
	}, s.auth...)
	nc, err := nats.Connect(s.servers, opts...)
	if err != nil {
		return nil, fmt.Errorf("sink %s: connect %s: %w", s.name, s.servers, err)
	}
	c := &conn{nc: nc}
	if s.stream != "" {
		if c.js, err = jetstream.New(nc, jetstream.WithPublishAsyncTimeout(s.timeout), jetstream.WithPublishAsyncMaxPending(maxPending)); err == nil {
			err = s.ensureStream(ctx, c.js)
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("sink %s: %w", s.name, err)
		}
	}
	s.c = c
	return c, nil
}

// ensureStream finds the stream, creating it when missing, and checks it
// captures the sink's subjects.
func (s *Sink) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	st, err := js.Stream(ctx, s.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: s.stream, Subjects: []string{s.streamSubj}, Duplicates: s.dup})
		if err == nil {
			s.log.Info("nats sink: created stream", "stream", s.stream, "subject", s.streamSubj, "duplicates", s.dup)
			return nil
		}
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile
			st, err = js.Stream(ctx, s.stream)
		}
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.stream, err)
	}
	subjects := st.CachedInfo().Config.Subjects
	for _, f := range subjects {
		if covers(f, s.streamSubj) {
			return nil
		}
	}
	return fmt.Errorf("stream %s does not capture subject %s (its subjects: %s)", s.stream, s.streamSubj, strings.Join(subjects, " "))
}

// reset closes c after a failure, unless another Deliver replaced it.
func (s *Sink) reset(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == c {
		s.c = nil
	}
	c.nc.Close()
}

// Deliver publishes docs in order; see the package doc.
func (s *Sink) Deliver(ctx context.Context, docs []outbox.Doc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	if c.js == nil {
		return s.core(ctx, c, docs)
	}
	var (
		futs     = make([]jetstream.PubAckFuture, len(docs))
		failed   []int
		rejected []int
		firstErr error
		stopped  = len(docs) // the first document not published
	)
	note := func(err error) {
		if firstErr == nil {
			firstErr = fmt.Errorf("sink %s: %w", s.name, err)
		}
	}
	for i := range docs {
		m, err := s.msg(&docs[i])
		if err == nil {
			futs[i], err = c.js.PublishMsgAsync(m, jetstream.WithStallWait(s.timeout))
		}
		if err != nil {
			note(err)
			if m == nil || errors.Is(err, nats.ErrMaxPayload) {
				rejected = append(rejected, i)
				continue
			}
			stopped = i
			break
		}
	}
wait:
	for i, f := range futs[:stopped] {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok(): // a duplicate too: the stream has the message
		case err := <-f.Err():
			failed = append(failed, i)
			note(err)
		case <-ctx.Done():
			for j := i; j < stopped; j++ {
				if futs[j] != nil {
					failed = append(failed, j)
				}
			}
			note(ctx.Err())
			break wait
		}
	}
	for i := stopped; i < len(docs); i++ {
		failed = append(failed, i)
	}
	if len(failed) > 0 {
		s.reset(c)
	}
	switch {
	case len(failed) == 0 && len(rejected) == 0:
		return nil
	case len(failed) == len(docs):
		return firstErr
	}
	return &outbox.Partial{Failed: failed, Rejected: rejected, Err: firstErr}
}

// core publishes docs on core NATS and flushes.
func (s *Sink) core(ctx context.Context, c *conn, docs []outbox.Doc) error {
	var rejected []int
	var rejErr error
	for i := range docs {
		m, err := s.msg(&docs[i])
		if err == nil {
			err = c.nc.PublishMsg(m)
		}
		if err != nil {
			if m != nil && !errors.Is(err, nats.ErrMaxPayload) {
				s.reset(c)
				return fmt.Errorf("sink %s: publish: %w", s.name, err)
			}
			rejected = append(rejected, i)
			if rejErr == nil {
				rejErr = fmt.Errorf("sink %s: %w", s.name, err)
			}
		}
	}
	fctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := c.nc.FlushWithContext(fctx); err != nil {
		s.reset(c)
		return fmt.Errorf("sink %s: flush: %w", s.name, err)
	}
	if len(rejected) > 0 {
		return &outbox.Partial{Rejected: rejected, Err: rejErr}
	}
	return nil
}

// Close closes the connection; Deliver fails afterwards. Idempotent.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.c != nil {
		s.c.nc.Close()
		s.c = nil
	}
	return nil
}

var _ outbox.Target = (*Sink)(nil)
