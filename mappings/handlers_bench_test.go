package mappings_test

import (
	"cmp"
	"context"
	"math/big"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/triggers/guest"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// BenchmarkHandlers is issue 18's side-by-side: four handlers drain the
// same backlog (EDDY_BENCH_RECORDS, default 20,000 records of orders
// {pk, v, customer, amount}, 4 shards, BatchSize 100) and each reports
// records/s (wall) and CPU µs per record (getrusage of the whole process
// while the backlog drains: host, guest and storage). Modes:
//
//	before/guard, before/trusted  the handler and the guest SDK as they
//	                              were (triggers/testdata/before: encoding/json
//	                              in wasm, one host call per write)
//	guard, trusted                the handler as it is now (wasm-examples,
//	                              triggers/testdata/decode), with eddy's
//	                              default runaway guard or TrustedFunctions
//	native                        the same logic compiled into the host
//	                              (a mappings.Builtin): the ceiling
//
// Handlers: decode (every record decoded into typed values), decode-lazy
// (the three members it reads), view (wasm-examples/materialized-view:
// UpdateItem ADD per record, committed with the checkpoint), audit
// (wasm-examples/audit-trail with AUDIT_SINK: PutItem and an emit per
// record), search (wasm-examples/search-replication: an emit per record).
// Emits go to a counting sink. EDDY_BENCH_PF sets the mappings'
// ParallelizationFactor (default 1, Lambda's), EDDY_BENCH_BATCH their
// BatchSize (default 100, Lambda's; 1000 is a backlog drain's setting,
// up to Lambda's maximum of 10,000); EDDY_BENCH_PROFILE=file
// writes a CPU profile of the (last) drain (EDDY_BENCH_PROFILE_HZ asks for
// more samples than 100 a second for a short drain; on this machine about a
// quarter of them arrive at 1,000, so read shares, not absolute times). Run it alone, niced:
//
//	nice -n 10 go test ./mappings -run '^$' -bench Handlers -benchtime 1x
func BenchmarkHandlers(b *testing.B) {
	n := 20000
	if s := os.Getenv("EDDY_BENCH_RECORDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	only := os.Getenv("EDDY_BENCH_ONLY") // e.g. "view" or "decode/guard"
	pf, _ := strconv.Atoi(os.Getenv("EDDY_BENCH_PF"))
	pf = max(pf, 1)
	batch, _ := strconv.Atoi(os.Getenv("EDDY_BENCH_BATCH"))
	batch = cmp.Or(batch, 100) // Lambda's default for DynamoDB Streams
	type handler struct {
		name, before, after, handler string
		native                       func(h *nativeHandlers, ctx context.Context, uuid, q string, payload []byte) ([]byte, error)
	}
	handlers := []handler{
		{"decode", "./triggers/testdata/before/decode", "./triggers/testdata/decode", "handle", (*nativeHandlers).decode},
		{"decode-lazy", "", "./triggers/testdata/decode", "lazy", (*nativeHandlers).decodeLazy},
		{"view", "./triggers/testdata/before/view", "./wasm-examples/materialized-view", "handle", (*nativeHandlers).view},
		{"audit", "./triggers/testdata/before/audit", "./wasm-examples/audit-trail", "handle", (*nativeHandlers).audit},
		{"search", "./triggers/testdata/before/search", "./wasm-examples/search-replication", "handle", (*nativeHandlers).search},
	}
	for _, trusted := range []bool{false, true} {
		sk := &countSink{}
		nh := &nativeHandlers{sink: sk}
		var srv *eddytest.Server
		var arn string
		outer := b
		setup := func(*testing.B) { // the server outlives the sub-benchmarks: started on the outer b
			b := outer
			if srv != nil {
				return
			}
			srv = eddytest.Start(b, server.Options{NoSync: true, TrustedFunctions: trusted, Sinks: sk, Mappings: fastOptions(),
				Builtins: func(name string) (mappings.Builtin, bool) {
					for _, h := range handlers {
						if name == "eddy.bench-"+h.name {
							return func(ctx context.Context, uuid, q string, p []byte) ([]byte, error) {
								return h.native(nh, ctx, uuid, q, p)
							}, true
						}
					}
					return nil, false
				}})
			nh.srv = srv
			arn = srv.StreamTable(b, "src")
			writeOrders(b, srv.DDB, "src", n)
		}
		for _, h := range handlers {
			modes := []string{"before/guard", "guard", "native"}
			if trusted {
				modes = []string{"before/trusted", "trusted"}
			}
			for _, mode := range modes {
				if (h.before == "" && strings.HasPrefix(mode, "before")) || (only != "" && !strings.Contains(h.name+"/"+mode, only)) {
					continue
				}
				b.Run(h.name+"/"+mode, func(b *testing.B) {
					setup(b)
					run := strings.ReplaceAll(h.name+"_"+mode, "/", "_")
					vars := map[string]string{"QUIET": "1", "TOTALS_TABLE": "totals_" + run, "AUDIT_TABLE": "audit_" + run, "AUDIT_SINK": "audit", "SINK": "search"}
					benchTable(b, srv.DDB, "totals_"+run, "customer", "")
					benchTable(b, srv.DDB, "audit_"+run, "itemKey", "seq")
					fn := "eddy.bench-" + h.name
					switch mode {
					case "native":
						nh.vars = vars
					default:
						pkg := h.after
						if strings.HasPrefix(mode, "before") {
							pkg = h.before
						}
						code, err := triggerstest.BuildPackage(pkg)
						if err != nil {
							b.Fatal(err)
						}
						fn = "f_" + run
						lam := lambda.NewFromConfig(srv.Config())
						env := &ltypes.Environment{Variables: vars}
						if _, err := lam.CreateFunction(context.Background(), &lambda.CreateFunctionInput{FunctionName: aws.String(fn),
							Role: aws.String("arn:aws:iam::000000000000:role/x"), Code: &ltypes.FunctionCode{ZipFile: code},
							Handler: aws.String(h.handler), Timeout: aws.Int32(60), Environment: env, Runtime: ltypes.RuntimeProvidedal2023}); err != nil {
							b.Fatal(err)
						}
						// Compile and start an instance before the clock runs.
						if _, err := lam.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(`{"Records":[]}`)}); err != nil {
							b.Fatal(err)
						}
					}
					emitted := sk.n.Load()
					d := drain(b, srv, fn, arn, n, pf, batch)
					b.ReportMetric(d.rate, "records/s")
					b.ReportMetric(d.cpuPerRecord, "cpu-µs/record")
					b.ReportMetric(d.cores, "cores")
					b.ReportMetric(d.runqCores, "runq-cores")
					b.ReportMetric(d.allocPerRecord, "alloc-B/record")
					b.ReportMetric(0, "ns/op")
					if h.name == "audit" || h.name == "search" {
						if got := sk.n.Load() - emitted; got < int64(n) {
							b.Fatalf("%d documents emitted for %d records", got, n)
						}
					}
					if h.name == "view" {
						checkView(b, srv.DDB, "totals_"+run, n)
					}
				})
			}
		}
	}
}

// drained is what drain measured while the backlog drained.
type drained struct {
	rate         float64 // records/s (wall)
	cpuPerRecord float64 // CPU µs per record (getrusage: user + system)
	// cores is the CPU the process got per second of wall time, and
	// runqCores the time its threads spent runnable but waiting for a
	// CPU (the kernel's run-queue delay, /proc/self/task/*/schedstat)
	// per second: cores + runqCores near GOMAXPROCS means the process had
	// work for every core and other processes took them (the drain is
	// not serialized inside eddy); cores + runqCores well below it means
	// the lanes waited on each other or on I/O.
	cores, runqCores float64
	allocPerRecord   float64 // bytes allocated on the Go heap per record (host and native handlers; not wasm memory)
}

// drain maps fn to the stream from its trim horizon, waits until every
// shard's checkpoint is past the backlog, deletes the mapping, and
// returns what it measured while the backlog drained.
func drain(b *testing.B, srv *eddytest.Server, fn, arn string, n, pf, batch int) drained {
	lam := lambda.NewFromConfig(srv.Config())
	// The garbage of compiling the module (about a second of CPU) is
	// collected before the clock runs: it is no handler's per-record cost.
	runtime.GC()
	waitQuiet()
	if path := os.Getenv("EDDY_BENCH_PROFILE"); path != "" { // a CPU profile of the drain alone
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if hz, _ := strconv.Atoi(os.Getenv("EDDY_BENCH_PROFILE_HZ")); hz > 0 {
			runtime.SetCPUProfileRate(hz) // a short drain's profile needs more than 100 samples/s (the runtime then warns once)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("EDDY_BENCH_TRACE"); path != "" { // an execution trace of the drain: where the lanes wait
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			b.Fatal(err)
		}
		defer trace.Stop()
	}
	if path := os.Getenv("EDDY_BENCH_BLOCK"); path != "" { // block and mutex profiles of the drain (path.block, path.mutex)
		runtime.SetBlockProfileRate(10000)
		runtime.SetMutexProfileFraction(5)
		defer func() {
			for _, k := range []string{"block", "mutex"} {
				if f, err := os.Create(path + "." + k); err == nil {
					_ = pprof.Lookup(k).WriteTo(f, 0)
					f.Close()
				}
			}
			runtime.SetBlockProfileRate(0)
			runtime.SetMutexProfileFraction(0)
		}()
	}
	if path := os.Getenv("EDDY_BENCH_MEM"); path != "" { // allocation profiles before and after the drain (go tool pprof -base path.before path.after)
		writeAllocs := func(p string) {
			runtime.GC() // the profile is as of the last GC
			if f, err := os.Create(p); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
		writeAllocs(path + ".before")
		defer writeAllocs(path + ".after")
	}
	var ru0, ru1 syscall.Rusage
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, wait0 := schedstat()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	out, err := lam.CreateEventSourceMapping(context.Background(), &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn),
		EventSourceArn: aws.String(arn), BatchSize: aws.Int32(int32(batch)), StartingPosition: ltypes.EventSourcePositionTrimHorizon,
		ParallelizationFactor: aws.Int32(int32(pf))})
	if err != nil {
		b.Fatal(err)
	}
	uuid := aws.ToString(out.UUID)
	for {
		// Totals is one key read (the counts commit with the checkpoint),
		// so polling it costs the drain nothing measurable; Status, which
		// counts what is pending on the streams, cost 9% of a view drain's
		// CPU polled every 25 ms. It is asked once, at the end.
		tot, err := srv.Mappings().Totals(uuid)
		if err != nil {
			b.Fatal(err)
		}
		if tot.RecordsDelivered+tot.RecordsDeadLettered >= int64(n) {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("backlog not drained after 5 minutes: %+v", tot)
		}
		// A 20,000-record drain takes 100-200 ms on a quiet machine: a
		// 10 ms poll overstated it by up to a tenth.
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	_, wait1 := schedstat()
	runtime.ReadMemStats(&ms1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	if st, err := srv.Mappings().Status(uuid); err != nil {
		b.Fatal(err)
	} else {
		for _, s := range st {
			if s.PendingRecords != 0 {
				b.Fatalf("totals count the backlog but records are pending: %+v", st)
			}
		}
	}
	if _, err := lam.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)}); err != nil {
		b.Fatal(err)
	}
	return drained{rate: float64(n) / el.Seconds(), cpuPerRecord: float64(cpu.Microseconds()) / float64(n),
		cores: cpu.Seconds() / el.Seconds(), runqCores: (wait1 - wait0).Seconds() / el.Seconds(),
		allocPerRecord: float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(n)}
}

// schedstat sums the process's threads' time on a CPU and time runnable
// but waiting for one (/proc/self/task/*/schedstat; Linux only, zero
// elsewhere). A thread that exits between two calls takes its share with
// it, so a difference can only undercount.
func schedstat() (run, wait time.Duration) {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		raw, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw))
		if len(f) < 2 {
			continue
		}
		r, _ := strconv.ParseInt(f[0], 10, 64)
		w, _ := strconv.ParseInt(f[1], 10, 64)
		run += time.Duration(r)
		wait += time.Duration(w)
	}
	return run, wait
}

// waitQuiet waits (up to 20 s) until the process is using under 5% of a
// core: the storage's compactions of earlier writes (the backlog's, the
// previous handler's) would otherwise be counted against this handler.
func waitQuiet() {
	var r0, r1 syscall.Rusage
	for start := time.Now(); time.Since(start) < 20*time.Second; {
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		t0 := time.Now()
		time.Sleep(200 * time.Millisecond)
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano()-r0.Utime.Nano()) + time.Duration(r1.Stime.Nano()-r0.Stime.Nano())
		if cpu < time.Since(t0)/20 {
			return
		}
	}
}

// writeOrders writes n orders (100 customers, amounts 1.5 to 9.5).
func writeOrders(b *testing.B, ddb *dynamodb.Client, table string, n int) {
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var reqs []ddbtypes.WriteRequest
			flush := func() {
				for len(reqs) > 0 {
					out, err := ddb.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: reqs}})
					if err != nil {
						b.Error(err)
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
			for i := w; i < n; i += 4 {
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "order#" + strconv.Itoa(i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "x"},
					"customer": &ddbtypes.AttributeValueMemberS{Value: "c" + strconv.Itoa(i%100)},
					"amount":   &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(i%9+1) + ".5"}}}})
				if len(reqs) == 25 {
					flush()
				}
			}
			flush()
		}()
	}
	wg.Wait()
}

func benchTable(b *testing.B, ddb *dynamodb.Client, name, hash, rng string) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(hash), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}}}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(rng), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange})
	}
	if _, err := ddb.CreateTable(context.Background(), in); err != nil {
		b.Fatal(err)
	}
}

// checkView: customer c0's orders are every 100th record.
func checkView(b *testing.B, ddb *dynamodb.Client, table string, n int) {
	out, err := ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"customer": &ddbtypes.AttributeValueMemberS{Value: "c0"}}})
	if err != nil {
		b.Fatal(err)
	}
	o, _ := out.Item["orders"].(*ddbtypes.AttributeValueMemberN)
	if want := strconv.Itoa((n + 99) / 100); o == nil || o.Value != want {
		b.Fatalf("view %s: c0 has %v orders, want %s", table, out.Item["orders"], want)
	}
}

type countSink struct{ n atomic.Int64 }

func (s *countSink) Emit(context.Context, string, []byte) error { s.n.Add(1); return nil }

// nativeHandlers are the benchmark's handlers compiled into the host: the
// same logic as the wasm ones, with the guest SDK's scanner run natively
// and table calls and emits made directly (writes still buffered and
// committed with the checkpoint: the ctx carries the buffers).
type nativeHandlers struct {
	srv  *eddytest.Server
	sink *countSink
	vars map[string]string
}

// parseNative reads the event as a wasm handler does on eddy (the host
// indexes it, the SDK loads the index: input_index), so that the native
// ceiling does the same work natively; ParseEvent's scan is the SDK's
// fallback, natively about 2x the typed decoding's cost (BenchmarkLegacy
// in triggers/guest), which made the typed decode's ceiling look slow.
func parseNative(payload []byte, ev *guest.Event) error {
	if idx, err := guest.AppendEventIndex(nil, payload); err == nil && guest.LoadEventIndex(payload, idx, ev) {
		return nil
	}
	return guest.ParseEvent(payload, ev)
}

func (h *nativeHandlers) decode(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
	var ev guest.Event
	if err := parseNative(payload, &ev); err != nil {
		return nil, err
	}
	sum := 0
	for i := range ev.Records {
		r, err := ev.Records[i].Legacy()
		if err != nil {
			return nil, err
		}
		sum += len(r.DynamoDB.SequenceNumber) + len(r.DynamoDB.Keys["pk"].Str()) + len(r.DynamoDB.NewImage["v"].Str())
	}
	return []byte(`{"batchItemFailures":null}`), nil
}

func (h *nativeHandlers) decodeLazy(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
	var ev guest.Event
	if err := parseNative(payload, &ev); err != nil {
		return nil, err
	}
	sum := 0
	for i := range ev.Records {
		r := &ev.Records[i]
		pk, _ := r.Keys().Get("pk").Str()
		v, _ := r.NewImage().Get("v").Str()
		sum += len(r.SequenceNumber()) + len(pk) + len(v)
	}
	return []byte(`{"batchItemFailures":null}`), nil
}

func (h *nativeHandlers) view(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
	var ev guest.Event
	if err := parseNative(payload, &ev); err != nil {
		return nil, err
	}
	table := h.vars["TOTALS_TABLE"]
	orderOf := func(img guest.Image) (c, a string, ok bool) {
		c, okc := img.Get("customer").Str()
		a, oka := img.Get("amount").Num()
		return c, a, okc && oka
	}
	var req []byte
	add := func(customer, amount, orders string) error {
		req = guest.AppendString(append(req[:0], `{"TableName":`...), table)
		req = guest.AppendString(append(req, `,"Key":{"customer":{"S":`...), customer)
		req = append(req, `}},"UpdateExpression":"ADD #t :a, #o :n","ExpressionAttributeNames":{"#t":"total","#o":"orders"},`+
			`"ExpressionAttributeValues":{":a":{"N":`...)
		req = guest.AppendString(req, amount)
		req = guest.AppendString(append(req, `},":n":{"N":`...), orders)
		req = append(req, "}}}"...)
		_, err := h.srv.Call(ctx, "UpdateItem", req, "")
		return err
	}
	for i := range ev.Records {
		r := &ev.Records[i]
		oc, oa, hadOld := orderOf(r.OldImage())
		cc, ca, hasNew := orderOf(r.NewImage())
		hasNew = hasNew && !r.EventNameIs("REMOVE")
		hadOld = hadOld && !r.EventNameIs("INSERT")
		var err error
		switch {
		case hadOld && hasNew && oc == cc:
			x, _ := new(big.Rat).SetString(ca)
			y, _ := new(big.Rat).SetString(oa)
			if d := x.Sub(x, y); d.Sign() != 0 {
				err = add(cc, d.FloatString(2), "0")
			}
		default:
			if hadOld {
				err = add(oc, "-"+oa, "-1")
			}
			if err == nil && hasNew {
				err = add(cc, ca, "1")
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return []byte(`{"batchItemFailures":null}`), nil
}

func (h *nativeHandlers) audit(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
	var ev guest.Event
	if err := parseNative(payload, &ev); err != nil {
		return nil, err
	}
	table, sink := h.vars["AUDIT_TABLE"], h.vars["AUDIT_SINK"]
	var item, req []byte
	for i := range ev.Records {
		r := &ev.Records[i]
		key := nativeKeyString(r.Keys())
		item = guest.AppendString(append(item[:0], `{"itemKey":{"S":`...), key)
		item = guest.AppendString(append(item, `},"seq":{"S":`...), r.SequenceNumber())
		item = guest.AppendString(append(item, `},"eventName":{"S":`...), r.EventName())
		item = guest.AppendString(append(item, `},"writtenAt":{"N":`...), strconv.FormatFloat(r.ApproximateCreationDateTime(), 'f', -1, 64))
		item = guest.AppendString(append(item, `},"source":{"S":`...), nativeTableName(r.EventSourceARN()))
		item = append(append(item, `},"keys":{"M":`...), r.Keys().Raw()...)
		if old := r.OldImage(); old.Exists() {
			item = append(append(item, `},"oldImage":{"M":`...), old.Raw()...)
		}
		if cur := r.NewImage(); cur.Exists() {
			item = append(append(item, `},"newImage":{"M":`...), cur.Raw()...)
		}
		item = append(item, "}}"...)
		req = guest.AppendString(append(req[:0], `{"TableName":`...), table)
		req = append(append(append(req, `,"Item":`...), item...), '}')
		if _, err := h.srv.Call(ctx, "PutItem", req, ""); err != nil {
			return nil, err
		}
		seq := r.SequenceNumber()
		req = append(append(req[:0], `{"doc":`...), item...)
		req = guest.AppendString(append(req, `,"id":`...), key+"/"+seq)
		req = guest.AppendString(append(req, `,"op":"index","seq":`...), seq)
		req = guest.AppendString(append(req, `,"table":`...), nativeTableName(r.EventSourceARN()))
		if err := h.emit(ctx, sink, append(req, '}')); err != nil {
			return nil, err
		}
	}
	return []byte(`{"batchItemFailures":null}`), nil
}

func (h *nativeHandlers) search(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
	var ev guest.Event
	if err := parseNative(payload, &ev); err != nil {
		return nil, err
	}
	var doc []byte
	for i := range ev.Records {
		r := &ev.Records[i]
		op := "index"
		if r.EventNameIs("REMOVE") {
			op = "delete"
		}
		doc = guest.AppendString(append(doc[:0], `{"op":`...), op)
		doc = guest.AppendString(append(doc, `,"table":`...), nativeTableName(r.EventSourceARN()))
		doc = guest.AppendString(append(doc, `,"id":`...), nativeKeyString(r.Keys()))
		doc = guest.AppendString(append(doc, `,"seq":`...), r.SequenceNumber())
		if op == "index" && r.NewImage().Exists() {
			var err error
			if doc, err = r.NewImage().AppendPlain(append(doc, `,"doc":`...)); err != nil {
				return nil, err
			}
		}
		if err := h.emit(ctx, h.vars["SINK"], append(doc, '}')); err != nil {
			return nil, err
		}
	}
	return []byte(`{"batchItemFailures":null}`), nil
}

// emit hands a document to the server's sinks as eddy.emit does (the
// benchmark's server has a counting sink).
func (h *nativeHandlers) emit(ctx context.Context, sink string, doc []byte) error {
	return h.sink.Emit(ctx, sink, append([]byte(nil), doc...))
}

func nativeKeyString(k guest.Image) string {
	var names []string
	_ = k.Each(func(name string, _ guest.Value) bool { names = append(names, name); return true })
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		v := k.Get(n)
		s, _ := v.Str()
		if num, ok := v.Num(); ok {
			s = num
		}
		parts[i] = n + "=" + s
	}
	return strings.Join(parts, "|")
}

func nativeTableName(arn string) string {
	_, rest, _ := strings.Cut(arn, ":table/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}
