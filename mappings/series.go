package mappings

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/arn"
)

// seriesMinutes is how far back a mapping's Series reaches: one sample per
// minute for the last hour.
const seriesMinutes = 60

// Duration buckets of a sample: bucket i holds durations up to
// durBase·2^(i/4) (about 19% apart), from 0.1 ms to ~105 s; the last one
// holds everything longer. A percentile is the bound of its bucket, so it
// is exact to within one bucket.
const (
	durBuckets = 81
	durBase    = 100 * time.Microsecond
)

func durBound(i int) time.Duration {
	return time.Duration(float64(durBase) * math.Exp2(float64(i)/4))
}

func durBucket(d time.Duration) int {
	if d <= durBase {
		return 0
	}
	i := int(math.Ceil(4 * math.Log2(float64(d)/float64(durBase))))
	return min(i, durBuckets-1)
}

// minute is the activity of one mapping during one minute.
type minute struct {
	at           int64 // unix minute; a slot holding another minute is stale
	invocations  int64
	errors       int64
	records      int64
	deadLettered int64
	durations    [durBuckets]uint32
	lag          map[string]int64 // shard ID -> largest iterator age (ms)
}

// series is a mapping's ring of the last hour's minutes, fed by its
// runners' observers (mappings.runner) and read by the admin endpoint. It
// lives in the mapping's entry, so it survives a runner's restart (an
// update, a disable and enable); it is not persisted: a restarted eddy
// starts a new hour. Safe for concurrent use.
type series struct {
	now func() time.Time
	mu  sync.Mutex
	min [seriesMinutes]minute
}

func newSeries(now func() time.Time) *series { return &series{now: now} }

// slot returns the current minute's slot, reset when it held an older
// minute. Caller holds s.mu.
func (s *series) slot() *minute {
	at := s.now().Unix() / 60
	m := &s.min[at%seriesMinutes]
	if m.at != at {
		*m = minute{at: at}
	}
	return m
}

func (s *series) invoked(shard string, age, took time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.slot()
	m.invocations++
	if err != nil {
		m.errors++
	} else {
		m.durations[durBucket(took)]++
	}
	if shard != "" {
		if m.lag == nil {
			m.lag = map[string]int64{}
		}
		if ms := max(0, age.Milliseconds()); ms >= m.lag[shard] {
			m.lag[shard] = ms
		}
	}
}

func (s *series) add(f func(*minute)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.slot())
}

// Sample is one minute of a mapping's activity.
type Sample struct {
	// Start is the minute's first second (RFC 3339, UTC).
	Start time.Time
	// Invocations counts calls of the function (each retry is one);
	// Errors those that failed (a function error, failed items, an invoke
	// error).
	Invocations, Errors int64
	// RecordsDelivered counts records in batches that settled successfully
	// (records per second is RecordsDelivered/60); RecordsDeadLettered
	// those given up on.
	RecordsDelivered, RecordsDeadLettered int64
	// DurationMillis are the 50th, 90th and 99th percentiles of the
	// durations of the invocations that returned, function errors included
	// as in Lambda's Duration metric (nil when there were none).
	DurationMillis *Percentiles `json:",omitempty"`
	// LagMillis is, per shard, the largest iterator age of the minute's
	// invocations: how old the last record of a batch was when it was sent
	// (Lambda's IteratorAge, Maximum). A shard without invocations in the
	// minute has no entry.
	LagMillis map[string]int64 `json:",omitempty"`
}

// Percentiles of a set of durations, in milliseconds.
type Percentiles struct{ P50, P90, P99 float64 }

func percentiles(h *[durBuckets]uint32) *Percentiles {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return nil
	}
	at := func(q float64) float64 {
		rank := uint64(math.Ceil(q * float64(n)))
		var cum uint64
		for i, c := range h {
			cum += uint64(c)
			if cum >= rank {
				return float64(durBound(i).Microseconds()) / 1000
			}
		}
		return float64(durBound(durBuckets-1).Microseconds()) / 1000
	}
	return &Percentiles{P50: at(0.5), P90: at(0.9), P99: at(0.99)}
}

// Series is a mapping's last hour, minute by minute.
type Series struct {
	UUID         string
	FunctionName string
	// PeriodSeconds is the length of one sample: 60.
	PeriodSeconds int
	// Samples are the last 60 minutes, oldest first, the current (partial)
	// minute last; minutes without activity are zero.
	Samples []Sample
	// Hour sums the samples (its LagMillis is the largest per shard, its
	// DurationMillis the percentiles over the hour).
	Hour Sample
}

// snapshot returns the last hour, oldest first.
func (s *series) snapshot() (samples []Sample, hour Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix() / 60
	var all [durBuckets]uint32
	hour.Start = time.Unix((now-seriesMinutes+1)*60, 0).UTC()
	for at := now - seriesMinutes + 1; at <= now; at++ {
		sm := Sample{Start: time.Unix(at*60, 0).UTC()}
		if m := &s.min[at%seriesMinutes]; m.at == at {
			sm.Invocations, sm.Errors = m.invocations, m.errors
			sm.RecordsDelivered, sm.RecordsDeadLettered = m.records, m.deadLettered
			sm.DurationMillis = percentiles(&m.durations)
			for i, c := range m.durations {
				all[i] += c
			}
			if len(m.lag) > 0 {
				sm.LagMillis = make(map[string]int64, len(m.lag))
				if hour.LagMillis == nil {
					hour.LagMillis = map[string]int64{}
				}
				for sh, v := range m.lag {
					sm.LagMillis[sh] = v
					hour.LagMillis[sh] = max(hour.LagMillis[sh], v)
				}
			}
		}
		hour.Invocations += sm.Invocations
		hour.Errors += sm.Errors
		hour.RecordsDelivered += sm.RecordsDelivered
		hour.RecordsDeadLettered += sm.RecordsDeadLettered
		samples = append(samples, sm)
	}
	hour.DurationMillis = percentiles(&all)
	return samples, hour
}

// Series returns a mapping's activity over the last hour.
func (m *Manager) Series(uuid string) (Series, error) {
	m.mu.Lock()
	e := m.maps[uuid]
	var s *series
	var fn string
	if e != nil {
		s, fn = m.seriesOf(e), e.cfg.FunctionName
	}
	m.mu.Unlock()
	if e == nil {
		return Series{}, notFound(uuid)
	}
	out := Series{UUID: uuid, FunctionName: fn, PeriodSeconds: 60}
	out.Samples, out.Hour = s.snapshot()
	return out, nil
}

// seriesOf returns e's series, made on first use. Caller holds m.mu.
func (m *Manager) seriesOf(e *entry) *series {
	if e.series == nil {
		e.series = newSeries(m.opts.Now)
	}
	return e.series
}

// NewHandler serves the mappings' admin JSON API, mounted by the server
// under /eddy/mappings/ on eddy's port (the web console's charts read it):
//
//	GET /eddy/mappings/{uuid}/series   Series (the last hour, per minute)
//
// Errors are {"message":...} with 404 for a mapping that does not exist.
//
// The API is per region, as Lambda's is: a mapping belongs to its stream's
// region, and a request sees only those of its own, the region in its SigV4
// credential scope (def for an unsigned request).
func NewHandler(m *Manager, def string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eddy/mappings/{uuid}/series", func(w http.ResponseWriter, r *http.Request) {
		uuid := r.PathValue("uuid")
		sc, _ := arn.ParseScope(r) // an unreadable scope was refused before the mux
		var s Series
		cfg, err := m.Get(uuid)
		if err == nil && arn.RegionOf(cfg.EventSourceArn) != cmp.Or(sc.Region, def) {
			err = notFound(uuid)
		}
		if err == nil {
			s, err = m.Series(uuid)
		}
		code := http.StatusOK
		var body any = s
		if err != nil {
			code, body = http.StatusNotFound, map[string]string{"message": err.Error()}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}
