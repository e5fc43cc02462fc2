package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eddydb/eddy/internal/sdkretry"
)

// config is the harness's options (flags in main.go).
type config struct {
	clients    int
	duration   time.Duration
	warmup     time.Duration
	rounds     int
	scenarios  []string
	items      int
	itemSize   int
	queryItems int
}

// result is one scenario measured on one target.
type result struct {
	Target   string `json:"target"`
	Scenario string `json:"scenario"`
	Clients  int    `json:"clients"`
	// Skipped, when set, says why the scenario did not run; nothing else is.
	Skipped    string  `json:"skipped,omitempty"`
	Ops        int64   `json:"ops"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	// ServerCPUus is the server process's user+system CPU per operation over
	// the measured window; -1 when the server's PID is unknown.
	ServerCPUus float64 `json:"server_cpu_per_op_us"`
	// ClientCPUus is this harness process's CPU per operation.
	ClientCPUus float64 `json:"client_cpu_per_op_us"`
}

// newClient returns a DynamoDB client for url as users would build one:
// static credentials, no retries of server errors (every error is counted;
// see sdkretry.ClosedConn for the one client-side race retried), and an HTTP
// connection pool big enough for every client to keep its connection.
func newClient(url string, clients int) *dynamodb.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 2 * clients
		t.MaxIdleConnsPerHost = 2 * clients
	})
	return dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   hc,
		Retryer:      sdkretry.ClosedConn,
	})
}

// prepareScenario runs a scenario's setup and warmup on one target. A
// skipped scenario comes back as a result with Skipped set.
func prepareScenario(ctx context.Context, e *env, target string, sc scenario) (*result, error) {
	cfg := e.cfg
	if err := sc.setup(ctx, e); err != nil {
		var skip *skipError
		if !errors.As(err, &skip) {
			return nil, fmt.Errorf("%s: %s: setup: %w", target, sc.name, err)
		}
		return &result{Target: target, Scenario: sc.name, Clients: cfg.clients, ServerCPUus: -1, Skipped: skip.reason}, nil
	}
	if cfg.warmup > 0 {
		measure(ctx, cfg, e.ddb, sc, cfg.warmup)
	}
	return nil, ctx.Err()
}

// window is one measured window of a scenario on one target; a result adds
// up a target's windows (rounds).
type window struct {
	m            measurement
	server, self time.Duration
	cpuKnown     bool
}

// measureWindow runs one measured window. pid is the server's process for
// CPU accounting (0: unknown). onMeasure, if set, is called as the window
// starts (profiling).
func measureWindow(ctx context.Context, e *env, pid int, sc scenario, d time.Duration, onMeasure func()) (window, error) {
	cpu0, ok0 := procCPU(pid)
	self0 := selfCPU()
	if onMeasure != nil {
		onMeasure()
	}
	m := measure(ctx, e.cfg, e.ddb, sc, d)
	cpu1, ok1 := procCPU(pid)
	self1 := selfCPU()
	return window{m: m, server: cpu1 - cpu0, self: self1 - self0, cpuKnown: ok0 && ok1}, ctx.Err()
}

// summarize adds up a target's windows into its result.
func summarize(target string, sc scenario, clients int, ws []window) result {
	r := result{Target: target, Scenario: sc.name, Clients: clients, ServerCPUus: -1}
	var lat []time.Duration
	var server, self time.Duration
	cpuKnown := len(ws) > 0
	for _, w := range ws {
		r.Ops += w.m.ops
		r.Errors += w.m.errors
		if r.FirstError == "" {
			r.FirstError = w.m.firstErr
		}
		r.Seconds += w.m.elapsed.Seconds()
		lat = append(lat, w.m.lat...)
		server += w.server
		self += w.self
		cpuKnown = cpuKnown && w.cpuKnown
	}
	if r.Ops > 0 {
		slices.Sort(lat)
		r.OpsPerSec = float64(r.Ops) / r.Seconds
		r.P50us = micros(percentile(lat, 0.50))
		r.P99us = micros(percentile(lat, 0.99))
		r.ClientCPUus = micros(self) / float64(r.Ops)
		if cpuKnown {
			r.ServerCPUus = micros(server) / float64(r.Ops)
		}
	}
	return r
}

type measurement struct {
	ops, errors int64
	firstErr    string
	elapsed     time.Duration
	lat         []time.Duration // successful operations only, sorted
}

// measure runs sc.op on cfg.clients goroutines for d; every client has its
// own random source and records its own latencies (no shared state on the
// hot path).
func measure(ctx context.Context, cfg *config, ddb *dynamodb.Client, sc scenario, d time.Duration) measurement {
	type local struct {
		lat      []time.Duration
		errors   int64
		firstErr error
	}
	locals := make([]local, cfg.clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range locals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &locals[c]
			l.lat = make([]time.Duration, 0, 4096)
			w := &worker{ddb: ddb, cfg: cfg, rng: rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano()))), data: payload(cfg.itemSize, uint64(c)+1e9)}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := sc.op(ctx, w)
				if err != nil {
					l.errors++
					if l.firstErr == nil {
						l.firstErr = err
					}
					continue
				}
				l.lat = append(l.lat, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	m := measurement{elapsed: time.Since(start)}
	for _, l := range locals {
		m.lat = append(m.lat, l.lat...)
		m.errors += l.errors
		if m.firstErr == "" && l.firstErr != nil {
			m.firstErr = l.firstErr.Error()
		}
	}
	m.ops = int64(len(m.lat)) + m.errors
	slices.Sort(m.lat)
	return m
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPU returns a process's user+system CPU time so far, from
// /proc/<pid>/stat (fields 14 and 15; all threads, including exited ones).
func procCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
