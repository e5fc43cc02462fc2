package server

import (
	"context"
	"errors"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/dataport"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// pitrHistory is dataport's History over the store's point-in-time
// recovery (store/pitr.go): exports at a past ExportTime read
// store.DB.TableAsOf, incremental exports fold store.DB.ChangesBetween into
// one line per changed item, its image at the period's start read with
// TableAsOf.
type pitrHistory struct{ s *Server }

func (h pitrHistory) RecoveryWindow(ctx context.Context, region, table string) (time.Time, time.Time, error) {
	t := h.s.db.TableIn(region, table)
	if t == nil {
		return time.Time{}, time.Time{}, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", table)
	}
	earliest, latest, ok := h.s.db.PITRWindow(t)
	if !ok {
		return time.Time{}, time.Time{}, ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "")
	}
	return earliest, latest, nil
}

func (h pitrHistory) TableAsOf(ctx context.Context, region, table string, at time.Time, fn func(attr.Item) error) error {
	return exportTime(h.s.db.TableAsOf(ctx, region, table, at, fn))
}

func (h pitrHistory) ChangesBetween(ctx context.Context, region, table string, from, to time.Time, fn func(dataport.Change) error) error {
	type change struct {
		keys, new attr.Item
		micros    int64
	}
	t := h.s.db.TableIn(region, table)
	if t == nil {
		return ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", table)
	}
	last := map[string]*change{} // by itemKey
	var order []string
	err := h.s.db.ChangesBetween(ctx, region, table, from, to, func(c store.ItemChange) error {
		k := itemKey(t, c.Keys)
		ch, ok := last[k]
		if !ok {
			ch = &change{keys: c.Keys}
			last[k] = ch
			order = append(order, k)
		}
		ch.new, ch.micros = c.New, c.Time.UnixMicro()
		return nil
	})
	if err != nil {
		return exportTime(err)
	}
	if len(order) == 0 {
		return nil
	}
	// The images before the period: the items as they were at from.
	old := map[string]attr.Item{}
	err = h.s.db.TableAsOf(ctx, region, table, from, func(it attr.Item) error {
		k := itemKey(t, it)
		if _, ok := last[k]; ok {
			old[k] = it
		}
		return nil
	})
	if err != nil {
		return exportTime(err)
	}
	for _, k := range order {
		ch := last[k]
		if err := fn(dataport.Change{Keys: ch.keys, New: ch.new, Old: old[k], WriteMicros: ch.micros}); err != nil {
			return err
		}
	}
	return nil
}

// exportTime words the store's InvalidRestoreTime as the export
// operations' InvalidExportTimeException.
func exportTime(err error) error {
	var e *ddberr.Error
	if errors.As(err, &e) && e.Kind == ddberr.KindInvalidRestoreTime {
		return ddberr.New(ddberr.KindInvalidExportTime, "%s", e.Message)
	}
	return err
}

// itemKey identifies an item of t by its key attributes' values.
func itemKey(t *store.Table, it attr.Item) string {
	var b []byte
	for _, name := range t.KeyNames() {
		v, ok := it[name]
		if !ok {
			continue
		}
		b = attr.AppendKey(b, v)
		b = append(b, 0)
	}
	return string(b)
}
