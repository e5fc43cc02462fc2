package store

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// dirCheckInterval is how often an idle DB checks that its data directory
// is still there (writes check after every commit).
const dirCheckInterval = time.Second

// errDirVanished is the cause of the failed state when the data directory
// or its marker was removed while the DB was open.
var errDirVanished = errors.New("the data directory or its EDDY marker was removed while eddy was running")

// dirWatch holds the data directory's marker open, to tell that the
// directory was removed (rm -rf): an open file outlives its name, so Pebble
// keeps writing and syncing its WAL into a file that no longer exists, and
// every write after the removal would be acknowledged and lost. The check
// is one fstat of the marker (no path lookup, no allocation): a link count
// of 0 means removed, and a directory cannot be removed before the files
// in it (rm -rf DIR and rm -rf DIR/* both remove EDDY).
type dirWatch struct {
	marker *os.File
}

// openDirWatch opens dir's marker; nil when it is not on the OS filesystem
// (a memory or custom FS: nothing to watch).
func openDirWatch(dir string) *dirWatch {
	m, err := os.Open(filepath.Join(dir, MarkerFile))
	if err != nil {
		return nil
	}
	return &dirWatch{marker: m}
}

// vanished reports whether the marker was removed.
func (w *dirWatch) vanished() bool {
	return w != nil && removed(w.marker)
}

func (w *dirWatch) close() {
	if w != nil {
		w.marker.Close()
	}
}

// checkDir enters the sticky failed state if the data directory vanished.
func (db *DB) checkDir() error {
	if db.watch.vanished() {
		return db.health.fail(true, "data directory vanished", errDirVanished)
	}
	return nil
}
