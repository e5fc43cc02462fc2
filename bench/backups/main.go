// Command backups measures eddy's backups and point-in-time recovery:
//
//	go run ./bench/backups restore [-mb 1024] [-item 1000] [-dir DIR]
//	    loads a table of -mb megabytes (items of about -item bytes) into a
//	    store, then times an on-demand backup, a restore from it, enabling
//	    PITR (the base copy) and a point-in-time restore: items/s and MB/s.
//	go run ./bench/backups history [-writes 1000000] [-item 100]
//	    the disk cost of the PITR history per million writes (updates of
//	    -item-byte items over 100k keys), projected to 35 days at several
//	    write rates.
//	go run ./bench/backups writers [-writers 16] [-seconds 10] [-compare 1]
//	    16 clients write (TransactWriteItems of two items that must stay
//	    equal) through the HTTP API, first alone, then while backups and
//	    restores (from backups and to points in time) run back to back:
//	    the writers' latency percentiles in both phases, and every restored
//	    table checked consistent as of one instant (no pair torn). With
//	    -compare 1, five servers in one run whose phases alternate over
//	    -rounds rounds: restores committing batches as before they were
//	    ingested (EDDY_RESTORE_INGEST=0), ingested working a quarter and a
//	    tenth of the time (EDDY_RESTORE_SHARE), backups alone, and ingested
//	    at a tenth without Pebble's ingest-time split (EDDY_INGEST_SPLIT=0,
//	    as before: the restored files went to L0); the spread of the
//	    writers' throughput alone over all phases is the noise. Each
//	    configuration also reports, per phase alone and during, the
//	    process's GC cycles and CPU (runtime/metrics) and its Pebble's
//	    flushes, compactions, block cache hit rate and the levels ingested
//	    files went to. BENCH_CONFIGS=4,2,3 runs a subset (indexes into that
//	    list); BENCH_PROFILE=DIR writes each phase's CPU profile there.
package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: backups restore|history|writers [flags]")
	}
	switch os.Args[1] {
	case "restore":
		restoreBench(os.Args[2:])
	case "history":
		historyBench(os.Args[2:])
	case "writers":
		writersBench(os.Args[2:])
	default:
		log.Fatal("usage: backups restore|history|writers [flags]")
	}
}

func flags(args []string, def map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range def {
		out[k] = v
	}
	for i := 0; i+1 < len(args); i += 2 {
		n, err := strconv.Atoi(args[i+1])
		if err != nil {
			log.Fatalf("%s: %v", args[i], err)
		}
		out[args[i][1:]] = n
	}
	return out
}

func tempDir() string {
	d, err := os.MkdirTemp("", "eddy-backups-bench-")
	if err != nil {
		log.Fatal(err)
	}
	return d
}

func openStore(dir string) *store.DB {
	// NoSync: the loads measure nothing; restores sync their last batch either way.
	db, err := store.Open(store.Options{Dir: dir, Init: true, NoSync: true})
	if err != nil {
		log.Fatal(err)
	}
	return db
}

func table(db *store.DB, name string) *store.Table {
	t, err := db.CreateTable(&store.Table{Name: name, Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}, {Name: "g", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST",
		Indexes:     []store.Index{{ID: 1, Name: "byG", Global: true, Hash: store.KeyElement{Name: "g", Type: attr.TypeS}, Projection: "KEYS_ONLY", Status: "ACTIVE"}},
		LastIndexID: 1})
	if err != nil {
		log.Fatal(err)
	}
	return t
}

func item(i, size int) attr.Item {
	// Random letters: about as compressible as text (Pebble's blocks are
	// compressed, so a repeating pattern would understate every size).
	r := rand.New(rand.NewSource(int64(i) ^ time.Now().UnixNano()))
	pad := make([]byte, size)
	for j := range pad {
		pad[j] = 'a' + byte(r.Intn(26))
	}
	return attr.Item{"pk": attr.S(fmt.Sprintf("item-%09d", i)), "g": attr.S(fmt.Sprintf("g%d", i%100)), "pad": attr.S(string(pad))}
}

func put(t *store.Table, it attr.Item) store.Mutation {
	return store.Mutation{Table: t, Key: t.KeyOf(it), Apply: func(attr.Item) (attr.Item, error) { return it, nil }}
}

// load writes n items with 4 writers, 100 items per write.
func load(db *store.DB, t *store.Table, n, size int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(100)) - 100
				if lo >= n {
					return
				}
				var muts []store.Mutation
				for i := lo; i < lo+100 && i < n; i++ {
					muts = append(muts, put(t, item(i, size)))
				}
				if _, err := db.Write(context.Background(), store.WriteOptions{}, muts...); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
}

func waitDone(db *store.DB, name string) time.Time {
	for {
		t := db.TableIn("", name)
		if t == nil {
			log.Fatalf("restore of %s failed", name)
		}
		if !t.Restoring() {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func restoreBench(args []string) {
	f := flags(args, map[string]int{"mb": 1024, "item": 1000})
	dir := tempDir()
	defer os.RemoveAll(dir)
	db := openStore(dir)
	defer db.Close()
	src := table(db, "src")
	n := f["mb"] << 20 / f["item"]
	start := time.Now()
	load(db, src, n, f["item"])
	count, bytes, _ := db.Stats(src)
	mb := float64(bytes) / (1 << 20)
	fmt.Printf("loaded %d items, %.0f MB (DynamoDB size), in %.1fs\n", count, mb, time.Since(start).Seconds())

	start = time.Now()
	bk, err := db.CreateBackup("", "src", "b")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("CreateBackup: %.3fs\n", time.Since(start).Seconds())
	report := func(what string, d time.Duration) {
		fmt.Printf("%s: %.1fs, %.0f items/s, %.1f MB/s\n", what, d.Seconds(), float64(count)/d.Seconds(), mb/d.Seconds())
	}
	spec := func(name string, restore *store.RestoreInfo) *store.Table {
		s := src.Clone()
		s.Name, s.Restore = name, restore
		return s
	}
	start = time.Now()
	if _, err := db.RestoreBackup(bk, spec("fromBackup", &store.RestoreInfo{SourceBackupArn: "b"})); err != nil {
		log.Fatal(err)
	}
	report("RestoreTableFromBackup (with a global index)", waitDone(db, "fromBackup").Sub(start))

	start = time.Now()
	if _, err := db.SetPITR(context.Background(), "", "src", true, 35); err != nil {
		log.Fatal(err)
	}
	if err := db.WaitPITR(context.Background(), "", "src"); err != nil { // the copy runs in the background
		log.Fatal(err)
	}
	report("UpdateContinuousBackups enable (base image copy)", time.Since(start))
	load(db, src, n/10, f["item"]) // a tenth of the items rewritten after the base
	start = time.Now()
	if _, err := db.RestoreAsOf("", "src", time.Now(), spec("pointInTime", &store.RestoreInfo{SourceTableArn: "src"})); err != nil {
		log.Fatal(err)
	}
	report("RestoreTableToPointInTime (base + a tenth rewritten since)", waitDone(db, "pointInTime").Sub(start))
}

func historyBench(args []string) {
	f := flags(args, map[string]int{"writes": 1000000, "item": 100})
	dir := tempDir()
	defer os.RemoveAll(dir)
	db := openStore(dir)
	defer db.Close()
	t := table(db, "h")
	if _, err := db.SetPITR(context.Background(), "", "h", true, 35); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			for next.Add(1) <= int64(f["writes"]) {
				if _, err := db.Write(context.Background(), store.WriteOptions{}, put(t, item(r.Intn(100000), f["item"]))); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	hist, base, err := db.PITRUsage(t)
	if err != nil {
		log.Fatal(err)
	}
	_, bytes, _ := db.Stats(t)
	perWrite := float64(hist) / float64(f["writes"])
	fmt.Printf("%d writes of ~%d-byte items in %.1fs: history %.1f MB on disk (%.0f bytes/write; %.1f MB per million writes), base %.1f MB, table %.1f MB\n",
		f["writes"], f["item"], time.Since(start).Seconds(), float64(hist)/(1<<20), perWrite, perWrite, float64(base)/(1<<20), float64(bytes)/(1<<20))
	for _, rate := range []float64{10, 100, 1000} {
		w := rate * 86400 * 35
		fmt.Printf("  35 days at %.0f writes/s: %.0f million writes, %.1f GB of history\n", rate, w/1e6, w*perWrite/(1<<30))
	}
}

type lat struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *lat) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *lat) String() string {
	if len(l.d) == 0 {
		return "none"
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	p := func(q float64) time.Duration { return l.d[int(q*float64(len(l.d)-1))] }
	return fmt.Sprintf("%d writes, p50 %v, p90 %v, p99 %v, max %v", len(l.d), p(.5).Round(time.Microsecond), p(.9).Round(time.Microsecond),
		p(.99).Round(time.Microsecond), l.d[len(l.d)-1].Round(time.Microsecond))
}

func writersBench(args []string) {
	f := flags(args, map[string]int{"writers": 16, "seconds": 10, "items": 20000, "restores": 1, "backups": 1, "compare": 0, "rounds": 3})
	if f["compare"] == 0 {
		r := newRig(f)
		defer r.close()
		alone := r.phase(nil)
		during := r.phase(r.backupsAndRestores)
		fmt.Printf("%-40s %v\n", "writers alone:", alone)
		fmt.Printf("%-40s %v\n", "writers during backups and restores:", during)
		r.report()
		return
	}
	// The configurations in one run, servers side by side, their phases
	// interleaved in a rotating order over -rounds rounds so that the
	// machine's changing load weighs on all alike: restores committing
	// batches as they did before they were ingested (paced to a quarter of
	// the time, the defaults then), restores ingested as sstables paced to
	// a quarter and to a tenth of the time, and backups alone.
	configs := []struct {
		what, ingest, share, split string
		restores                   int
	}{
		{"before: restores by batches (EDDY_RESTORE_INGEST=0), working a quarter of the time", "0", "0.25", "", f["restores"]},
		{"restores ingested as sstables, working a quarter of the time", "", "0.25", "", f["restores"]},
		{"restores ingested as sstables, working a tenth of the time", "", "0.1", "", f["restores"]},
		{"backups alone, no restores", "", "", "", 0},
		{"before the ingest split: restores ingested, a tenth of the time, EDDY_INGEST_SPLIT=0 (their files in L0)", "", "0.1", "0", f["restores"]},
	}
	if sel := os.Getenv("BENCH_CONFIGS"); sel != "" { // e.g. "2,3": a subset, for profiling
		var keep []int
		for _, x := range strings.Split(sel, ",") {
			n, err := strconv.Atoi(x)
			if err != nil || n < 0 || n >= len(configs) {
				log.Fatalf("BENCH_CONFIGS: %q", x)
			}
			keep = append(keep, n)
		}
		sub := configs[:0:0]
		for _, n := range keep {
			sub = append(sub, configs[n])
		}
		configs = sub
	}
	var rigs []*rig
	for _, c := range configs {
		os.Setenv("EDDY_RESTORE_INGEST", c.ingest) // read by store.Open
		os.Setenv("EDDY_RESTORE_SHARE", c.share)
		os.Setenv("EDDY_INGEST_SPLIT", c.split)
		rf := map[string]int{}
		for k, v := range f {
			rf[k] = v
		}
		rf["restores"] = c.restores
		r := newRig(rf)
		defer r.close()
		rigs = append(rigs, r)
	}
	alone, during := make([]*lat, len(rigs)), make([]*lat, len(rigs))
	for i := range rigs {
		alone[i], during[i] = &lat{}, &lat{}
	}
	// Writes per second of every phase without backups or restores: their
	// spread is the noise the configurations are judged against.
	var quiet []float64
	diag := make([][2]diagnostics, len(rigs))
	ratios := make([][]float64, len(rigs))
	secs := float64(f["seconds"])
	for round := 0; round < f["rounds"]; round++ {
		for k := range rigs {
			i := (k + round) % len(rigs) // each configuration in each place in turn
			a := rigs[i].measured(&diag[i][0], fmt.Sprintf("c%d-alone-r%d", i, round), nil)
			d := rigs[i].measured(&diag[i][1], fmt.Sprintf("c%d-during-r%d", i, round), rigs[i].backupsAndRestores)
			quiet = append(quiet, float64(len(a.d))/secs)
			ratios[i] = append(ratios[i], float64(len(d.d))/float64(len(a.d))-1)
			alone[i].merge(a)
			during[i].merge(d)
		}
	}
	mean, sd := meanSD(quiet)
	fmt.Printf("== noise: writers alone, %d phases of %ds: %.0f writes/s on average, standard deviation %.0f (%.1f%%), min %.0f, max %.0f\n",
		len(quiet), f["seconds"], mean, sd, 100*sd/mean, slices.Min(quiet), slices.Max(quiet))
	for i, c := range configs {
		fmt.Printf("== %s\n", c.what)
		fmt.Printf("%-40s %v\n", "writers alone:", alone[i])
		fmt.Printf("%-40s %v\n", "writers during backups and restores:", during[i])
		m, s := meanSD(ratios[i])
		fmt.Printf("throughput during / alone: %+.0f%% (per round: mean %+.0f%%, sd %.0f%%:", 100*(float64(len(during[i].d))/float64(len(alone[i].d))-1), 100*m, 100*s)
		for _, r := range ratios[i] {
			fmt.Printf(" %+.0f", 100*r)
		}
		fmt.Println(")")
		rigs[i].report()
		fmt.Printf("  alone:  %v\n  during: %v\n", &diag[i][0], &diag[i][1])
	}
}

// diagnostics adds up, over the phases of one kind, what the process and
// the rig's Pebble did: GC cycles and CPU (runtime/metrics), and Pebble's
// flushes, compactions, ingests and block cache hits. The process holds
// every rig, but only one runs its phase at a time.
type diagnostics struct {
	phases                                           int
	gcCycles                                         uint64
	gcCPU, assistCPU, userCPU, idleCPU, mutexWait    float64
	flushes, ingestFlushes, compactions, ingests     int64
	cacheHits, cacheMisses, compactedBytes, walBytes int64
	allocBytes                                       uint64
	ingestedAt                                       [7]uint64 // tables ingested into each level
}

var runtimeMetrics = []string{"/gc/cycles/total:gc-cycles", "/cpu/classes/gc/total:cpu-seconds", "/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/user:cpu-seconds", "/cpu/classes/idle:cpu-seconds", "/sync/mutex/wait/total:seconds", "/gc/heap/allocs:bytes"}

func sampleRuntime() []metrics.Sample {
	s := make([]metrics.Sample, len(runtimeMetrics))
	for i, n := range runtimeMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	return s
}

func (d *diagnostics) String() string {
	n := float64(max(d.phases, 1))
	hitRate := float64(d.cacheHits) / math.Max(1, float64(d.cacheHits+d.cacheMisses))
	return fmt.Sprintf("per phase: %.1f GC cycles, GC CPU %.2fs (assists %.2fs), user CPU %.2fs, idle CPU %.2fs, mutex wait %.3fs, allocated %.0f MB; "+
		"pebble: %.1f flushes (%.1f for ingests), %.1f compactions (%.1f MB), %.1f ingests, WAL %.1f MB, block cache hit rate %.4f, tables ingested into L0..L6 %v",
		float64(d.gcCycles)/n, d.gcCPU/n, d.assistCPU/n, d.userCPU/n, d.idleCPU/n, d.mutexWait/n, float64(d.allocBytes)/n/(1<<20),
		float64(d.flushes)/n, float64(d.ingestFlushes)/n, float64(d.compactions)/n, float64(d.compactedBytes)/n/(1<<20), float64(d.ingests)/n,
		float64(d.walBytes)/n/(1<<20), hitRate, d.ingestedAt)
}

// measured runs a phase and adds its diagnostics to d; with BENCH_PROFILE
// set to a directory, it also writes the phase's CPU profile there.
func (r *rig) measured(d *diagnostics, name string, during func(stop <-chan struct{})) *lat {
	if dir := os.Getenv("BENCH_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".pprof"))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	rt0, pm0 := sampleRuntime(), r.s.DB().PebbleMetrics()
	l := r.phase(during)
	rt1, pm1 := sampleRuntime(), r.s.DB().PebbleMetrics()
	f := func(i int) float64 { return rt1[i].Value.Float64() - rt0[i].Value.Float64() }
	d.phases++
	d.gcCycles += rt1[0].Value.Uint64() - rt0[0].Value.Uint64()
	d.gcCPU += f(1)
	d.assistCPU += f(2)
	d.userCPU += f(3)
	d.idleCPU += f(4)
	d.mutexWait += f(5)
	d.allocBytes += rt1[6].Value.Uint64() - rt0[6].Value.Uint64()
	for i := range d.ingestedAt {
		d.ingestedAt[i] += pm1.Levels[i].TablesIngested - pm0.Levels[i].TablesIngested
	}
	d.flushes += pm1.Flush.Count - pm0.Flush.Count
	d.ingestFlushes += int64(pm1.Flush.AsIngestCount - pm0.Flush.AsIngestCount)
	d.compactions += pm1.Compact.Count - pm0.Compact.Count
	d.ingests += int64(pm1.Ingest.Count - pm0.Ingest.Count)
	d.walBytes += int64(pm1.WAL.BytesIn - pm0.WAL.BytesIn)
	d.cacheHits += pm1.BlockCache.Hits - pm0.BlockCache.Hits
	d.cacheMisses += pm1.BlockCache.Misses - pm0.BlockCache.Misses
	var cb0, cb1 uint64
	for i := range pm0.Levels {
		cb0 += pm0.Levels[i].TableBytesCompacted
		cb1 += pm1.Levels[i].TableBytesCompacted
	}
	d.compactedBytes += int64(cb1 - cb0)
	return l
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd
}

func (l *lat) merge(o *lat) { l.mu.Lock(); l.d = append(l.d, o.d...); l.mu.Unlock() }

// rig is one server with a loaded table, PITR on, and the writers.
type rig struct {
	f                          map[string]int
	dir                        string
	s                          *server.Server
	c                          *dynamodb.Client
	n                          int // backups taken, for unique names
	backups, restores, checked atomic.Int64
	bkTime, rsTime             lat
}

func newRig(f map[string]int) *rig {
	r := &rig{f: f, dir: tempDir()}
	// Capacity in report mode: the writers measure contention with the
	// restores, not DynamoDB's throughput limits.
	s, err := server.New(server.Options{Addr: "127.0.0.1:0", DataDir: r.dir, Init: true, Capacity: capacity.Options{Mode: capacity.Report}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	r.s = s
	r.c = dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("eddy", "eddy", "")})
	t := table(s.DB(), "writes")
	load(s.DB(), t, f["items"], 200)
	ctx := context.Background()
	if _, err := r.c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("writes"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		log.Fatal(err)
	}
	if err := s.DB().WaitPITR(ctx, "", "writes"); err != nil {
		log.Fatal(err)
	}
	return r
}

func (r *rig) close() {
	r.s.Shutdown(context.Background())
	os.RemoveAll(r.dir)
}

// phase runs the writers for -seconds while during runs, and returns
// their latencies.
func (r *rig) phase(during func(stop <-chan struct{})) *lat {
	ctx := context.Background()
	var l lat
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < r.f["writers"]; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				n := &types.AttributeValueMemberN{Value: strconv.Itoa(k)}
				pair := func(side string) types.TransactWriteItem {
					return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("writes"), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("pair-%d-%s", w, side)}, "n": n}}}
				}
				t0 := time.Now()
				if _, err := r.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{pair("a"), pair("b")}}); err != nil {
					log.Fatal(err)
				}
				l.add(time.Since(t0))
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		if during != nil {
			during(stop)
		}
		close(done)
	}()
	time.Sleep(time.Duration(r.f["seconds"]) * time.Second)
	close(stop)
	wg.Wait()
	<-done
	return &l
}

// backupsAndRestores takes backups and restores from them and to the
// latest restorable time, back to back, until stop.
func (r *rig) backupsAndRestores(stop <-chan struct{}) {
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		default:
		}
		i := r.n
		r.n++
		t0 := time.Now()
		b, err := r.c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("writes"), BackupName: aws.String(fmt.Sprintf("backup-%d", i))})
		if err != nil {
			log.Fatal(err)
		}
		r.bkTime.add(time.Since(t0))
		r.backups.Add(1)
		if r.f["restores"] == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, pitr := range []bool{false, true} {
			target := fmt.Sprintf("r%d-%v", i, pitr)
			t0 = time.Now()
			if pitr {
				_, err = r.c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String("writes"), TargetTableName: aws.String(target), UseLatestRestorableTime: aws.Bool(true)})
			} else {
				_, err = r.c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: b.BackupDetails.BackupArn, TargetTableName: aws.String(target)})
			}
			if err != nil {
				log.Fatal(err)
			}
			waitDone(r.s.DB(), target)
			r.rsTime.add(time.Since(t0))
			r.restores.Add(1)
			checkPairs(r.s.DB(), target, r.f["writers"])
			r.checked.Add(1)
			if _, err := r.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(target)}); err != nil {
				log.Fatal(err)
			}
		}
	}
}

func (r *rig) report() {
	fmt.Printf("%d backups (%v), %d restores of a %d-item table (%v), %d restored tables consistent (no torn pair)\n",
		r.backups.Load(), &r.bkTime, r.restores.Load(), r.f["items"]+2*r.f["writers"], &r.rsTime, r.checked.Load())
}

// checkPairs fails unless every writer's pair has equal counters in the
// restored table: a restore is consistent as of one instant.
func checkPairs(db *store.DB, name string, writers int) {
	t := db.TableIn("", name)
	for w := 0; w < writers; w++ {
		var got [2]string
		for i, side := range []string{"a", "b"} {
			it, err := db.Get(t, attr.Item{"pk": attr.S(fmt.Sprintf("pair-%d-%s", w, side))})
			if err != nil {
				log.Fatal(err)
			}
			if it != nil {
				got[i] = string(attr.AppendJSON(nil, it["n"]))
			}
		}
		if got[0] != got[1] {
			log.Fatalf("restored table %s: writer %d's pair is torn: %s vs %s", name, w, got[0], got[1])
		}
	}
}
