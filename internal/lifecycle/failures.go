package lifecycle

import (
	"context"
	"log/slog"
	"sync"
)

// Failures logs the outcomes of a recurring task (a maintenance round, a
// background compaction) once per change of state, not once per run: the
// first failure after a success at Level, nothing while the task keeps failing, and one info line, with the count
// of failures, when it succeeds again. A task that fails every second for
// an hour therefore logs two lines, not 3,600.
//
// The zero value logs nothing until Log is set; Failures is safe for
// concurrent use.
type Failures struct {
	Log   *slog.Logger // nil discards
	What  string       // the task, as the log lines name it
	Level slog.Level   // of the failing line; the zero value is slog.LevelInfo, so set Warn or Error

	mu      sync.Mutex
	failing int // consecutive failures
}

// Report records one run's outcome: err nil for success.
func (f *Failures) Report(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	log := Or(f.Log)
	switch {
	case err != nil && f.failing == 0:
		f.failing = 1
		log.Log(context.Background(), f.Level, f.What+" failing", "err", err)
	case err != nil:
		f.failing++
	case f.failing > 0:
		log.Info(f.What+" recovered", "failures", f.failing)
		f.failing = 0
	}
}

// Failing reports how many runs in a row have failed (0 when the last
// succeeded).
func (f *Failures) Failing() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failing
}
