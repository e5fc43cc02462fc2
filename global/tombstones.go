package global

import (
	"context"
	"log/slog"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// collectBatch is the most tombstones one pass removes per table.
const collectBatch = 1000

// collectTombstones removes tombstones older than TombstoneTTL every
// CollectInterval.
func (m *Manager) collectTombstones(ctx context.Context) {
	fail := lifecycle.Failures{Log: m.log, What: "global tables: collecting tombstones", Level: slog.LevelWarn}
	for lifecycle.Sleep(ctx, m.opts.CollectInterval) {
		_, err := m.CollectTombstones(ctx)
		if ctx.Err() != nil {
			return
		}
		fail.Report(err)
	}
}

// CollectTombstones removes the tombstones of this region's global tables
// whose delete is older than Options.TombstoneTTL (at most collectBatch per
// table a call) and returns how many it removed. Each is removed under its
// item's lock, and only if it is still the item's last write, so a write
// that lands meanwhile keeps its meta.
func (m *Manager) CollectTombstones(ctx context.Context) (int, error) {
	cutoff := time.Now().Add(-m.opts.TombstoneTTL).UnixMicro()
	n := 0
	for _, name := range m.globalNames() {
		t := m.db.TableIn(m.opts.Region, name)
		if t == nil {
			continue
		}
		type tomb struct {
			key []byte
			md  meta
		}
		var old []tomb
		prefix := metaPrefix(t.ID)
		err := m.ks.Scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
			md, err := decodeMeta(v)
			if err != nil || !md.Deleted || md.TS >= cutoff || md.Keys == nil {
				return err
			}
			old = append(old, tomb{append([]byte(nil), k...), md})
			if len(old) == collectBatch {
				return errFull
			}
			return nil
		})
		if err != nil && err != errFull {
			return n, err
		}
		for _, tb := range old {
			var still bool
			_, err := m.db.Write(ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
				if !still {
					return nil
				}
				return m.ks.Delete(b, tb.key)
			}}, store.Mutation{Table: t, Key: t.KeyOf(tb.md.Keys), ReadOnly: true, Apply: func(cur attr.Item) (attr.Item, error) {
				md, ok, err := m.getMeta(tb.key)
				still = err == nil && ok && cur == nil && md.Deleted && md.TS == tb.md.TS && md.Region == tb.md.Region
				return cur, err
			}})
			if err != nil {
				return n, err
			}
			if still {
				n++
			}
		}
	}
	return n, nil
}
