package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func openDir(t *testing.T, dir string, init bool) (*DB, error) {
	t.Helper()
	db, err := Open(Options{Dir: dir, Init: init})
	if err == nil {
		t.Cleanup(func() { db.Close() })
	}
	return db, err
}

// TestStartRules checks prepareDir's table: what is created, opened and
// refused at start.
func TestStartRules(t *testing.T) {
	t.Run("missing is refused, not created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if _, err := openDir(t, dir, false); !errors.Is(err, ErrDataDir) {
			t.Fatalf("err = %v, want ErrDataDir", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("refused start left %s behind: %v", dir, err)
		}
	})
	t.Run("missing with init is created, parents too", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "data")
		db, err := openDir(t, dir, true)
		if err != nil {
			t.Fatal(err)
		}
		if db.ID() == "" {
			t.Fatal("no ID")
		}
		if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("empty is created; reopened with the same ID; init then refused", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		id := db.ID()
		tbl := newTable(t, db, "t")
		_ = tbl
		db.Close()
		db2, err := openDir(t, dir, false)
		if err != nil {
			t.Fatal(err)
		}
		if db2.ID() != id || db2.Table("t") == nil {
			t.Fatalf("reopened %q (table %v), want %q with its table", db2.ID(), db2.Table("t"), id)
		}
		db2.Close()
		if _, err := openDir(t, dir, true); !errors.Is(err, ErrDataDir) {
			t.Fatalf("--init on an existing database: %v, want ErrDataDir", err)
		}
	})
	t.Run("not eddy's is refused, with or without init", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, init := range []bool{false, true} {
			if _, err := openDir(t, dir, init); !errors.Is(err, ErrDataDir) {
				t.Fatalf("init=%v: %v, want ErrDataDir", init, err)
			}
		}
	})
	t.Run("a database from before markers is adopted", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		newTable(t, db, "t")
		db.Close()
		if err := os.Remove(filepath.Join(dir, MarkerFile)); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "sinks"), 0o755); err != nil {
			t.Fatal(err)
		}
		db2, err := openDir(t, dir, false)
		if err != nil {
			t.Fatal(err)
		}
		if db2.Table("t") == nil {
			t.Fatal("table lost")
		}
		if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err != nil {
			t.Fatalf("marker not recorded: %v", err)
		}
	})
	t.Run("a wiped database (marker, no Pebble files) is refused", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		newTable(t, db, "t")
		db.Close()
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			if n.Name() != MarkerFile {
				os.RemoveAll(filepath.Join(dir, n.Name()))
			}
		}
		if _, err := openDir(t, dir, false); !errors.Is(err, ErrDataDir) {
			t.Fatalf("EDDY alone: %v, want ErrDataDir", err)
		}
		if err := os.Mkdir(filepath.Join(dir, "sinks"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := openDir(t, dir, false); !errors.Is(err, ErrDataDir) {
			t.Fatalf("EDDY and sinks: %v, want ErrDataDir", err)
		}
	})
}

// TestHealthAfterClose: a closed DB is not mistaken for a vanished
// directory.
func TestHealthAfterClose(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Health(); err != nil {
		t.Fatalf("Health after Close: %v", err)
	}
}
