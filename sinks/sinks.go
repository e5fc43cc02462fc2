package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// URLSinks is the triggers.Sinks that eddy serve builds from its --sink
// NAME=URL flags: each document a function emits to sink NAME goes to URL.
//
//	http://... or https://...      POST the document (Content-Type
//	                               application/json); any 2xx is success,
//	                               e.g. an OpenSearch/Elasticsearch _doc URL
//	nats://host:port/subject       publish to a NATS subject, then flush
//
// An emit returns only after the target accepted the document; an error is
// reported to the guest (which can fail the record with batchItemFailures,
// so the trigger retries it). Delivery is therefore at least once: a
// retried batch emits again, and targets should be idempotent by document
// ID. Safe for concurrent use; Close releases NATS connections.
type URLSinks struct {
	mu      sync.Mutex
	targets map[string]*url.URL
	http    *http.Client
	conns   map[string]*nats.Conn // by server URL
}

// ParseSinks builds URLSinks from NAME=URL specifications.
func ParseSinks(specs []string) (*URLSinks, error) {
	s := &URLSinks{targets: map[string]*url.URL{}, http: &http.Client{Timeout: 10 * time.Second}, conns: map[string]*nats.Conn{}}
	var errs []error
	for _, spec := range specs {
		name, raw, ok := strings.Cut(spec, "=")
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("sink %q: want NAME=URL", spec))
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %v", name, err))
			continue
		}
		switch u.Scheme {
		case "http", "https":
		case "nats":
			if strings.Trim(u.Path, "/") == "" {
				errs = append(errs, fmt.Errorf("sink %s: a nats URL names its subject as the path: nats://host:4222/subject", name))
				continue
			}
		default:
			errs = append(errs, fmt.Errorf("sink %s: unsupported scheme %q (http, https, nats)", name, u.Scheme))
			continue
		}
		if _, dup := s.targets[name]; dup {
			errs = append(errs, fmt.Errorf("sink %s defined twice", name))
			continue
		}
		s.targets[name] = u
	}
	return s, errors.Join(errs...)
}

// Emit sends doc to the sink's target.
func (s *URLSinks) Emit(ctx context.Context, sink string, doc []byte) error {
	u, ok := s.targets[sink]
	if !ok {
		return fmt.Errorf("eddy: no sink named %q is configured (eddy serve --sink %s=URL)", sink, sink)
	}
	if u.Scheme == "nats" {
		return s.publish(u, doc)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(doc))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("sink %s: %w", sink, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sink %s: %s answered %d: %s", sink, u.Host, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

func (s *URLSinks) publish(u *url.URL, doc []byte) error {
	server := "nats://" + u.Host
	s.mu.Lock()
	nc := s.conns[server]
	if nc == nil || nc.IsClosed() {
		var err error
		if nc, err = nats.Connect(server, nats.Name("eddy-sinks"), nats.Timeout(2*time.Second)); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("sink: connect %s: %w", server, err)
		}
		s.conns[server] = nc
	}
	s.mu.Unlock()
	if err := nc.Publish(strings.Trim(u.Path, "/"), doc); err != nil {
		return err
	}
	return nc.FlushTimeout(5 * time.Second)
}

// Close closes NATS connections.
func (s *URLSinks) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, nc := range s.conns {
		nc.Close()
		delete(s.conns, k)
	}
	return nil
}
