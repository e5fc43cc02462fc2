package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

// TestDataDirInUse: a second process opening a data directory another
// holds is refused with ErrDataDirInUse, naming the holder's PID (on Linux,
// from /proc/locks), not Pebble's "resource temporarily unavailable".
func TestDataDirInUse(t *testing.T) {
	if dir := os.Getenv("EDDY_TEST_HOLD_DIR"); dir != "" {
		db, err := Open(Options{Dir: dir})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes our stdin
		db.Close()
		os.Exit(0)
	}
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(Options{Dir: dir, Init: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDataDirInUse$")
	cmd.Env = append(os.Environ(), "EDDY_TEST_HOLD_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "holding\n" {
		t.Fatalf("holder: %q %v", line, err)
	}
	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, ErrDataDirInUse) || !errors.Is(err, ErrDataDir) {
		t.Fatalf("open of a held directory: %v, want ErrDataDirInUse", err)
	}
	want := "in use by another eddy"
	if runtime.GOOS == "linux" {
		want = fmt.Sprintf("in use by another eddy (pid %d)", cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q lacks %q", err, want)
	}
}
