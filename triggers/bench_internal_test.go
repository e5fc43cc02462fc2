package triggers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// Benchmarks. Run with:
//
//	go test ./triggers -run '^$' -bench . -benchtime 2x   (compile)
//	go test ./triggers -run '^$' -bench 'Instantiate|Invoke'
//
// "guard" is the default (runaway guard on), "trusted" is
// Options.TrustedCode; the difference is the cost of the guard.

func benchHost(b *testing.B, dataDir string, trusted bool) *Host {
	b.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Deps{DB: db.KeySpace(store.SpaceFunctions)}, Options{DataDir: dataDir, TrustedCode: trusted})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(); _ = db.Close() })
	return h
}

func benchCode(b *testing.B, name string) []byte {
	b.Helper()
	code, err := triggerstest.Build(name)
	if err != nil {
		b.Fatal(err)
	}
	return code
}

func modes(b *testing.B, f func(b *testing.B, trusted bool)) {
	b.Run("guard", func(b *testing.B) { f(b, false) })
	b.Run("trusted", func(b *testing.B) { f(b, true) })
}

// BenchmarkCompile: CreateFunction of the 3.4 MB kitchen module. cold: a
// fresh cache dir each time; cached: a new runtime over a cache dir a
// previous Host filled (what a restart sees).
func BenchmarkCompile(b *testing.B) {
	code := benchCode(b, "kitchen")
	ctx := context.Background()
	modes(b, func(b *testing.B, trusted bool) {
		b.Run("cold", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h := benchHost(b, b.TempDir(), trusted)
				b.StartTimer()
				if _, err := h.CreateFunction(ctx, FunctionSpec{Name: "k", Code: code}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("cached", func(b *testing.B) {
			dir := b.TempDir()
			if _, err := benchHost(b, dir, trusted).CreateFunction(ctx, FunctionSpec{Name: "k", Code: code}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h := benchHost(b, dir, trusted)
				b.StartTimer()
				if _, err := h.CreateFunction(ctx, FunctionSpec{Name: "k", Code: code}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func benchPool(b *testing.B, h *Host, name string, spec FunctionSpec) *pool {
	b.Helper()
	ctx := context.Background()
	spec.Name = name
	if _, err := h.CreateFunction(ctx, spec); err != nil {
		b.Fatal(err)
	}
	c, err := h.GetFunction(name, "")
	if err != nil {
		b.Fatal(err)
	}
	p, err := h.poolFor(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkInstantiate: a new instance of the empty guest (Go runtime
// start-up in _initialize included).
func BenchmarkInstantiate(b *testing.B) {
	code := benchCode(b, "empty")
	modes(b, func(b *testing.B, trusted bool) {
		p := benchPool(b, benchHost(b, "", trusted), "e", FunctionSpec{Code: code})
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			inst, err := p.instantiate(ctx, &logBuffer{max: 4096})
			if err != nil {
				b.Fatal(err)
			}
			inst.close()
		}
	})
}

// BenchmarkInvokeEmpty: Host.Invoke of a handler that does nothing, on a
// warm instance: the host's per-invocation overhead.
func BenchmarkInvokeEmpty(b *testing.B) {
	code := benchCode(b, "empty")
	ctx := context.Background()
	modes(b, func(b *testing.B, trusted bool) {
		h := benchHost(b, "", trusted)
		benchPool(b, h, "e", FunctionSpec{Code: code})
		payload := []byte(`{}`)
		if _, err := h.Invoke(ctx, "e", "", payload); err != nil { // warm up
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := h.Invoke(ctx, "e", "", payload)
			if err != nil || res.FunctionError != "" {
				b.Fatal(err, string(res.Payload))
			}
		}
	})
}

func streamEvent(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"eventID":"%d","eventName":"MODIFY","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000",`+
			`"dynamodb":{"ApproximateCreationDateTime":1700000000,"Keys":{"pk":{"S":"user#%d"},"sk":{"N":"%d"}},`+
			`"NewImage":{"pk":{"S":"user#%d"},"sk":{"N":"%d"},"name":{"S":"Ada Lovelace"},"tags":{"SS":["a","b"]},"n":{"N":"42"},"m":{"M":{"x":{"BOOL":true}}}},`+
			`"OldImage":{"pk":{"S":"user#%d"},"sk":{"N":"%d"},"name":{"S":"Ada"}},`+
			`"SequenceNumber":"%021d","SizeBytes":180,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`, i, i, i, i, i, i, i, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// ordersEvent is a stream event of n INSERTs shaped like mappings'
// BenchmarkHandlers' orders.
func ordersEvent(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"eventID":"%d","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/src/stream/2024-01-01T00:00:00.000",`+
			`"dynamodb":{"ApproximateCreationDateTime":1700000000,"Keys":{"pk":{"S":"order#%d"}},`+
			`"NewImage":{"pk":{"S":"order#%d"},"v":{"S":"x"},"customer":{"S":"c%d"},"amount":{"N":"%d.5"}},`+
			`"SequenceNumber":"%021d","SizeBytes":60,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`, i, i, i, i%100, i%9+1, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// BenchmarkInvokeBatch100: a 100-record stream event (~55 KB) decoded into
// typed records by the kitchen guest's stream handler.
func BenchmarkInvokeBatch100(b *testing.B) {
	code := benchCode(b, "kitchen")
	ctx := context.Background()
	ev := streamEvent(100)
	modes(b, func(b *testing.B, trusted bool) {
		h := benchHost(b, "", trusted)
		benchPool(b, h, "s", FunctionSpec{Code: code, Handler: "stream", Environment: map[string]string{"QUIET": "1"}})
		if _, err := h.Invoke(ctx, "s", "", ev); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(ev)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := h.Invoke(ctx, "s", "", ev)
			if err != nil || res.FunctionError != "" {
				b.Fatal(err, string(res.Payload))
			}
		}
	})
}

// BenchmarkInvokeDecode: the decode-only guest (triggers/testdata/decode)
// on a 100-record event: "handle" decodes every record into typed values,
// "reused" too into the previous invocation's maps, "lazy" reads three members of each, "scan" only reads the event (the
// host's index since eddy-abi-v3). EDDY_BENCH_EVENT=orders gives it the
// records of mappings' BenchmarkHandlers (INSERTs of four attributes)
// instead of streamEvent's. cpu-µs/record is the process's CPU per record.
func BenchmarkInvokeDecode(b *testing.B) {
	code := benchCode(b, "decode")
	ctx := context.Background()
	ev := streamEvent(100)
	if os.Getenv("EDDY_BENCH_EVENT") == "orders" {
		ev = ordersEvent(100)
	}
	modes(b, func(b *testing.B, trusted bool) {
		h := benchHost(b, "", trusted)
		for _, handler := range []string{"handle", "reused", "lazy", "scan"} {
			benchPool(b, h, handler, FunctionSpec{Code: code, Handler: handler})
			if _, err := h.Invoke(ctx, handler, "", ev); err != nil {
				b.Fatal(err)
			}
			b.Run(handler, func(b *testing.B) {
				b.SetBytes(int64(len(ev)))
				cpu0 := cpuTime()
				var last []byte
				for i := 0; i < b.N; i++ {
					res, err := h.Invoke(ctx, handler, "", ev)
					if err != nil || res.FunctionError != "" {
						b.Fatal(err, string(res.Payload))
					}
					last = res.Payload
				}
				if os.Getenv("EDDY_EXP_STATS") != "" {
					b.Logf("%s", last)
				}
				// The process's CPU (guest, host and Go's GC) per record: on
				// a shared machine wall time per op measures the load too.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(100*b.N), "cpu-µs/record")
			})
		}
	})
}

// cpuTime is the process's CPU time so far (getrusage: user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
