package capacity

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"net/http"
	"strings"
	"time"

	"github.com/eddydb/eddy/store"
)

// TableReport is what the limiter knows of one table: its partitions and
// what each consumed (eddy tables partitions NAME).
type TableReport struct {
	Table       string        `json:"table"`
	Region      string        `json:"region"`
	Mode        string        `json:"mode"`
	BillingMode string        `json:"billingMode"`
	SizeBytes   int64         `json:"sizeBytes"`
	Partitions  []PartReport  `json:"partitions"`
	Read        SideReport    `json:"read"`
	Write       SideReport    `json:"write"`
	Indexes     []IndexReport `json:"indexes,omitempty"`
}

// IndexReport is a global secondary index's part of a TableReport.
type IndexReport struct {
	Index      string       `json:"index"`
	Partitions []PartReport `json:"partitions"`
	Read       SideReport   `json:"read"`
	Write      SideReport   `json:"write"`
}

// SideReport is one direction of a table or index.
type SideReport struct {
	// Rate is the provisioned rate (or on-demand maximum) in units a
	// second; 0 when on demand without a maximum.
	Rate float64 `json:"rate"`
	// Available is what the bucket holds now: up to BurstSeconds of Rate
	// (negative: the debt of a request larger than what was left).
	Available float64 `json:"available"`
	// OnDemandLimit is, on demand, the most a second may consume now
	// (twice the previous peak).
	OnDemandLimit float64 `json:"onDemandLimit,omitempty"`
}

// PartReport is one partition: its range of partition-key hashes and what
// it consumed and had throttled since the limiter first saw it (or its
// last split).
type PartReport struct {
	Partition      int     `json:"partition"`
	HashFrom       string  `json:"hashFrom"` // inclusive, hex
	HashTo         string  `json:"hashTo"`   // inclusive, hex
	ReadUnits      float64 `json:"readUnits"`
	WriteUnits     float64 `json:"writeUnits"`
	ReadThrottles  int64   `json:"readThrottles"`
	WriteThrottles int64   `json:"writeThrottles"`
	// SplitForHeat: the partition was made by a split for heat (heat.go)
	// rather than from the table's throughput and size.
	SplitForHeat bool `json:"splitForHeat,omitempty"`
}

// Report returns what the limiter knows of t (sizing t's partitions now if
// it had not seen it yet).
func (l *Limiter) Report(t *store.Table) TableReport {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.state(t, now)
	r := TableReport{Table: t.Name, Region: t.Region, Mode: l.mode.String(), BillingMode: t.BillingMode, SizeBytes: ts.bytes,
		Partitions: parts(&ts.read, &ts.write, &ts.pt), Read: sideReport(&ts.read, now), Write: sideReport(&ts.write, now)}
	for _, g := range ts.gsis {
		r.Indexes = append(r.Indexes, IndexReport{Index: g.name, Partitions: parts(&g.read, &g.write, &g.pt),
			Read: sideReport(&g.read, now), Write: sideReport(&g.write, now)})
	}
	return r
}

func sideReport(s *side, now time.Time) SideReport {
	var r SideReport
	if s.limited {
		s.total.refill(now)
		r.Rate, r.Available = s.total.rate, s.total.tokens
	}
	if s.ondemand {
		s.growth.roll(now)
		r.OnDemandLimit = 2 * math.Max(s.growth.prev, s.initial/2)
	}
	return r
}

func parts(rd, wr *side, pt *partitioning) []PartReport {
	out := make([]PartReport, pt.n())
	for i := range out {
		p := PartReport{Partition: i, HashFrom: fmt.Sprintf("%016x", pt.start[i]), HashTo: fmt.Sprintf("%016x", pt.end(i))}
		if i < len(rd.parts) {
			p.ReadUnits, p.ReadThrottles = rd.parts[i].units, rd.parts[i].throttles
			p.SplitForHeat = rd.parts[i].heat
		}
		if i < len(wr.parts) {
			p.WriteUnits, p.WriteThrottles = wr.parts[i].units, wr.parts[i].throttles
		}
		out[i] = p
	}
	return out
}

// hashBound is the first hash of partition i of n (the smallest h with
// PartitionOf(h, n) == i); ok is false for i == n (2⁶⁴ does not fit).
func hashBound(i, n int) (uint64, bool) {
	if i == 0 {
		return 0, true
	}
	if i >= n {
		return 0, false
	}
	q, r := bits.Div64(uint64(i), 0, uint64(n)) // i·2⁶⁴ / n, i < n
	if r != 0 {
		q++
	}
	return q, true
}

// Handler serves GET /eddy/capacity/tables/NAME[?region=R]: the table's
// TableReport as JSON. lookup finds a table by region ("" for the
// server's) and name.
func (l *Limiter) Handler(lookup func(region, name string) *store.Table) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/eddy/capacity/tables/")
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet || name == "" || strings.Contains(name, "/") {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"Message": "not found: GET /eddy/capacity/tables/NAME"})
			return
		}
		t := lookup(r.URL.Query().Get("region"), name)
		if t == nil {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"Message": "Requested resource not found: Table: " + name + " not found"})
			return
		}
		_ = json.NewEncoder(w).Encode(l.Report(t))
	})
}
