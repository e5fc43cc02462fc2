package webhook_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/webhook"
)

var ctx = context.Background()

// request is what the test webhook received.
type request struct {
	method string
	header http.Header
	body   string
}

// hook is a test webhook answering each document by its ID.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	answer func(w http.ResponseWriter, id string)
}

func newHook(t *testing.T, tls bool, answer func(w http.ResponseWriter, id string)) *hook {
	h := &hook{answer: answer}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		hdr := r.Header.Clone()
		for _, k := range []string{"User-Agent", "Accept-Encoding"} {
			hdr.Del(k)
		}
		h.mu.Lock()
		h.got = append(h.got, request{r.Method, hdr, string(b)})
		h.mu.Unlock()
		if h.answer != nil {
			h.answer(w, r.Header.Get("Eddy-Document-Id"))
		}
	})
	if tls {
		h.Server = httptest.NewTLSServer(handler)
	} else {
		h.Server = httptest.NewServer(handler)
	}
	t.Cleanup(h.Close)
	return h
}

func (h *hook) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, r := range h.got {
		ids = append(ids, r.header.Get("Eddy-Document-Id"))
	}
	return ids
}

func newSink(t *testing.T, url string, opts map[string]string) *webhook.Sink {
	t.Helper()
	s, err := webhook.New(outbox.Config{Name: "hook", Kind: "http", URL: url, Options: opts}, outbox.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func docs(n int) []outbox.Doc {
	var ds []outbox.Doc
	for i := 1; i <= n; i++ {
		ds = append(ds, outbox.Doc{Seq: uint64(i), Op: outbox.OpIndex, ID: fmt.Sprintf("k%d", i), Version: uint64(10 * i), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return ds
}

// TestRequests: one request per document, in order, with exactly the
// documented headers and body.
func TestRequests(t *testing.T) {
	h := newHook(t, false, nil)
	s := newSink(t, h.URL+"/in", map[string]string{"header.Authorization": "Bearer xyz", "method": "put"})
	err := s.Deliver(ctx, []outbox.Doc{
		{Seq: 1, Op: outbox.OpIndex, ID: "k1", Version: 7, Table: "orders", Body: []byte(`{"a": 1}`)},
		{Seq: 2, Op: outbox.OpDelete, ID: "k2", Version: 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []request{
		{"PUT", http.Header{
			"Authorization":         {"Bearer xyz"},
			"Content-Type":          {"application/json"},
			"Content-Length":        {"8"},
			"Eddy-Op":               {"index"},
			"Eddy-Document-Id":      {"k1"},
			"Eddy-Document-Version": {"7"},
			"Eddy-Table":            {"orders"},
			"Idempotency-Key":       {"k1@7"},
		}, `{"a": 1}`},
		{"PUT", http.Header{
			"Authorization":         {"Bearer xyz"},
			"Content-Length":        {"0"},
			"Eddy-Op":               {"delete"},
			"Eddy-Document-Id":      {"k2"},
			"Eddy-Document-Version": {"9"},
			"Idempotency-Key":       {"k2@9"},
		}, ``},
	}
	if fmt.Sprint(h.got) != fmt.Sprint(want) {
		t.Fatalf("requests\n%v\nwant\n%v", h.got, want)
	}
}

// TestAnswers: 2xx and 409 are success; a 4xx other than 401, 403, 404,
// 405, 407, 408 and 429 rejects the document and the batch goes on; the
// others fail it and the rest of the batch, unsent.
func TestAnswers(t *testing.T) {
	for _, c := range []struct {
		codes    []int // the answers to k1, k2, ...
		sent     int
		failed   []int
		rejected []int
	}{
		{codes: []int{200, 201, 204, 409}, sent: 4},
		{codes: []int{200, 400, 413, 422, 410, 200}, sent: 6, rejected: []int{1, 2, 3, 4}},
		{codes: []int{200, 400, 503, 200}, sent: 3, failed: []int{2, 3}, rejected: []int{1}},
		{codes: []int{200, 429, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 408, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 500, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 401, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 403, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 404, 200}, sent: 2, failed: []int{1, 2}},
		{codes: []int{200, 302, 200}, sent: 2, failed: []int{1, 2}},
	} {
		t.Run(fmt.Sprint(c.codes), func(t *testing.T) {
			h := newHook(t, false, func(w http.ResponseWriter, id string) {
				var i int
				if _, err := fmt.Sscanf(id, "k%d", &i); err != nil {
					t.Error(err)
				}
				if c.codes[i-1] == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.codes[i-1])
			})
			s := newSink(t, h.URL, nil)
			err := s.Deliver(ctx, docs(len(c.codes)))
			if got := h.ids(); len(got) != c.sent || !slices.Equal(got, []string{"k1", "k2", "k3", "k4", "k5", "k6"}[:c.sent]) {
				t.Errorf("sent %v, want the first %d in order", got, c.sent)
			}
			var p *outbox.Partial
			switch {
			case c.failed == nil && c.rejected == nil:
				if err != nil {
					t.Fatal(err)
				}
			case !errors.As(err, &p):
				t.Fatalf("Deliver = %v, want a *Partial", err)
			case !slices.Equal(p.Failed, c.failed) || !slices.Equal(p.Rejected, c.rejected):
				t.Fatalf("failed %v rejected %v, want %v %v (%v)", p.Failed, p.Rejected, c.failed, c.rejected, err)
			}
		})
	}
}

// TestFailFirst: when the first document fails, nothing was applied: a
// plain error, which quotes Retry-After and the answer's body.
func TestFailFirst(t *testing.T) {
	h := newHook(t, false, func(w http.ResponseWriter, _ string) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "busy, come back later", strings.Repeat(".", 100<<10))
	})
	err := newSink(t, h.URL, nil).Deliver(ctx, docs(3))
	var p *outbox.Partial
	var se *webhook.StatusError
	if errors.As(err, &p) || !errors.As(err, &se) || se.Status != 503 || se.RetryAfter != 7*time.Second {
		t.Fatalf("Deliver = %v, want a plain error with a 503 StatusError", err)
	}
	if !strings.Contains(err.Error(), "retry after 7s") || !strings.Contains(err.Error(), "busy, come back later") || len(err.Error()) > 1000 {
		t.Fatalf("error text %q", err)
	}
	if got := h.ids(); !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("sent %v", got)
	}
}

// TestNetwork: a closed webhook and a slow one (beyond timeout) fail.
func TestNetwork(t *testing.T) {
	h := newHook(t, false, nil)
	url := h.URL
	h.Close()
	if err := newSink(t, url, nil).Deliver(ctx, docs(2)); err == nil {
		t.Fatal("Deliver to a closed server worked")
	}
	release := make(chan struct{})
	slow := newHook(t, false, func(w http.ResponseWriter, id string) {
		if id == "k2" {
			<-release
		}
	})
	defer close(release)
	err := newSink(t, slow.URL, map[string]string{"timeout": "200ms"}).Deliver(ctx, docs(3))
	var p *outbox.Partial
	if !errors.As(err, &p) || !slices.Equal(p.Failed, []int{1, 2}) {
		t.Fatalf("Deliver = %v, want 1 and 2 failed", err)
	}
}

// TestTLS: ca_file trusts the webhook's certificate; without it the
// certificate is refused; insecure_skip_verify skips the check.
func TestTLS(t *testing.T) {
	h := newHook(t, true, nil)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := newSink(t, h.URL, map[string]string{"ca_file": ca}).Deliver(ctx, docs(1)); err != nil {
		t.Fatal(err)
	}
	if err := newSink(t, h.URL, nil).Deliver(ctx, docs(1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Deliver without ca_file = %v", err)
	}
	if err := newSink(t, h.URL, map[string]string{"insecure_skip_verify": "true"}).Deliver(ctx, docs(1)); err != nil {
		t.Fatal(err)
	}
	if got := h.ids(); len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
}

func TestConfig(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []outbox.Config{
		{Name: "a", URL: ""},
		{Name: "a", URL: "ftp://x/y"},
		{Name: "a", URL: "http:///path"},
		{Name: "a", URL: "https://x", Options: map[string]string{"method": "GET"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"timeout": "-1s"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"ca_file": "/nonexistent"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"ca_file": empty}},
		{Name: "a", URL: "http://x", Options: map[string]string{"insecure_skip_verify": "true"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"insecure_skip_verify": "maybe"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"header.Idempotency-Key": "x"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"header.Bad Name": "x"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"header.X-A": "a\nb"}},
		{Name: "a", URL: "https://x", Options: map[string]string{"subject": "x"}},
	} {
		if _, err := webhook.New(c, outbox.Env{}); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := webhook.New(outbox.Config{Name: "a", URL: "https://x/in", Options: map[string]string{
		"method": "PATCH", "timeout": "1m", "header.X-Api-Key": "k", "insecure_skip_verify": "false"}}, outbox.Env{}); err != nil {
		t.Error(err)
	}
}
