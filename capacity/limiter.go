package capacity

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
)

// DynamoDB's partition limits (developer guide, "Partitions and data
// distribution"; "Burst and adaptive capacity").
const (
	PartitionReadCeiling  = 3000     // read units a second one partition serves
	PartitionWriteCeiling = 1000     // write units a second one partition serves
	PartitionBytes        = 10 << 30 // about 10 GB of items per partition

	// DefaultBurstSeconds is how many seconds of unused capacity a table
	// keeps: "DynamoDB currently retains up to five minutes (300 seconds)
	// of unused read and write capacity" (developer guide, burst capacity).
	DefaultBurstSeconds = 300

	// A new on-demand table "can immediately drive up to 4,000 write
	// request units or 12,000 read request units" (knowledge center,
	// on-demand table throttling); traffic may reach twice the previous
	// peak, and a peak becomes the previous one over 30 minutes.
	onDemandInitialWrite = 4000
	onDemandInitialRead  = 12000
	peakAge              = 30 * time.Minute
)

// DynamoDB's messages. The table's is as recorded from the service (with
// its final period, e.g. in a Node.js Lambda's log); the index's as boto3
// reports it (no final period); the on-demand one as the API reference
// lists it under ThrottlingError.
const (
	msgTable    = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
	msgIndex    = "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API"
	msgOnDemand = "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)

// Mode is what the limiter does with a request over capacity.
type Mode uint8

const (
	// Enforce refuses it, as DynamoDB does. The zero Mode means Enforce.
	Enforce Mode = iota + 1
	// Report admits it and only records that it would have been throttled.
	Report
)

// ParseMode reads "enforce" or "report" (eddy serve --capacity).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "enforce":
		return Enforce, nil
	case "report":
		return Report, nil
	}
	return 0, fmt.Errorf("capacity: mode %q: want enforce or report", s)
}

func (m Mode) String() string {
	if m == Report {
		return "report"
	}
	return "enforce"
}

// Observer receives the limiter's events (the CloudWatch metrics store).
// Calls are made outside the limiter's lock, on the request's goroutine;
// they must be quick and safe for concurrent use.
type Observer interface {
	// Throttled is one throttle event: a request refused (in Report mode:
	// that would have been) for lack of read or write capacity of a table,
	// or of one of its global indexes (index non-empty). op is the
	// operation (PutItem, Query...), empty when unknown.
	Throttled(region, table, index string, read bool, op string)
	// Consumed is the capacity an admitted request consumed from a table
	// (index empty) or a global index; op as for Throttled (empty for a
	// trigger handler's writes committed by its mapping).
	Consumed(region, table, index string, read bool, op string, units float64)
}

// Options configure a Limiter. Zero values mean the documented defaults.
type Options struct {
	// Mode is Enforce (the default, also for zero) or Report.
	Mode Mode
	// Now is the clock. Default time.Now; tests compress time with their
	// own.
	Now func() time.Time
	// BurstSeconds is how many seconds of unused capacity a bucket keeps.
	// Default 300, as DynamoDB.
	BurstSeconds float64
	// Size returns a table's size in bytes (for the partition count); it
	// is consulted when the table is first seen and at most once a
	// minute. Nil: size does not count.
	Size func(t *store.Table) int64
	// SplitForHeatAfter is how long a partition must stay hot before it
	// is split between its two hottest keys (heat.go). Default 5 minutes.
	SplitForHeatAfter time.Duration
	// Observer, when set, receives throttle and consumption events.
	Observer Observer
	// Metrics receives the limiter's Prometheus counters; nil: a private
	// registry.
	Metrics prometheus.Registerer
}

// Limiter is the capacity limiter of one server. It implements
// store.Admitter. Safe for concurrent use.
type Limiter struct {
	mode  Mode
	now   func() time.Time
	burst float64
	size  func(t *store.Table) int64
	obs   Observer
	heat  time.Duration // SplitForHeatAfter

	throttled *prometheus.CounterVec
	consumed  *prometheus.CounterVec

	mu     sync.Mutex
	tables map[uint32]*tableState // by table ID: a recreated table starts afresh
}

// New builds a limiter.
func New(opts Options) *Limiter {
	l := &Limiter{mode: opts.Mode, now: opts.Now, burst: opts.BurstSeconds, size: opts.Size, obs: opts.Observer,
		heat: opts.SplitForHeatAfter, tables: map[uint32]*tableState{}}
	if l.heat <= 0 {
		l.heat = DefaultSplitForHeatAfter
	}
	if l.mode != Report {
		l.mode = Enforce
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.burst <= 0 {
		l.burst = DefaultBurstSeconds
	}
	l.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_capacity_throttle_events_total",
		Help: "Requests throttled for lack of capacity (in --capacity report mode: that would have been), per table, global index (empty for the table) and direction (read, write)."},
		[]string{"region", "table", "index", "direction"})
	l.consumed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_capacity_consumed_units_total",
		Help: "Capacity units consumed by admitted requests, per table, global index (empty for the table) and direction (read, write)."},
		[]string{"region", "table", "index", "direction"})
	reg := opts.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(l.throttled, l.consumed)
	return l
}

// Mode reports the limiter's mode.
func (l *Limiter) Mode() Mode { return l.mode }

// bucket is a token bucket: rate tokens a second, at most cap. Tokens may
// go negative (debt): a request is admitted while any are left and charged
// what it consumed.
type bucket struct {
	rate, cap, tokens float64
	last              time.Time
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = math.Min(b.cap, b.tokens+d*b.rate)
		b.last = now
	}
}

// growth is an on-demand side's sudden-growth rule: a second may consume
// up to twice the previous peak, a peak becoming previous when 30 minutes
// old.
type growth struct {
	sec   int64   // the current second
	units float64 // consumed in it
	mins  [30]struct {
		min  int64
		peak float64
	} // per-minute peaks of the last 30 minutes
	prev float64 // the peak of everything older
}

func (g *growth) roll(now time.Time) {
	s := now.Unix()
	if s == g.sec {
		return
	}
	if g.units > 0 {
		m := g.sec / 60
		slot := &g.mins[m%30]
		if slot.min != m {
			g.prev = math.Max(g.prev, slot.peak)
			slot.min, slot.peak = m, 0
		}
		slot.peak = math.Max(slot.peak, g.units)
	}
	g.sec, g.units = s, 0
	cur := s / 60
	for i := range g.mins {
		if sl := &g.mins[i]; sl.peak > 0 && time.Duration(cur-sl.min)*time.Minute >= peakAge {
			g.prev = math.Max(g.prev, sl.peak)
			sl.peak = 0
		}
	}
}

// side is one direction (read or write) of a table or global index.
type side struct {
	read     bool
	limited  bool    // a provisioned rate or an on-demand maximum
	ondemand bool    // the sudden-growth rule applies
	initial  float64 // on demand: a new table's allowance
	total    bucket
	pt       *partitioning
	ceil     []bucket // per partition: the partition's ceiling
	parts    []partStats
	heat     []heatState
	growth   growth
	consumed prometheus.Counter
	throttle prometheus.Counter
}

type partStats struct {
	units     float64
	throttles int64
	heat      bool // made by a split for heat
}

// tableState is what the limiter keeps of one table.
type tableState struct {
	desc        *store.Table // the descriptor the sides follow
	sized       time.Time    // when Size was last consulted
	bytes       int64
	pt          partitioning
	splits      bool // a partitioning has pending splits for heat
	read, write side
	gsis        []*gsiState
}

type gsiState struct {
	name        string
	pt          partitioning
	read, write side
}

func ceilDiv(a, b float64) int { return int(math.Ceil(a / b)) }

// partitionsFor is DynamoDB's partition count for a throughput and size.
func partitionsFor(rcu, wcu float64, bytes int64) int {
	return max(1, ceilDiv(rcu/PartitionReadCeiling+wcu/PartitionWriteCeiling, 1), ceilDiv(float64(bytes), PartitionBytes))
}

// PartitionOf maps a partition-key hash (store.PartitionHash) onto
// partition i of n: equal ranges of the hash space.
func PartitionOf(hash uint64, n int) int {
	hi, _ := bits.Mul64(hash, uint64(n))
	return int(hi)
}

// state returns t's state, following the descriptor t when it changed
// (UpdateTable: throughput, billing mode, indexes). l.mu held.
func (l *Limiter) state(t *store.Table, now time.Time) *tableState {
	ts := l.tables[t.ID]
	if ts == nil {
		ts = &tableState{}
		l.tables[t.ID] = ts
	}
	resize := false
	if l.size != nil && (ts.sized.IsZero() || now.Sub(ts.sized) >= time.Minute) {
		ts.sized = now
		if b := l.size(t); b != ts.bytes {
			ts.bytes, resize = b, true
		}
	}
	if ts.splits {
		ts.applySplits()
	}
	if ts.desc == t && !resize {
		return ts
	}
	first := ts.desc == nil
	ts.desc = t
	r, w := l.rates(t, t.Throughput, t.OnDemandThroughput.MaxRead, t.OnDemandThroughput.MaxWrite)
	ts.pt.rd, ts.pt.wr, ts.pt.owner = &ts.read, &ts.write, ts
	resized := ts.pt.resize(partitionsFor(r, w, ts.bytes))
	l.setSide(&ts.read, t, "", true, r, t.OnDemandThroughput.MaxRead, &ts.pt, resized, now, first)
	l.setSide(&ts.write, t, "", false, w, t.OnDemandThroughput.MaxWrite, &ts.pt, resized, now, first)
	old := ts.gsis
	ts.gsis = ts.gsis[:0:0]
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if !ix.Global {
			continue
		}
		var g *gsiState
		for _, o := range old {
			if o.name == ix.Name {
				g = o
			}
		}
		fresh := g == nil
		if fresh {
			g = &gsiState{name: ix.Name}
		}
		r, w := l.rates(t, ix.Throughput, 0, 0)
		g.pt.rd, g.pt.wr, g.pt.owner = &g.read, &g.write, ts
		resized := g.pt.resize(partitionsFor(r, w, 0))
		l.setSide(&g.read, t, ix.Name, true, r, 0, &g.pt, resized, now, fresh)
		l.setSide(&g.write, t, ix.Name, false, w, 0, &g.pt, resized, now, fresh)
		ts.gsis = append(ts.gsis, g)
	}
	return ts
}

// rates returns the read and write rates that size partitions: the
// provisioned throughput, or on demand a new table's allowance.
func (l *Limiter) rates(t *store.Table, tp store.Throughput, _, _ int64) (r, w float64) {
	if t.BillingMode == "PAY_PER_REQUEST" {
		return onDemandInitialRead, onDemandInitialWrite
	}
	return float64(tp.Read), float64(tp.Write)
}

// setSide (re)configures one direction for the current descriptor: its
// rate, its burst, its partitions' ceilings. Tokens carry over (clamped to
// the new burst); a side seen for the first time starts with a full burst.
// When the partitions changed (resized), each starts with a full ceiling
// and its figures afresh.
func (l *Limiter) setSide(s *side, t *store.Table, index string, read bool, rate float64, odMax int64, pt *partitioning, resized bool, now time.Time, first bool) {
	s.read = read
	s.pt = pt
	dir := "write"
	ceiling := float64(PartitionWriteCeiling)
	initial := float64(onDemandInitialWrite)
	if read {
		dir, ceiling, initial = "read", PartitionReadCeiling, onDemandInitialRead
	}
	if s.consumed == nil {
		s.consumed = l.consumed.WithLabelValues(t.Region, t.Name, index, dir)
		s.throttle = l.throttled.WithLabelValues(t.Region, t.Name, index, dir)
	}
	s.ondemand = t.BillingMode == "PAY_PER_REQUEST"
	s.initial = initial
	switch {
	case !s.ondemand && rate > 0:
		s.limited = true
		s.total.rate, s.total.cap = rate, rate*l.burst
	case !s.ondemand:
		// A global index of a provisioned table with no throughput
		// recorded (eddy does not require one when a table switches from
		// on demand): not limited rather than never writable.
		s.limited = false
	case odMax > 0:
		s.limited = true
		s.total.rate, s.total.cap = float64(odMax), float64(odMax) // a maximum: no burst above it
	default:
		s.limited = false
	}
	if first {
		s.total.tokens, s.total.last = s.total.cap, now
	} else {
		s.total.refill(now)
		s.total.tokens = math.Min(s.total.tokens, s.total.cap)
	}
	if n := pt.n(); resized || len(s.ceil) != n {
		// A split: the partitions' figures start again.
		s.ceil = make([]bucket, n)
		for i := range s.ceil {
			s.ceil[i] = bucket{tokens: ceiling, last: now}
		}
		s.parts = make([]partStats, n)
		s.heat = make([]heatState, n)
		for i := range pt.heat {
			s.parts[pt.of(pt.heat[i])].heat = true
		}
	}
	for i := range s.ceil {
		s.ceil[i].rate, s.ceil[i].cap = ceiling, ceiling
	}
}

// refusal is why a request is refused.
type refusal uint8

const (
	admitted refusal = iota
	overProvisioned
	overOnDemand
)

// check reports whether side s may serve a request on partition p (-1:
// every partition, a scan). l.mu held.
func (s *side) check(p int, now time.Time) refusal {
	if s.limited {
		s.total.refill(now)
		if s.total.tokens <= 0 {
			if s.ondemand {
				return overOnDemand
			}
			return overProvisioned
		}
	}
	if s.ondemand {
		s.growth.roll(now)
		if s.growth.units >= 2*math.Max(s.growth.prev, s.initial/2) {
			return overOnDemand
		}
	}
	if p >= 0 {
		c := &s.ceil[p]
		c.refill(now)
		if c.tokens <= 0 {
			if s.ondemand {
				return overOnDemand
			}
			return overProvisioned
		}
	}
	return admitted
}

// charge takes units from side s, partition p (-1: spread over all), for
// partition-key hash h, and tracks the partition's heat: a partition hot
// for long enough is split for heat (heat.go). l.mu held.
func (s *side) charge(p int, h uint64, units float64, now time.Time, heatAfter time.Duration) {
	if s.limited {
		s.total.tokens -= units
	}
	if s.ondemand {
		s.growth.units += units
	}
	if p >= 0 {
		s.ceil[p].tokens -= units
		s.parts[p].units += units
		if at := s.heat[p].note(h, units, s.ceil[p].rate, now, heatAfter); at != 0 {
			// Applied by the next state(): partition indexes of the
			// request being charged stay valid.
			s.pt.pending = append(s.pt.pending, at)
			s.pt.owner.splits = true
		}
		return
	}
	each := units / float64(len(s.ceil))
	for i := range s.ceil {
		s.ceil[i].tokens -= each
		s.parts[i].units += each
	}
}

// WriteUnits is DynamoDB's write capacity of turning old into nu: 1 unit
// per started KB of the larger (at least 1).
func WriteUnits(old, nu attr.Item) float64 {
	size := max(attr.ItemSize(old), attr.ItemSize(nu))
	return math.Max(1, math.Ceil(float64(size)/1024))
}

// ReadUnits is DynamoDB's read capacity of size bytes: 1 unit per started
// 4 KB (at least 1), half for an eventually consistent read.
func ReadUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// touch is one side and partition a request charges.
type touch struct {
	s   *side
	ts  *tableState
	t   *store.Table // the request's descriptor (immutable: read after l.mu is released)
	mut int          // the mutation's index in a write
	// refused: this touch's side had no capacity (set by admit).
	refused bool
	index   string
	part    int
	hash    uint64 // the partition-key hash (part's)
	units   float64
}

// keyHash is the partition-key hash of a key value, as the store's.
func keyHash(v attr.Value) uint64 {
	var buf [128]byte
	return shards.Hash(attr.AppendKey(buf[:0], v))
}

// indexUnits is what a write that turned old into nu costs index ix
// (api's ConsumedCapacity INDEXES), and the index entry that decides its
// partition.
func indexUnits(t *store.Table, ix *store.Index, old, nu attr.Item) (float64, attr.Item) {
	o, n := ix.Entry(t, old), ix.Entry(t, nu)
	switch {
	case o == nil && n == nil:
		return 0, nil
	case o == nil:
		return WriteUnits(nil, n), n
	case n == nil:
		return WriteUnits(o, nil), o
	case !attr.Equal(o[ix.Hash.Name], n[ix.Hash.Name]) || (ix.Range != nil && !attr.Equal(o[ix.Range.Name], n[ix.Range.Name])):
		return WriteUnits(o, nil) + WriteUnits(nil, n), n
	case attr.ItemsEqual(o, n):
		return 0, nil
	}
	return WriteUnits(o, n), n
}

// AdmitWrite implements store.Admitter: every side and partition the write
// touches (the table's, each global index it changes) must have capacity;
// then all are charged.
func (l *Limiter) AdmitWrite(wo *store.WriteOptions, muts []store.Mutation, results []store.Result) error {
	var buf [4]touch
	touches := buf[:0]
	now := l.now()
	mult := 1.0
	if wo.Metering == store.MeterTransaction {
		mult = 2
	}
	l.mu.Lock()
	for i := range muts {
		m, r := &muts[i], &results[i]
		t := m.Table
		ts := l.state(t, now)
		u := WriteUnits(r.Old, r.New) * mult
		h := keyHash(m.Key[t.Hash.Name])
		touches = append(touches, touch{s: &ts.write, ts: ts, t: t, mut: i, part: ts.pt.of(h), hash: h, units: u})
		if m.ReadOnly || len(ts.gsis) == 0 {
			continue
		}
		for _, g := range ts.gsis {
			ix := t.Index(g.name)
			if ix == nil {
				continue
			}
			iu, entry := indexUnits(t, ix, r.Old, r.New)
			if iu == 0 {
				continue
			}
			h := keyHash(entry[ix.Hash.Name])
			touches = append(touches, touch{s: &g.write, ts: ts, t: t, mut: i, index: g.name, part: g.pt.of(h), hash: h, units: iu * mult})
		}
	}
	if wo.Partial && len(muts) > 1 && l.mode == Enforce {
		return l.admitPartial(touches, results, now, wo.Op)
	}
	err := l.admit(touches, now, wo.Op)
	if err != nil && wo.Metering == store.MeterTransaction {
		at := 0
		for i := range touches {
			if touches[i].refused {
				at = touches[i].mut
			}
		}
		return TransactionRefusal(err, at, len(muts))
	}
	return err
}

// TransactionRefusal is the error of a transaction of n actions whose
// action at was refused with err (the limiter's error for it), as DynamoDB
// reports it: TransactionCanceledException with that action's reason
// (ProvisionedThroughputExceeded, or ThrottlingError on demand) and None
// for the others (API reference, TransactWriteItems and TransactGetItems:
// "There is insufficient provisioned capacity for the transaction to be
// completed"). Used for transactional writes here and for transactional
// reads (TransactGetItems, a read-only ExecuteTransaction) by api.
func TransactionRefusal(err error, at, n int) error {
	de := ddberr.As(err)
	code := "ProvisionedThroughputExceeded"
	if de.Kind == ddberr.KindThrottling {
		code = "ThrottlingError"
	}
	reasons := make([]ddberr.CancellationReason, n)
	codes := make([]string, n)
	for i := range reasons {
		reasons[i].Code = "None"
		if i == at {
			reasons[i] = ddberr.CancellationReason{Code: code, Message: de.Message}
		}
		codes[i] = reasons[i].Code
	}
	ex := ddberr.New(ddberr.KindTransactionCanceled, "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	ex.CancellationReasons = reasons
	return ex
}

// admitPartial admits each mutation of a Partial write on its own, in
// order (BatchWriteItem): one whose table or index has no capacity left is
// marked Throttled; the others are charged. It fails only when it refuses
// them all. l.mu held; admitPartial unlocks it.
func (l *Limiter) admitPartial(touches []touch, results []store.Result, now time.Time, op string) error {
	var first *touch
	var firstWhy refusal
	var throttled []*touch
	charged := make([]bool, len(touches))
	all := true
	for i := 0; i < len(touches); {
		j := i
		for j < len(touches) && touches[j].mut == touches[i].mut {
			j++
		}
		var bad *touch
		var why refusal
		for k := i; k < j && bad == nil; k++ {
			if r := touches[k].s.check(touches[k].part, now); r != admitted {
				bad, why = &touches[k], r
			}
		}
		if bad != nil {
			bad.s.parts[max(bad.part, 0)].throttles++
			bad.s.throttle.Inc()
			results[bad.mut].Throttled = true
			throttled = append(throttled, bad)
			if first == nil {
				first, firstWhy = bad, why
			}
		} else {
			all = false
			for k := i; k < j; k++ {
				tc := &touches[k]
				tc.s.charge(tc.part, tc.hash, tc.units, now, l.heat)
				touches[k].s.consumed.Add(touches[k].units)
				charged[k] = true
			}
		}
		i = j
	}
	l.mu.Unlock()
	if l.obs != nil {
		for _, tc := range throttled {
			l.obs.Throttled(tc.t.Region, tc.t.Name, tc.index, false, op)
		}
		for k := range touches {
			if charged[k] {
				l.obs.Consumed(touches[k].t.Region, touches[k].t.Name, touches[k].index, false, op, touches[k].units)
			}
		}
	}
	if first != nil && all {
		return refusalError(first, firstWhy)
	}
	return nil
}

// admit checks every touch, then charges them all (Enforce: unless one is
// refused). l.mu held; admit unlocks it.
func (l *Limiter) admit(touches []touch, now time.Time, op string) error {
	var why refusal
	var refused *touch
	for i := range touches {
		if r := touches[i].s.check(touches[i].part, now); r != admitted {
			why, refused = r, &touches[i]
			break
		}
	}
	if refused != nil {
		refused.refused = true
		refused.s.parts[max(refused.part, 0)].throttles++
		refused.s.throttle.Inc()
	}
	if refused == nil || l.mode == Report {
		for i := range touches {
			tc := &touches[i]
			tc.s.charge(tc.part, tc.hash, tc.units, now, l.heat)
			tc.s.consumed.Add(tc.units)
		}
	}
	l.mu.Unlock()
	if l.obs != nil {
		if refused != nil {
			l.obs.Throttled(refused.t.Region, refused.t.Name, refused.index, false, op)
		}
		if refused == nil || l.mode == Report {
			for i := range touches {
				tc := &touches[i]
				l.obs.Consumed(tc.t.Region, tc.t.Name, tc.index, false, op, tc.units)
			}
		}
	}
	if refused == nil || l.mode == Report {
		return nil
	}
	return refusalError(refused, why)
}

// refusalError is DynamoDB's error for a write refused at t.
func refusalError(t *touch, why refusal) error {
	switch {
	case why == overOnDemand:
		return ddberr.New(ddberr.KindThrottling, msgOnDemand)
	case t.index != "" && !t.s.read:
		return ddberr.New(ddberr.KindProvisionedThroughputExceeded, msgIndex)
	}
	return ddberr.New(ddberr.KindProvisionedThroughputExceeded, msgTable)
}

// Read identifies what a read reads: a table or one of its indexes, and
// the partition-key value when the read is confined to one partition
// (GetItem, Query), nil for a Scan.
type Read struct {
	Table *store.Table
	Index *store.Index // nil: the table (a local index reads the table's capacity)
	Key   *attr.Value  // the partition-key value; nil: every partition
	Op    string
}

func (l *Limiter) readSide(rd *Read, now time.Time) (*tableState, *side, string, int, uint64) {
	ts := l.state(rd.Table, now)
	s, name, pt := &ts.read, "", &ts.pt
	if rd.Index != nil && rd.Index.Global {
		for _, g := range ts.gsis {
			if g.name == rd.Index.Name {
				s, name, pt = &g.read, g.name, &g.pt
			}
		}
	}
	p, h := -1, uint64(0)
	if rd.Key != nil {
		h = keyHash(*rd.Key)
		p = pt.of(h)
	}
	return ts, s, name, p, h
}

// AdmitRead decides, before it reads, whether a read may run: its table's
// (or global index's) read capacity, and its partition's, must have any
// left. The read is charged afterwards, with ChargeRead.
func (l *Limiter) AdmitRead(rd Read) error {
	now := l.now()
	l.mu.Lock()
	ts, s, index, p, _ := l.readSide(&rd, now)
	t := touch{s: s, ts: ts, t: rd.Table, index: index, part: p}
	why := s.check(p, now)
	if why == admitted || l.mode == Report {
		if why != admitted {
			s.parts[max(p, 0)].throttles++
			s.throttle.Inc()
			l.mu.Unlock()
			if l.obs != nil {
				l.obs.Throttled(rd.Table.Region, rd.Table.Name, index, true, rd.Op)
			}
			return nil
		}
		l.mu.Unlock()
		return nil
	}
	// Refused: admit's bookkeeping with nothing charged.
	return l.refuse(&t, why, rd.Op)
}

// refuse records a refused read and returns its error. l.mu held; refuse
// unlocks it.
func (l *Limiter) refuse(t *touch, why refusal, op string) error {
	t.s.parts[max(t.part, 0)].throttles++
	t.s.throttle.Inc()
	region, name := t.t.Region, t.t.Name
	l.mu.Unlock()
	if l.obs != nil {
		l.obs.Throttled(region, name, t.index, true, op)
	}
	if why == overOnDemand {
		return ddberr.New(ddberr.KindThrottling, msgOnDemand)
	}
	return ddberr.New(ddberr.KindProvisionedThroughputExceeded, msgTable)
}

// ChargeRead charges an admitted read what it consumed.
func (l *Limiter) ChargeRead(rd Read, units float64) {
	if units <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	_, s, index, p, h := l.readSide(&rd, now)
	s.charge(p, h, units, now, l.heat)
	s.consumed.Add(units)
	l.mu.Unlock()
	if l.obs != nil {
		l.obs.Consumed(rd.Table.Region, rd.Table.Name, index, true, rd.Op, units)
	}
}
