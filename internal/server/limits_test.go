package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/eddydb/eddy/capacity"
)

// These tests attack a server on 127.0.0.1 with its limits set small, and
// assert behaviour, not timings: every wait has a generous deadline, so a
// loaded machine makes them slower, not flaky.

const waitLong = 15 * time.Second // the most any step may take on a loaded machine

func startLimited(t *testing.T, lim HTTPLimits) *Server {
	t.Helper()
	// Capacity in report mode: these tests write large items as fast as
	// they can to see the HTTP limits, not the table's capacity.
	s, err := New(Options{Addr: "127.0.0.1:0", InMemory: true, HTTP: lim, TTLSweepInterval: -1,
		Capacity: capacity.Options{Mode: capacity.Report}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

// metric returns the value of a counter or gauge of the server's registry
// (the first series whose labels include the given name=value pairs).
func metric(t *testing.T, s *Server, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s %v", name, labels)
	return 0
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or waitLong passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ddb(t *testing.T, s *Server, op, body string) {
	t.Helper()
	if _, err := s.Call(context.Background(), op, []byte(body), ""); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// postDDB sends a DynamoDB request with a fresh connection and returns the
// status and body.
func postDDB(t *testing.T, s *Server, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	c := &http.Client{Timeout: waitLong, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the response: %v", op, err)
	}
	return resp.StatusCode, string(b)
}

func setupTable(t *testing.T, s *Server) {
	t.Helper()
	ddb(t, s, "CreateTable", `{"TableName":"tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	ddb(t, s, "PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"k"},"v":{"S":"hello"}}}`)
}

const getItem = `{"TableName":"tbl","Key":{"pk":{"S":"k"}}}`

// wellBehaved asserts that a GetItem succeeds.
func wellBehaved(t *testing.T, s *Server) {
	t.Helper()
	if code, body := postDDB(t, s, "GetItem", getItem); code != 200 || !strings.Contains(body, "hello") {
		t.Fatalf("well-behaved GetItem: %d %s", code, body)
	}
}

// slowBody opens a connection that sends a GetItem's headers declaring a
// 100-byte body and only one byte of it.
func slowBody(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_, err = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedWithin reads from c until the server closes it; false if it is
// still open after d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// TestSlowBodiesAreCutOffAndHoldNoSlot: connections that send headers and
// one byte of a 100-byte body are closed after the read timeout, and while
// they stall a well-behaved client still gets its GetItem answered, even
// with fewer in-flight slots than stalled bodies.
func TestSlowBodiesAreCutOffAndHoldNoSlot(t *testing.T) {
	s := startLimited(t, HTTPLimits{ReadTimeout: 500 * time.Millisecond, MaxInFlight: 2, MaxQueued: -1})
	setupTable(t, s)
	var conns []net.Conn
	for range 20 {
		conns = append(conns, slowBody(t, s))
	}
	wellBehaved(t, s)
	for i, c := range conns {
		if !closedWithin(c, waitLong) {
			t.Fatalf("slow body %d still open after %v", i, waitLong)
		}
	}
	waitFor(t, "20 read timeouts counted", func() bool {
		return metric(t, s, "eddy_http_timeouts_total", "direction", "read") == 20
	})
	wellBehaved(t, s)
}

// TestConnectionCap: at the cap, an idle keep-alive connection is closed
// for a new one; with none idle a new connection may still ask /healthz
// (the reserve), a DynamoDB request on it gets the throttling error and
// the connection is closed; the open connections never exceed the cap and
// its reserve; a connection whose body has stalled is closed for a new
// one.
func TestConnectionCap(t *testing.T) {
	const max = 8
	s := startLimited(t, HTTPLimits{MaxConnections: max, ReadTimeout: time.Minute})
	setupTable(t, s)

	// Idle keep-alive connections are closed to make room.
	var idle []net.Conn
	for range max {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
		if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(waitLong))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 || resp.Close {
			t.Fatalf("keep-alive /healthz: %v %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	waitFor(t, "idle connections at the cap", func() bool { return metric(t, s, "eddy_http_connections_open") == max })
	wellBehaved(t, s)
	if n := metric(t, s, "eddy_http_connections_evicted_total"); n != 1 {
		t.Fatalf("%v idle connections evicted, want 1", n)
	}
	closed := 0
	for _, c := range idle { // the server has closed one already: its FIN is here
		if closedWithin(c, 200*time.Millisecond) {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d idle connections closed, want 1", closed)
	}
	for _, c := range idle {
		_ = c.Close()
	}
	waitFor(t, "idle connections closed", func() bool { return metric(t, s, "eddy_http_connections_open") == 0 })

	// Stalled requests fill the cap: nothing is idle, and (for now) none
	// has stalled long enough to be closed first.
	cl := s.limits.conns.Load()
	setStall := func(d time.Duration) {
		cl.mu.Lock()
		cl.stallAfter = d
		cl.mu.Unlock()
	}
	setStall(time.Hour)
	var stalled []net.Conn
	for range max {
		stalled = append(stalled, slowBody(t, s))
	}
	waitFor(t, "stalled connections at the cap", func() bool { return metric(t, s, "eddy_http_connections_open") == max })
	if code, body := get(t, s.URL()+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz at the cap: %d %q", code, body)
	}
	code, body := postDDB(t, s, "GetItem", getItem)
	if code != 400 || !strings.Contains(body, "RequestLimitExceeded") {
		t.Fatalf("GetItem beyond the cap: %d %s, want 400 RequestLimitExceeded", code, body)
	}
	// Connections that send nothing fill the reserve; more replace the
	// ones waiting longest, so the count stays within cap plus reserve.
	for range 3 * reserveConns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	waitFor(t, "connections accepted", func() bool {
		return metric(t, s, "eddy_http_connections_evicted_total") >= 2*reserveConns-1
	})
	if n := metric(t, s, "eddy_http_connections_open"); n > max+reserveConns {
		t.Fatalf("%v connections open, want at most %d", n, max+reserveConns)
	}
	if code, _ := get(t, s.URL()+"/healthz"); code != 200 {
		t.Fatalf("/healthz with the reserve full of silent connections: %d", code)
	}

	// Once their bodies have stalled long enough, the stalled connection
	// that stalled first is closed for a new one: a well-behaved client
	// gets in although a flood holds the cap.
	setStall(0)
	wellBehaved(t, s)
	closed = 0
	for _, c := range stalled {
		if closedWithin(c, 200*time.Millisecond) {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d stalled connections closed for the well-behaved one, want 1", closed)
	}
}

// TestNonReadingClientIsCutOff: a client that asks for an 8 MB
// BatchGetItem response and never reads it is disconnected after the write
// timeout, and the server keeps answering others meanwhile.
func TestNonReadingClientIsCutOff(t *testing.T) {
	s := startLimited(t, HTTPLimits{WriteTimeout: 300 * time.Millisecond, MinRate: 64 << 20})
	setupTable(t, s)
	keys := bigItems(t, s, 20)

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := fmt.Sprintf(`{"RequestItems":{"tbl":{"Keys":[%s]}}}`, keys)
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.BatchGetItem\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", len(req), req); err != nil {
		t.Fatal(err)
	}
	wellBehaved(t, s)
	waitFor(t, "the write timeout", func() bool { return metric(t, s, "eddy_http_timeouts_total", "direction", "write") == 1 })
	if !closedWithin(c, waitLong) {
		t.Fatal("the non-reading client's connection is still open")
	}
	waitFor(t, "the response released", func() bool { return metric(t, s, "eddy_http_response_bytes_in_flight") == 0 })
	wellBehaved(t, s)
}

// bigItems puts n items of ~390 KB and returns their keys as JSON.
func bigItems(t *testing.T, s *Server, n int) string {
	t.Helper()
	v := strings.Repeat("x", 390_000)
	var keys []string
	for i := range n {
		ddb(t, s, "PutItem", fmt.Sprintf(`{"TableName":"tbl","Item":{"pk":{"S":"big%d"},"v":{"S":%q}}}`, i, v))
		keys = append(keys, fmt.Sprintf(`{"pk":{"S":"big%d"}}`, i))
	}
	return strings.Join(keys, ",")
}

// TestInFlightCapThrottles: with every slot taken and no queue, a
// DynamoDB request is answered at once with RequestLimitExceeded (400,
// __type and message, the body unread), the Lambda API with
// TooManyRequestsException (429), /healthz and /metrics still answer,
// and once the slot is free a well-behaved client succeeds.
func TestInFlightCapThrottles(t *testing.T) {
	s := startLimited(t, HTTPLimits{MaxInFlight: 1, MaxQueued: -1})
	setupTable(t, s)
	hold, held := make(chan struct{}), make(chan struct{})
	s.Handle("/hold", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-hold
	}))
	go func() {
		resp, err := http.Get(s.URL() + "/hold")
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-held

	// The body is never sent in full: the answer must not wait for it.
	c := slowBody(t, s)
	_ = c.SetReadDeadline(time.Now().Add(waitLong))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("throttled request: %v", err)
	}
	var e struct{ Type, Message string }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &struct {
		Type    *string `json:"__type"`
		Message *string `json:"message"`
	}{&e.Type, &e.Message}); err != nil {
		t.Fatalf("throttling body %q: %v", b, err)
	}
	if resp.StatusCode != 400 || e.Type != "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded" ||
		e.Message != "Throughput exceeds the current throughput limit for your account." ||
		resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" || resp.Header.Get("X-Amz-Crc32") == "" {
		t.Fatalf("throttled: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	if !resp.Close {
		t.Error("the connection of a throttled request with an unread body stays open")
	}

	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/2015-03-31/functions/", nil)
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := io.ReadAll(lresp.Body)
	_ = lresp.Body.Close()
	if lresp.StatusCode != 429 || lresp.Header.Get("X-Amzn-Errortype") != "TooManyRequestsException" ||
		!strings.Contains(string(lb), `"Reason":"CallerRateLimitExceeded"`) {
		t.Fatalf("Lambda API throttled: %d %v %s", lresp.StatusCode, lresp.Header, lb)
	}
	for _, p := range []string{"/healthz", "/metrics"} {
		if code, _ := get(t, s.URL()+p); code != 200 {
			t.Fatalf("%s while throttling: %d", p, code)
		}
	}
	if n := metric(t, s, "eddy_http_requests_throttled_total", "reason", "in_flight"); n != 2 {
		t.Errorf("%v throttled requests counted, want 2", n)
	}
	if n := metric(t, s, "eddy_http_requests_in_flight"); n != 1 {
		t.Errorf("in flight: %v, want 1", n)
	}

	close(hold)
	waitFor(t, "the slot free", func() bool { return metric(t, s, "eddy_http_requests_in_flight") == 0 })
	wellBehaved(t, s)
}

// TestQueueWaitsForASlot: with the slot taken, a request waits in the
// queue and runs as soon as the slot is free.
func TestQueueWaitsForASlot(t *testing.T) {
	s := startLimited(t, HTTPLimits{MaxInFlight: 1, MaxQueued: 4, QueueWait: waitLong})
	setupTable(t, s)
	release, err := s.limits.admit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wellBehaved(t, s)
	}()
	waitFor(t, "the request queued", func() bool { return metric(t, s, "eddy_http_requests_queued") == 1 })
	release()
	<-done
}

// TestResponseBudget: a DynamoDB response larger than the budget is
// replaced by RequestLimitExceeded; one within it is sent.
func TestResponseBudget(t *testing.T) {
	s := startLimited(t, HTTPLimits{ResponseBudget: 1 << 20})
	setupTable(t, s)
	keys := bigItems(t, s, 4)
	code, body := postDDB(t, s, "BatchGetItem", fmt.Sprintf(`{"RequestItems":{"tbl":{"Keys":[%s]}}}`, keys))
	if code != 400 || !strings.Contains(body, "RequestLimitExceeded") {
		t.Fatalf("1.5 MB response over a 1 MB budget: %d %.200s", code, body)
	}
	if n := metric(t, s, "eddy_http_requests_throttled_total", "reason", "response_budget"); n != 1 {
		t.Errorf("%v refused for the budget, want 1", n)
	}
	code, body = postDDB(t, s, "BatchGetItem", `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"big0"}},{"pk":{"S":"big1"}}]}}}`)
	if code != 200 || len(body) < 780_000 {
		t.Fatalf("780 KB response within the budget: %d, %d bytes", code, len(body))
	}
	// The handler gives the budget back just after the client has read
	// the response.
	waitFor(t, "the budget given back", func() bool { return metric(t, s, "eddy_http_response_bytes_in_flight") == 0 })
}

// TestLongHandlerIsNotCutOff: the write timeout counts from when the
// response starts, so a handler that runs longer than it (a Lambda Invoke
// of a slow function) still answers, and with no body to read no read
// deadline cancels its context.
func TestLongHandlerIsNotCutOff(t *testing.T) {
	s := startLimited(t, HTTPLimits{WriteTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond})
	s.Handle("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
			http.Error(w, "canceled", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("done"))
	}))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, s.URL()+"/slow", strings.NewReader("{}"))
		if method == http.MethodGet {
			req.Body, req.ContentLength = nil, 0
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s /slow: %v", method, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "done" {
			t.Fatalf("%s /slow: %d %q", method, resp.StatusCode, b)
		}
	}
}

// TestLargeReadsWaitForBudget: a BatchGetItem whose reservation does not
// fit waits in the queue and runs when the budget is given back; with no
// budget coming back within QueueWait it is refused, its body unread.
func TestLargeReadsWaitForBudget(t *testing.T) {
	s := startLimited(t, HTTPLimits{ResponseBudget: 20 << 20, QueueWait: waitLong})
	setupTable(t, s)
	if !s.limits.reserve(10 << 20) { // a response being written to a slow reader
		t.Fatal("reserve 10 MiB of 20")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, body := postDDB(t, s, "BatchGetItem", `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"k"}}]}}}`)
		if code != 200 || !strings.Contains(body, "hello") {
			t.Errorf("BatchGetItem after waiting for the budget: %d %s", code, body)
		}
	}()
	waitFor(t, "the BatchGetItem waiting", func() bool { return metric(t, s, "eddy_http_requests_queued") == 1 })
	s.limits.unreserve(10 << 20)
	<-done
	waitFor(t, "the budget given back", func() bool { return metric(t, s, "eddy_http_response_bytes_in_flight") == 0 })

	s.limits.lim.QueueWait = 50 * time.Millisecond
	if !s.limits.reserve(10 << 20) {
		t.Fatal("reserve 10 MiB of 20 again")
	}
	code, body := postDDB(t, s, "BatchGetItem", `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"k"}}]}}}`)
	if code != 400 || !strings.Contains(body, "RequestLimitExceeded") {
		t.Fatalf("BatchGetItem with the budget held: %d %s", code, body)
	}
	if code, _ := postDDB(t, s, "GetItem", getItem); code != 200 {
		t.Fatalf("GetItem with the budget held: %d", code)
	}
}

// TestInvokesHaveTheirOwnSlots: Lambda Invokes waiting for their functions
// do not take the DynamoDB API's slots; beyond their own cap they get
// TooManyRequestsException (429, ConcurrentInvocationLimitExceeded).
func TestInvokesHaveTheirOwnSlots(t *testing.T) {
	s := startLimited(t, HTTPLimits{MaxInFlight: 1, MaxQueued: -1})
	setupTable(t, s)
	hold, held := make(chan struct{}), make(chan struct{})
	// Stands in for the Lambda API's Invoke route: the limits see the
	// same path (the more specific pattern wins on the mux).
	s.Handle("POST /2015-03-31/functions/slow/invocations", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-hold
	}))
	invoke := func() *http.Response {
		resp, err := http.Post(s.URL()+"/2015-03-31/functions/slow/invocations", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Error(err)
			return nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	go invoke()
	<-held
	wellBehaved(t, s) // the one in-flight slot is free
	resp := invoke()
	if resp == nil || resp.StatusCode != 429 || resp.Header.Get("X-Amzn-Errortype") != "TooManyRequestsException" {
		t.Fatalf("second Invoke with one invocation slot: %+v", resp)
	}
	if n := metric(t, s, "eddy_http_requests_throttled_total", "reason", "invocations"); n != 1 {
		t.Errorf("%v invocations refused, want 1", n)
	}
	close(hold)
}
