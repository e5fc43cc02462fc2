// Command attack measures how eddy holds up against slow clients (finding
// 3 of issue 13): it builds eddy, starts `eddy serve` as a child process on
// a temporary directory (durable writes, default HTTP limits unless -serve
// flags say otherwise), and while
//
//   - -slow (2000) connections send a GetItem's headers and one byte of a
//     100-byte body, and reconnect whenever the server cuts them off, and
//   - -nonreaders (150) clients send a BatchGetItem whose response is ~16 MB
//     and never read it, each on a new connection every -hold (10s),
//
// one well-behaved client sends GetItem after GetItem on a keep-alive
// connection. It prints that client's GetItem p50/p99/max (before and
// during the attack), its errors, /healthz's answers, the server's RSS
// (VmRSS sampled each second and VmHWM, from /proc/PID/status) and the
// eddy_http_* metrics, then the targets (p99 < 20 ms, RSS < 500 MB)
// as PASS or MISS. It is bounded: the attack lasts -duration (30s) and the
// run stops by itself; everything listens on 127.0.0.1.
//
//	go run ./bench/attack
//	go run ./bench/attack -slow 500 -nonreaders 20 -duration 10s
//	go run ./bench/attack -serve=--http-max-in-flight=64,--http-response-budget=33554432
//
// Check `ulimit -n` first: the harness holds about slow+nonreaders+10
// descriptors, and so does the server.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

type config struct {
	slow, nonreaders int
	duration, hold   time.Duration
	eddyBin          string
	serveFlags       string
}

func run() error {
	var c config
	flag.IntVar(&c.slow, "slow", 2000, "slow-body connections")
	flag.IntVar(&c.nonreaders, "nonreaders", 150, "clients that never read their BatchGetItem response")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "how long the attack is measured")
	flag.DurationVar(&c.hold, "hold", 10*time.Second, "how long a non-reading client keeps a connection before trying again on a new one")
	flag.StringVar(&c.eddyBin, "eddy-bin", "", "use this eddy binary instead of building ./cmd/eddy")
	flag.StringVar(&c.serveFlags, "serve", "", "extra eddy serve flags, comma-separated (e.g. --http-max-in-flight=64)")
	flag.Parse()

	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < uint64(c.slow+c.nonreaders+64) {
		return fmt.Errorf("open-file limit %d is below the %d connections this run holds: lower -slow/-nonreaders or raise ulimit -n",
			rl.Cur, c.slow+c.nonreaders+64)
	}
	tmp, err := os.MkdirTemp("", "eddy-attack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := c.eddyBin
	if bin == "" {
		bin = filepath.Join(tmp, "eddy")
		fmt.Println("building ./cmd/eddy ...")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/eddy").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/eddy: %v\n%s", err, out)
		}
	}
	srv, err := start(bin, tmp, c.serveFlags)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("eddy serve pid %d at %s (data %s)\n", srv.pid, srv.addr, tmp)

	if err := setup(srv.addr); err != nil {
		return err
	}
	rss0, _ := procStatus(srv.pid, "VmRSS")
	fmt.Printf("setup done: table attack, 1 small item, 100 items of 160 KB; server RSS %s\n", mb(rss0))

	base := measure(srv.addr, 5*time.Second, nil)
	fmt.Printf("before the attack: GetItem %s\n", base)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var st attackStats
	for i := range c.slow {
		wg.Go(func() { slowBody(ctx, srv.addr, &st) })
		if i%100 == 99 {
			time.Sleep(10 * time.Millisecond) // a short ramp: the kernel's accept backlog is finite
		}
	}
	body := batchGet()
	for range c.nonreaders {
		wg.Go(func() { nonReader(ctx, srv.addr, body, c.hold, &st) })
	}
	time.Sleep(2 * time.Second) // let the attack build up
	fmt.Printf("attack running: %d slow-body connections, %d non-reading clients\n", c.slow, c.nonreaders)

	var peak atomic.Int64
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if v, err := procStatus(srv.pid, "VmRSS"); err == nil && v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	var health healthStats
	during := measure(srv.addr, c.duration, &health)
	metrics := scrape(srv.addr)
	rssEnd, _ := procStatus(srv.pid, "VmRSS")
	hwm, _ := procStatus(srv.pid, "VmHWM")
	cancel()
	<-sampleDone
	wg.Wait()

	fmt.Printf("during the attack (%v): GetItem %s\n", c.duration, during)
	fmt.Printf("  /healthz: %d answered 200 of %d, slowest %v\n", health.ok, health.n, health.slowest.Round(time.Microsecond))
	fmt.Printf("  attackers: %d slow-body connections opened (%d cut off by the server), %d BatchGetItem requests sent unread, %d dial errors\n",
		st.slowDials.Load(), st.slowCut.Load(), st.batchSent.Load(), st.dialErrs.Load())
	fmt.Printf("  server RSS: %s at the end, %s peak sampled, VmHWM %s (before the attack %s)\n", mb(rssEnd), mb(peak.Load()), mb(hwm), mb(rss0))
	fmt.Println("  server metrics at the end of the attack:")
	for _, l := range metrics {
		fmt.Println("    " + l)
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Printf("target GetItem p99 < 20 ms under attack: %s (%v)\n", verdict(during.p99 < 20*time.Millisecond && during.errs == 0), during.p99.Round(time.Microsecond))
	fmt.Printf("target server RSS < 500 MB under attack: %s (VmHWM %s)\n", verdict(hwm < 500<<20), mb(hwm))
	return nil
}

// server is the eddy child process.
type server struct {
	addr string
	pid  int
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func start(bin, dir, extra string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	args := []string{"serve", "--addr", addr, "--data", filepath.Join(dir, "data"), "--init", "--log-level", "info"}
	if extra != "" {
		args = append(args, strings.Split(extra, ",")...)
	}
	s := &server{addr: addr, logs: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // the server dies with the harness
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := hc.Get("http://" + addr + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("eddy never became healthy:\n%s", s.logs)
}

// stop sends SIGTERM, waits at most 20 s, then kills; it prints the
// server's log lines about the limits.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Printf("eddy exited: %v\n", err)
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		fmt.Println("eddy did not stop within 20s of SIGTERM: killed")
	}
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, "http") || strings.Contains(l, "level=ERROR") {
			fmt.Println("  server log: " + l)
		}
	}
}

// call posts a DynamoDB operation and returns the status and body.
func call(hc *http.Client, addr, op string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func setup(addr string) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	must := func(op, body string) error {
		code, b, err := call(hc, addr, op, []byte(body))
		if err != nil || code != 200 {
			return fmt.Errorf("%s: %d %v %.300s", op, code, err, b)
		}
		return nil
	}
	if err := must("CreateTable", `{"TableName":"attack","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`); err != nil {
		return err
	}
	if err := must("PutItem", `{"TableName":"attack","Item":{"pk":{"S":"k"},"v":{"S":"a small item"}}}`); err != nil {
		return err
	}
	v := strings.Repeat("x", 160_000)
	for i := range 100 {
		if err := must("PutItem", fmt.Sprintf(`{"TableName":"attack","Item":{"pk":{"S":"big%d"},"v":{"S":%q}}}`, i, v)); err != nil {
			return err
		}
	}
	return nil
}

// batchGet is the request of a ~16 MB BatchGetItem response.
func batchGet() []byte {
	var keys []string
	for i := range 100 {
		keys = append(keys, fmt.Sprintf(`{"pk":{"S":"big%d"}}`, i))
	}
	return []byte(`{"RequestItems":{"attack":{"Keys":[` + strings.Join(keys, ",") + `]}}}`)
}

type attackStats struct {
	slowDials, slowCut, batchSent, dialErrs atomic.Int64
}

// slowBody keeps one connection that sent headers and one byte of a
// 100-byte body open, and opens another when the server closes it.
func slowBody(ctx context.Context, addr string, st *attackStats) {
	for ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			st.dialErrs.Add(1)
			sleep(ctx, time.Second)
			continue
		}
		st.slowDials.Add(1)
		opened := time.Now()
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		_, err = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{", addr)
		if err == nil {
			_, _ = io.Copy(io.Discard, c) // until the server closes it (or the run ends)
			if ctx.Err() == nil {
				st.slowCut.Add(1)
			}
		}
		stop()
		_ = c.Close()
		if time.Since(opened) < time.Second {
			sleep(ctx, time.Second) // refused at the cap: no busy loop of dials
		}
	}
}

// nonReader sends a BatchGetItem on a connection with a small receive
// buffer and never reads; after hold it gives up and tries again.
func nonReader(ctx context.Context, addr string, body []byte, hold time.Duration, st *attackStats) {
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) // best effort
		})
	}}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() == nil {
				st.dialErrs.Add(1)
			}
			sleep(ctx, time.Second)
			continue
		}
		_, err = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.BatchGetItem\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
		if err == nil {
			st.batchSent.Add(1)
		}
		sleep(ctx, hold)
		_ = c.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type latencies struct {
	n, errs        int
	p50, p99, pmax time.Duration
	firstErr       string
}

func (l latencies) String() string {
	s := fmt.Sprintf("%d requests, p50 %v, p99 %v, max %v, %d errors", l.n, l.p50.Round(time.Microsecond),
		l.p99.Round(time.Microsecond), l.pmax.Round(time.Microsecond), l.errs)
	if l.firstErr != "" {
		s += " (first: " + l.firstErr + ")"
	}
	return s
}

type healthStats struct {
	n, ok   int
	slowest time.Duration
}

// measure is the well-behaved client: GetItem on a keep-alive connection
// every 5 ms for d (and /healthz every 500 ms when health is set).
func measure(addr string, d time.Duration, health *healthStats) latencies {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}
	body := []byte(`{"TableName":"attack","Key":{"pk":{"S":"k"}}}`)
	var l latencies
	var lat []time.Duration
	nextHealth := time.Now()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		t0 := time.Now()
		code, b, err := call(hc, addr, "GetItem", body)
		el := time.Since(t0)
		lat = append(lat, el)
		if err != nil || code != 200 || !bytes.Contains(b, []byte("a small item")) {
			l.errs++
			if l.firstErr == "" {
				l.firstErr = fmt.Sprintf("%d %v %.200s", code, err, b)
			}
		}
		if health != nil && time.Now().After(nextHealth) {
			nextHealth = time.Now().Add(500 * time.Millisecond)
			t0 := time.Now()
			resp, err := hc.Get("http://" + addr + "/healthz")
			health.n++
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == 200 {
					health.ok++
				}
			}
			health.slowest = max(health.slowest, time.Since(t0))
		}
	}
	slices.Sort(lat)
	l.n = len(lat)
	if l.n > 0 {
		l.p50, l.p99, l.pmax = lat[l.n/2], lat[min(l.n-1, l.n*99/100)], lat[l.n-1]
	}
	return l
}

// scrape returns the eddy_http_* lines of /metrics.
func scrape(addr string) []string {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		return []string{"(metrics: " + err.Error() + ")"}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return []string{"(metrics: " + err.Error() + ")"}
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "eddy_http_") {
			out = append(out, l)
		}
	}
	return out
}

// procStatus reads a kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New(field + " not in /proc/PID/status")
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
