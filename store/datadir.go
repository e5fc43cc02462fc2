package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/internal/uuid"
)

// MarkerFile is the file that makes a directory an eddy data directory. It
// holds the database's identity, written once when the database is
// created:
//
//	{"eddy":1,"id":"<uuid>","created":"<RFC 3339 time>"}
//
// The id is logged at every start, so a data directory restored from
// elsewhere, or swapped under eddy, shows in the log.
const MarkerFile = "EDDY"

// ErrDataDir is matched (errors.Is) by every refusal to open a data
// directory at start.
var ErrDataDir = errors.New("store: data directory refused")

// ErrDataDirInUse is matched by the refusal to open a data directory that
// another process (another eddy) has open.
var ErrDataDirInUse = errors.New("store: data directory in use")

type marker struct {
	Eddy    int       `json:"eddy"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// prepareDir applies the start rules to dir. It returns the marker of an
// existing database, or a new marker (write set) that Open writes once
// Pebble has opened: a database created, or one from before markers. It
// creates dir only with init:
//
//	dir is                                  eddy serve    eddy serve --init
//	missing (a first run, or it vanished)   refused       created
//	empty (or holds only lost+found)        created       created
//	holds EDDY and Pebble's files           opened        refused
//	holds EDDY but no Pebble files (wiped)  refused       refused
//	holds a Pebble DB but no EDDY (eddy     opened, EDDY  refused
//	  before markers, or a creation that    recorded
//	  crashed before writing EDDY)
//	holds anything else                     refused       refused
//
// A missing directory is refused because it cannot be told from one that
// was deleted: recreating it would silently replace every acknowledged
// write with an empty database. EDDY without Pebble's database is refused
// by Pebble itself (Options.ErrorIfNotExists), and a Pebble DB not made by
// eddy by its merge operator's name.
func prepareDir(fs vfs.FS, dir string, init bool) (m marker, create, write bool, err error) {
	refuse := func(format string, args ...any) (marker, bool, bool, error) {
		return marker{}, false, false, fmt.Errorf("%w: %s: %s", ErrDataDir, dir, fmt.Sprintf(format, args...))
	}
	names, err := fs.List(dir)
	if errors.Is(err, os.ErrNotExist) {
		if !init {
			return refuse("does not exist; pass --init (server.Options.Init) to create a new database there, " +
				"or restore the directory if it was deleted")
		}
		if err := fs.MkdirAll(dir, 0o755); err != nil {
			return marker{}, false, false, fmt.Errorf("store: create %s: %w", dir, err)
		}
		names = nil
	} else if err != nil {
		return marker{}, false, false, fmt.Errorf("store: read %s: %w", dir, err)
	}
	var hasMarker, hasPebble, other bool
	for _, n := range names {
		switch {
		case n == MarkerFile:
			hasMarker = true
		case n == "CURRENT" || strings.HasPrefix(n, "MANIFEST-") || strings.HasPrefix(n, "OPTIONS-") || strings.HasPrefix(n, "marker."):
			hasPebble = true
		case n == "lost+found" || n == MarkerFile+".tmp":
		default:
			other = true
		}
	}
	empty := !hasMarker && !hasPebble && !other
	switch {
	case init && !empty:
		return refuse("is not empty; --init creates a new database only in a missing or empty directory")
	case hasMarker:
		m, err := readMarker(fs, dir)
		return m, false, false, err
	case hasPebble:
		// An eddy database from before markers (its sinks and code cache
		// beside it): adopt it.
		return newMarker(), false, true, nil
	case other:
		return refuse("is not empty and holds no eddy database (no %s file); use an empty directory", MarkerFile)
	}
	return newMarker(), true, true, nil
}

func newMarker() marker {
	return marker{Eddy: 1, ID: uuid.New(), Created: time.Now().UTC().Truncate(time.Second)}
}

func readMarker(fs vfs.FS, dir string) (marker, error) {
	f, err := fs.Open(fs.PathJoin(dir, MarkerFile))
	if err != nil {
		return marker{}, fmt.Errorf("store: read marker: %w", err)
	}
	defer f.Close()
	var m marker
	if err := json.NewDecoder(f).Decode(&m); err != nil || m.Eddy != 1 || m.ID == "" {
		return marker{}, fmt.Errorf("%w: %s: %s is not an eddy marker (%v)", ErrDataDir, dir, MarkerFile, err)
	}
	return m, nil
}

// writeMarker writes EDDY durably: the file, then the directory entry.
func writeMarker(fs vfs.FS, dir string, m marker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := fs.PathJoin(dir, MarkerFile+".tmp")
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: write marker: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, fs.PathJoin(dir, MarkerFile))
	}
	if err == nil {
		var d vfs.File
		if d, err = fs.OpenDir(dir); err == nil {
			err = d.Sync()
			if cerr := d.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("store: write marker: %w", err)
	}
	return nil
}
