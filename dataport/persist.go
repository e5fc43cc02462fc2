package dataport

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/eddydb/eddy/store"
)

// Export and import descriptions persist in key space SpaceDataport, so
// DescribeExport, ListExports, DescribeImport and ListImports answer the
// same after a restart:
//
//	0x61 'e' <export ID>  → savedJob (JSON) with Export
//	0x61 'i' <import ID>  → savedJob (JSON) with Import
//
// IDs begin with their creation time in milliseconds (newJobID), so key
// order is creation order. A description is written (synced) when its job
// starts and when it ends; an import's counters in between live in memory.
// A job that was IN_PROGRESS when eddy stopped (cancelled by Close, or cut
// by a crash and found IN_PROGRESS by New) is not resumed: it ends FAILED
// with errInterrupted's message, and what it wrote stays (an export's
// files, an import's items).

// savedJob is one persisted description.
type savedJob struct {
	Region string                  `json:"region"`
	Hash   string                  `json:"hash"` // the request's parameters, for ClientToken
	Export *ExportDescription      `json:"export,omitempty"`
	Import *ImportTableDescription `json:"import,omitempty"`
}

// errInterrupted ends a job eddy stopped under.
var errInterrupted = errors.New("eddy stopped while this job was in progress; it did not finish: start it again")

func jobKey(kind byte, arn string) []byte { return append([]byte{kind}, idOf(arn)...) }

func (m *Manager) saveExport(j *exportJob) error {
	d := j.desc
	return m.save(jobKey('e', d.ExportArn), savedJob{Region: j.region, Hash: j.hash, Export: &d})
}

// saveImport saves j with its counters; m.mu held.
func (m *Manager) saveImport(j *importJob) error {
	d := m.importDesc(j)
	return m.save(jobKey('i', d.ImportArn), savedJob{Region: j.region, Hash: j.hash, Import: &d})
}

func (m *Manager) save(key []byte, s savedJob) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b := m.ks.NewBatch()
	defer b.Close()
	if err := m.ks.Set(b, key, v); err != nil {
		return err
	}
	return b.Commit(true)
}

// load reads the saved descriptions; the jobs found IN_PROGRESS end
// FAILED (errInterrupted), saved so.
func (m *Manager) load() error {
	now := m.opts.Now().UTC()
	var interrupted []func() error
	err := m.ks.Scan(nil, nil, func(key, value []byte) error {
		var s savedJob
		if err := json.Unmarshal(value, &s); err != nil {
			return fmt.Errorf("dataport: corrupt description %q: %w", key, err)
		}
		switch {
		case s.Export != nil:
			j := &exportJob{desc: *s.Export, region: s.Region, hash: s.Hash}
			if j.desc.ExportStatus == StatusInProgress {
				endInterrupted(&j.desc.ExportStatus, &j.desc.EndTime, &j.desc.FailureCode, &j.desc.FailureMessage, now)
				interrupted = append(interrupted, func() error { return m.saveExport(j) })
			}
			m.exports = append(m.exports, j)
		case s.Import != nil:
			j := &importJob{desc: *s.Import, region: s.Region, hash: s.Hash}
			j.processedItems.Store(j.desc.ProcessedItemCount)
			j.importedItems.Store(j.desc.ImportedItemCount)
			j.errors.Store(j.desc.ErrorCount)
			j.processedBytes.Store(j.desc.ProcessedSizeBytes)
			if j.desc.ImportStatus == StatusInProgress {
				endInterrupted(&j.desc.ImportStatus, &j.desc.EndTime, &j.desc.FailureCode, &j.desc.FailureMessage, now)
				interrupted = append(interrupted, func() error { return m.saveImport(j) })
			}
			m.imports = append(m.imports, j)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, save := range interrupted {
		if err := save(); err != nil {
			return err
		}
	}
	if len(interrupted) > 0 {
		m.log.Warn("exports or imports in progress when eddy stopped are FAILED", "jobs", len(interrupted))
	}
	return nil
}

func endInterrupted(status *string, end **epoch, code, msg *string, now time.Time) {
	*status, *end = StatusFailed, ptrEpoch(now)
	*code, *msg = failure(errInterrupted)
}

// spaceOf is the key space of a Manager over db.
func spaceOf(db *store.DB) store.KeySpace { return db.KeySpace(store.SpaceDataport) }
