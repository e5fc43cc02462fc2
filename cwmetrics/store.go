package cwmetrics

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// Namespace is the one CloudWatch namespace eddy publishes.
const Namespace = "AWS/DynamoDB"

// The metrics eddy records, named and dimensioned as DynamoDB publishes
// them (docs: "DynamoDB Metrics and dimensions").
const (
	ConsumedRead      = "ConsumedReadCapacityUnits"     // TableName [, GlobalSecondaryIndexName]
	ConsumedWrite     = "ConsumedWriteCapacityUnits"    // TableName [, GlobalSecondaryIndexName]
	ProvisionedRead   = "ProvisionedReadCapacityUnits"  // TableName [, GlobalSecondaryIndexName]
	ProvisionedWrite  = "ProvisionedWriteCapacityUnits" // TableName [, GlobalSecondaryIndexName]
	ReadThrottles     = "ReadThrottleEvents"            // TableName [, GlobalSecondaryIndexName]
	WriteThrottles    = "WriteThrottleEvents"           // TableName [, GlobalSecondaryIndexName]
	ThrottledRequests = "ThrottledRequests"             // TableName, Operation
	RequestLatency    = "SuccessfulRequestLatency"      // TableName, Operation (milliseconds)
	ReturnedItems     = "ReturnedItemCount"             // TableName, Operation
	// ReplicationLatency is a global table's (version 2019.11.21), in the
	// source region's namespace, per ReceivingRegion (milliseconds; docs:
	// "Monitoring global tables"). The receiving region's server records it
	// (package global applies the changes there).
	ReplicationLatency = "ReplicationLatency" // TableName, ReceivingRegion
)

// units are the CloudWatch units of the metrics.
var units = map[string]string{
	ConsumedRead: "Count", ConsumedWrite: "Count", ProvisionedRead: "Count", ProvisionedWrite: "Count",
	ReadThrottles: "Count", WriteThrottles: "Count", ThrottledRequests: "Count",
	RequestLatency: "Milliseconds", ReturnedItems: "Count", ReplicationLatency: "Milliseconds",
}

// Key names one series: a metric and its dimensions. Region is the
// namespace it belongs to (a CloudWatch request sees its own region's).
// An empty Index or Op is a dimension the series does not have.
type Key struct {
	Region, Metric string
	Table          string // TableName
	Index          string // GlobalSecondaryIndexName
	Op             string // Operation
	Receiving      string // ReceivingRegion (ReplicationLatency)
}

// Dimensions are the key's CloudWatch dimensions, in the order AWS lists
// them.
func (k Key) Dimensions() []Dimension {
	d := []Dimension{{"TableName", k.Table}}
	if k.Index != "" {
		d = append(d, Dimension{"GlobalSecondaryIndexName", k.Index})
	}
	if k.Op != "" {
		d = append(d, Dimension{"Operation", k.Op})
	}
	if k.Receiving != "" {
		d = append(d, Dimension{"ReceivingRegion", k.Receiving})
	}
	return d
}

// Dimension is a CloudWatch dimension.
type Dimension struct{ Name, Value string }

// Stat is what a bucket keeps of its samples: enough for Sum, Average,
// Minimum, Maximum and SampleCount.
type Stat struct {
	Sum, Count, Min, Max float64
}

func (s *Stat) add(v float64) {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Sum += v
	s.Count++
}

func (s *Stat) merge(o Stat) {
	if o.Count == 0 {
		return
	}
	if s.Count == 0 || o.Min < s.Min {
		s.Min = o.Min
	}
	if s.Count == 0 || o.Max > s.Max {
		s.Max = o.Max
	}
	s.Sum += o.Sum
	s.Count += o.Count
}

// Value is the statistic name of s: Sum, Average, Minimum, Maximum or
// SampleCount.
func (s Stat) Value(name string) float64 {
	switch name {
	case "Sum":
		return s.Sum
	case "Average":
		if s.Count == 0 {
			return 0
		}
		return s.Sum / s.Count
	case "Minimum":
		return s.Min
	case "Maximum":
		return s.Max
	case "SampleCount":
		return s.Count
	}
	return math.NaN()
}

type bucket struct {
	minute int64 // Unix time / 60
	Stat
}

type series struct {
	key     Key
	buckets []bucket // ascending minutes, within the retention
	total   Stat     // since the series appeared (Prometheus)
	last    float64  // the latest sample (gauges)
	touched int64    // minute of the latest sample
	dirty   int64    // the earliest minute changed since the last Flush; -1: none
}

// Options bound a Store. Zero values mean the defaults.
type Options struct {
	// Retention is how long 1-minute data points are kept. Default 3h
	// (CloudWatch keeps them 15 days).
	Retention time.Duration
	// MaxSeries bounds the number of series (metric × dimensions × region);
	// past it the series updated least recently is dropped. Default 4096.
	// Memory is at most about MaxSeries × Retention/1min × 48 bytes
	// (~35 MB at the defaults).
	MaxSeries int
	// Now is the clock (tests compress time with eddytest.Clock). Default
	// time.Now.
	Now func() time.Time
}

// Store keeps DynamoDB's CloudWatch metrics at 1-minute resolution, in
// memory, bounded by Options. Safe for concurrent use; one mutex, held for
// a few map operations per request.
type Store struct {
	opts   Options
	mu     sync.Mutex
	series map[Key]*series
	pruned int64 // the minute of the last prune
	kv     KV    // where Flush keeps the data points (Load); nil: memory only
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Retention <= 0 {
		opts.Retention = 3 * time.Hour
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts, series: map[Key]*series{}}
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.opts.Now() }

// Retention is how long data points are kept.
func (s *Store) Retention() time.Duration { return s.opts.Retention }

// Usage is what one successful DynamoDB request consumed and returned.
type Usage struct {
	Region, Table, Op string
	Read, Write       float64 // the table's own units (local indexes included)
	Indexes           []IndexUsage
	Items             int  // items returned (Query, Scan, GetItem, BatchGetItem)
	CountItems        bool // the operation reports ReturnedItemCount (Query, Scan)
	Latency           time.Duration
}

// IndexUsage is what a request consumed of one global secondary index.
type IndexUsage struct {
	Name        string
	Read, Write float64
}

// Record adds a request's usage: consumed units per table and global
// index (one sample per request, as DynamoDB counts: Sum is the units,
// SampleCount the requests), its latency and, for Query and Scan, the items
// it returned.
func (s *Store) Record(u *Usage) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.minute(now)
	k := Key{Region: u.Region, Table: u.Table}
	if u.Read > 0 {
		k.Metric = ConsumedRead
		s.add(k, m, u.Read)
	}
	if u.Write > 0 {
		k.Metric = ConsumedWrite
		s.add(k, m, u.Write)
	}
	for _, ix := range u.Indexes {
		ik := Key{Region: u.Region, Table: u.Table, Index: ix.Name}
		if ix.Read > 0 {
			ik.Metric = ConsumedRead
			s.add(ik, m, ix.Read)
		}
		if ix.Write > 0 {
			ik.Metric = ConsumedWrite
			s.add(ik, m, ix.Write)
		}
	}
	ok := Key{Region: u.Region, Table: u.Table, Op: u.Op}
	ok.Metric = RequestLatency
	s.add(ok, m, float64(u.Latency)/float64(time.Millisecond))
	if u.CountItems {
		ok.Metric = ReturnedItems
		s.add(ok, m, float64(u.Items))
	}
}

// AddConsumed adds one sample of units consumed from a table (index empty)
// or a global index outside a request: a trigger handler's writes, as its
// mapping commits them.
func (s *Store) AddConsumed(region, table, index string, read bool, units float64) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := Key{Region: region, Metric: ConsumedWrite, Table: table, Index: index}
	if read {
		k.Metric = ConsumedRead
	}
	s.add(k, s.minute(now), units)
}

// Throttle is one throttled request (the capacity limiter reports them):
// its table and operation, and the read and write throttle events it
// caused per table or global index (a batch can cause several).
type Throttle struct {
	Region, Table, Op string
	Read, Write       int // events against the table
	Indexes           []IndexThrottle
}

// IndexThrottle is the throttle events of one global secondary index.
type IndexThrottle struct {
	Name        string
	Read, Write int
}

// RecordThrottle adds a throttled request: ThrottledRequests (TableName,
// Operation) and Read/WriteThrottleEvents per table and global index.
func (s *Store) RecordThrottle(t *Throttle) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.minute(now)
	if t.Op != "" {
		// ThrottledRequests is per operation; a trigger handler's buffered
		// writes, throttled when they commit, have none.
		s.add(Key{Region: t.Region, Metric: ThrottledRequests, Table: t.Table, Op: t.Op}, m, 1)
	}
	k := Key{Region: t.Region, Table: t.Table}
	if t.Read > 0 {
		k.Metric = ReadThrottles
		s.add(k, m, float64(t.Read))
	}
	if t.Write > 0 {
		k.Metric = WriteThrottles
		s.add(k, m, float64(t.Write))
	}
	for _, ix := range t.Indexes {
		ik := Key{Region: t.Region, Table: t.Table, Index: ix.Name}
		if ix.Read > 0 {
			ik.Metric = ReadThrottles
			s.add(ik, m, float64(ix.Read))
		}
		if ix.Write > 0 {
			ik.Metric = WriteThrottles
			s.add(ik, m, float64(ix.Write))
		}
	}
}

// Set records one sample of a gauge (ProvisionedReadCapacityUnits and
// ProvisionedWriteCapacityUnits, sampled once a minute) or of a metric
// measured outside a request (ReplicationLatency, from package global).
func (s *Store) Set(k Key, v float64) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(k, s.minute(now), v)
}

// minute is now's minute, pruning expired buckets once per minute.
// Called with mu held.
func (s *Store) minute(now time.Time) int64 {
	m := now.Unix() / 60
	if m != s.pruned {
		s.pruned = m
		oldest := m - int64(s.opts.Retention/time.Minute)
		for k, se := range s.series {
			i := 0
			for i < len(se.buckets) && se.buckets[i].minute < oldest {
				i++
			}
			se.buckets = se.buckets[i:]
			if len(se.buckets) == 0 {
				delete(s.series, k)
			}
		}
	}
	return m
}

func (s *Store) add(k Key, m int64, v float64) {
	se := s.series[k]
	if se == nil {
		if len(s.series) >= s.opts.MaxSeries {
			s.evict()
		}
		se = &series{key: k, dirty: m}
		s.series[k] = se
	}
	if se.dirty < 0 || m < se.dirty {
		se.dirty = m
	}
	se.total.add(v)
	se.last, se.touched = v, m
	n := len(se.buckets)
	switch {
	case n > 0 && se.buckets[n-1].minute == m:
		se.buckets[n-1].add(v)
	case n == 0 || se.buckets[n-1].minute < m:
		b := bucket{minute: m}
		b.add(v)
		se.buckets = append(se.buckets, b)
	default: // a clock that went back: the bucket of m, or a new one in order
		i, found := slices.BinarySearchFunc(se.buckets, m, func(b bucket, m int64) int { return cmp.Compare(b.minute, m) })
		if !found {
			se.buckets = slices.Insert(se.buckets, i, bucket{minute: m})
		}
		se.buckets[i].add(v)
	}
}

// evict drops the series updated least recently. Called with mu held.
func (s *Store) evict() {
	var oldest *series
	for _, se := range s.series {
		if oldest == nil || se.touched < oldest.touched {
			oldest = se
		}
	}
	if oldest != nil {
		delete(s.series, oldest.key)
	}
}

// Point is one aggregated data point: the period starting at Time.
type Point struct {
	Time time.Time
	Stat
}

// Query aggregates k's data points in [start, end) into periods of period
// (a multiple of a minute) aligned on start; periods without samples are
// left out. Points are in ascending time order.
func (s *Store) Query(k Key, start, end time.Time, period time.Duration) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.series[k]
	if se == nil {
		return nil
	}
	var out []Point
	for _, b := range se.buckets {
		t := time.Unix(b.minute*60, 0).UTC()
		if t.Before(start) || !t.Before(end) {
			continue
		}
		p := start.Add(t.Sub(start) / period * period)
		if n := len(out); n > 0 && out[n-1].Time.Equal(p) {
			out[n-1].merge(b.Stat)
		} else {
			out = append(out, Point{Time: p, Stat: b.Stat})
		}
	}
	return out
}

// Sum is the Sum of k's samples in the minute starting at t (0 without
// any).
func (s *Store) Sum(k Key, t time.Time) float64 {
	m := t.Unix() / 60
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.series[k]
	if se == nil {
		return 0
	}
	i, found := slices.BinarySearchFunc(se.buckets, m, func(b bucket, m int64) int { return cmp.Compare(b.minute, m) })
	if !found {
		return 0
	}
	return se.buckets[i].Sum
}

// Keys returns the series of region that have data points within the
// retention, sorted by metric, table, index, operation.
func (s *Store) Keys(region string) []Key {
	s.mu.Lock()
	var out []Key
	for k := range s.series {
		if k.Region == region {
			out = append(out, k)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Table, b.Table), cmp.Compare(a.Index, b.Index), cmp.Compare(a.Op, b.Op), cmp.Compare(a.Receiving, b.Receiving))
	})
	return out
}

// totals calls f for every series with its totals since it appeared and
// its latest sample (Prometheus).
func (s *Store) totals(f func(k Key, total Stat, last float64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, se := range s.series {
		f(k, se.total, se.last)
	}
}
