package datadriven

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRoundTrip: parsing a file and writing it back changes nothing, for
// every data-driven file of the repository, and the cases are found.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../../api/testdata/errors/*.txt")
	more, _ := filepath.Glob("../../store/expr/testdata/*.txt")
	files = append(files, more...)
	if len(files) < 2 {
		t.Fatalf("found %d test files", len(files))
	}
	for _, path := range files {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Cases) == 0 {
			t.Fatalf("%s: no cases", path)
		}
		f.Path = filepath.Join(t.TempDir(), "copy.txt")
		if err := f.Write(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(f.Path)
		if string(got) != string(want) {
			t.Errorf("%s: not written back as read", path)
		}
	}
}

func TestMissingSeparator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(path, []byte("cmd\ninput\n"), 0o644)
	if _, err := Parse(path); err == nil {
		t.Fatal("a case without ---- parsed")
	}
}
