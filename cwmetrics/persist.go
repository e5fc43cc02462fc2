package cwmetrics

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/kv"
)

// KV is where a Store keeps its data points across restarts
// (store.SpaceMetrics, implemented by store.KeySpace without this package
// importing store). Its layout, one key per series and minute:
//
//	<minute: 8 bytes big-endian> <region> 0 <metric> 0 <table> 0 <index> 0 <op>  →  Sum Count Min Max (4 float64, big-endian bits)
//
// Minutes lead the key, so the points past the retention are one range
// deletion. Requests never write: Flush writes the minutes changed since
// the last one (the server flushes every MetricsInterval and on shutdown),
// so a crash loses at most the minutes since the last flush. The space is
// bounded by the retention: the points of an evicted series (MaxSeries)
// stay until they are older than it, and Load applies MaxSeries again.
type KV interface {
	Scan(lower, upper []byte, fn func(key, value []byte) error) error
	Write(sync bool, fn func(w kv.Writer) error) error
}

func pointKey(k Key, minute int64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(k.Region)+len(k.Metric)+len(k.Table)+len(k.Index)+len(k.Op)+len(k.Receiving)+5), uint64(minute))
	b = append(b, k.Region+"\x00"+k.Metric+"\x00"+k.Table+"\x00"+k.Index+"\x00"+k.Op...)
	if k.Receiving != "" {
		b = append(b, "\x00"+k.Receiving...) // a sixth part only when set: older keys still parse
	}
	return b
}

func parsePointKey(b []byte) (Key, int64, bool) {
	if len(b) < 8 {
		return Key{}, 0, false
	}
	parts := strings.Split(string(b[8:]), "\x00")
	if len(parts) != 5 && len(parts) != 6 {
		return Key{}, 0, false
	}
	k := Key{Region: parts[0], Metric: parts[1], Table: parts[2], Index: parts[3], Op: parts[4]}
	if len(parts) == 6 {
		k.Receiving = parts[5]
	}
	return k, int64(binary.BigEndian.Uint64(b)), true
}

func encodeStat(s Stat) []byte {
	b := make([]byte, 0, 32)
	for _, f := range []float64{s.Sum, s.Count, s.Min, s.Max} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

func decodeStat(b []byte) (Stat, bool) {
	if len(b) != 32 {
		return Stat{}, false
	}
	f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[i*8:])) }
	return Stat{Sum: f(0), Count: f(1), Min: f(2), Max: f(3)}, true
}

// Load reads the data points kept in kv within the retention (the oldest
// first, so MaxSeries keeps the most recently updated series) and makes kv
// the store's for Flush. Call before the store records anything.
func (s *Store) Load(kv KV) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv = kv
	oldest := s.opts.Now().Unix()/60 - int64(s.opts.Retention/time.Minute)
	lower := binary.BigEndian.AppendUint64(nil, uint64(max(oldest, 0)))
	return kv.Scan(lower, nil, func(key, value []byte) error {
		k, m, ok := parsePointKey(key)
		st, ok2 := decodeStat(value)
		if !ok || !ok2 {
			return errors.New("cwmetrics: a malformed data point in the metrics key space")
		}
		se := s.series[k]
		if se == nil {
			if len(s.series) >= s.opts.MaxSeries {
				s.evict()
			}
			se = &series{key: k, dirty: -1}
			s.series[k] = se
		}
		se.buckets = append(se.buckets, bucket{minute: m, Stat: st}) // keys ascend by minute
		se.total.merge(st)
		se.touched = max(se.touched, m)
		se.last = st.Max // the latest sample itself is not kept; a gauge has one a minute
		return nil
	})
}

// Flush writes the data points changed since the last Flush, synced, and
// deletes those past the retention. Without a KV (Load) it does nothing.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv == nil {
		return nil
	}
	oldest := s.opts.Now().Unix()/60 - int64(s.opts.Retention/time.Minute)
	err := s.kv.Write(true, func(w kv.Writer) error {
		for _, se := range s.series {
			if se.dirty < 0 {
				continue
			}
			for _, b := range se.buckets {
				if b.minute >= se.dirty {
					if err := w.Set(pointKey(se.key, b.minute), encodeStat(b.Stat)); err != nil {
						return err
					}
				}
			}
		}
		if oldest > 0 {
			return w.DeleteRange(nil, binary.BigEndian.AppendUint64(nil, uint64(oldest)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, se := range s.series {
		se.dirty = -1
	}
	return nil
}
