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
// store.DB.TableAsOf, incremental exports store.DB.ChangedItems (one
// entry per changed item, with its images at the period's start and end).
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
	// One line per changed item, streamed in key order: the store
	// deduplicates the period's changes on disk (store.DB.ChangedItems), so
	// memory does not grow with the number of items changed.
	return exportTime(h.s.db.ChangedItems(ctx, region, table, from, to, func(d store.ItemDiff) error {
		return fn(dataport.Change{Keys: d.Keys, New: d.New, Old: d.Old, WriteMicros: d.Time.UnixMicro()})
	}))
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
