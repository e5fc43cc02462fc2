package file_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/file"
)

var ctx = context.Background()

func open(t *testing.T, path string, opts map[string]string) *file.Sink {
	t.Helper()
	s, err := file.New(outbox.Config{Name: "out", Kind: "file", URL: path, Options: opts}, outbox.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func doc(seq uint64) outbox.Doc {
	return outbox.Doc{Seq: seq, Op: outbox.OpIndex, ID: fmt.Sprintf("k%d", seq), Version: seq * 10, Body: []byte(fmt.Sprintf(`{"n":%d}`, seq))}
}

func docs(from, to uint64) []outbox.Doc {
	var ds []outbox.Doc
	for s := from; s <= to; s++ {
		ds = append(ds, doc(s))
	}
	return ds
}

func line(seq uint64) string {
	return fmt.Sprintf(`{"seq":%d,"op":"index","id":"k%d","version":%d,"doc":{"n":%d}}`+"\n", seq, seq, seq*10, seq)
}

func lines(from, to uint64) string {
	var b strings.Builder
	for s := from; s <= to; s++ {
		b.WriteString(line(s))
	}
	return b.String()
}

func deliver(t *testing.T, s *file.Sink, ds []outbox.Doc) {
	t.Helper()
	if err := s.Deliver(ctx, ds); err != nil {
		t.Fatal(err)
	}
}

// TestLines: one envelope per document, exactly; the body is embedded
// verbatim (compacted only when it spans lines).
func TestLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := open(t, "file://"+path, nil)
	deliver(t, s, []outbox.Doc{
		{Seq: 1, Op: outbox.OpIndex, ID: "a\"b", Version: 7, Table: "orders", Body: []byte(`{"x": 1, "s":"é<"}`)},
		{Seq: 2, Op: outbox.OpDelete, ID: "k2", Version: 9},
		{Seq: 3, Op: outbox.OpIndex, ID: "k3", Version: 3, Body: []byte("{\n  \"y\": [1, 2]\n}\n")},
	})
	want := `{"seq":1,"op":"index","id":"a\"b","version":7,"table":"orders","doc":{"x": 1, "s":"é<"}}` + "\n" +
		`{"seq":2,"op":"delete","id":"k2","version":9}` + "\n" +
		`{"seq":3,"op":"index","id":"k3","version":3,"doc":{"y":[1,2]}}` + "\n"
	if got := read(t, path); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
}

// TestRejected: a body that is not JSON is rejected; the rest is written.
func TestRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := open(t, path, nil)
	ds := docs(1, 3)
	ds[1].Body = []byte(`{"broken`)
	err := s.Deliver(ctx, ds)
	var p *outbox.Partial
	if !errors.As(err, &p) || len(p.Failed) != 0 || len(p.Rejected) != 1 || p.Rejected[0] != 1 {
		t.Fatalf("Deliver = %v, want document 1 rejected", err)
	}
	if got, want := read(t, path), line(1)+line(3); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
}

// TestRedelivery: documents at or below the last seq written are skipped,
// in the same sink and after a reopen.
func TestRedelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := open(t, path, nil)
	deliver(t, s, docs(1, 3))
	deliver(t, s, docs(2, 5))
	if got, want := read(t, path), lines(1, 5); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(ctx, docs(6, 6)); err == nil {
		t.Fatal("Deliver after Close worked")
	}
	s2 := open(t, path, nil)
	deliver(t, s2, docs(1, 7))
	if got, want := read(t, path), lines(1, 7); got != want {
		t.Fatalf("after reopen:\n%s\nwant:\n%s", got, want)
	}
}

// TestTornTail: a last line cut short by a crash is truncated away and
// rewritten from the redelivery.
func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	l3 := line(3)
	if err := os.WriteFile(path, []byte(lines(1, 2)+l3[:len(l3)/2]), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, nil)
	deliver(t, s, docs(2, 4))
	if got, want := read(t, path), lines(1, 4); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
	// A file holding only a torn line is emptied.
	path2 := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path2, []byte(`{"seq":9,"op":"ind`), 0o644); err != nil {
		t.Fatal(err)
	}
	deliver(t, open(t, path2, nil), docs(9, 9))
	if got, want := read(t, path2), line(9); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
}

// TestNotOurs: a file whose last line is not an envelope is an error, not
// overwritten or appended to.
func TestNotOurs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := open(t, path, nil).Deliver(ctx, docs(1, 1)); err == nil || !strings.Contains(err.Error(), "not an envelope") {
		t.Fatalf("Deliver = %v", err)
	}
	if got := read(t, path); got != "hello\n" {
		t.Fatalf("file changed: %q", got)
	}
}

// TestRotation: files never exceed max_bytes, PATH.N are oldest highest,
// seqs continue across rotations and reopens (even a reopen right after a
// rotation, when PATH is empty or missing), and max_files bounds the
// rotated files.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	max := 3 * len(line(10)) // three lines of seq 10-99
	s := open(t, path, map[string]string{"max_bytes": fmt.Sprint(max)})
	deliver(t, s, docs(10, 17))
	deliver(t, s, docs(15, 20))
	want := map[string]string{
		path:        lines(19, 20),
		path + ".1": lines(16, 18),
		path + ".2": lines(13, 15),
		path + ".3": lines(10, 12),
	}
	check := func(want map[string]string) {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != len(want) {
			t.Errorf("%d files, want %d", len(ents), len(want))
		}
		for p, w := range want {
			if got := read(t, p); got != w {
				t.Errorf("%s:\n%s\nwant:\n%s", filepath.Base(p), got, w)
			}
			if len(w) > max {
				t.Errorf("%s has %d bytes, more than max_bytes", p, len(w))
			}
		}
	}
	check(want)

	// Reopen right after a rotation that a crash cut short: PATH renamed
	// PATH.1, no new PATH yet.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 2, 1, 0} {
		from := path
		if n > 0 {
			from = fmt.Sprintf("%s.%d", path, n)
		}
		if err := os.Rename(from, fmt.Sprintf("%s.%d", path, n+1)); err != nil {
			t.Fatal(err)
		}
	}
	deliver(t, open(t, path, map[string]string{"max_bytes": fmt.Sprint(max)}), docs(19, 21))
	want[path+".1"], want[path+".2"], want[path+".3"], want[path+".4"] = want[path], want[path+".1"], want[path+".2"], want[path+".3"]
	want[path] = lines(21, 21)
	check(want)
	// PATH removed by hand: seqs go on from PATH.1's last.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	delete(want, path)
	s3 := open(t, path, map[string]string{"max_bytes": fmt.Sprint(max), "max_files": "2"})
	deliver(t, s3, docs(19, 20))
	check(map[string]string{path: "", path + ".1": want[path+".1"], path + ".2": want[path+".2"], path + ".3": want[path+".3"], path + ".4": want[path+".4"]})
	deliver(t, s3, docs(22, 25))
	check(map[string]string{
		path:        lines(25, 25),
		path + ".1": lines(22, 24),
		path + ".2": lines(19, 20),
	})
}

// TestBigLine: a line longer than max_bytes gets a file of its own.
func TestBigLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := open(t, path, map[string]string{"max_bytes": "10"})
	deliver(t, s, docs(1, 2))
	if got, want := read(t, path+".1"), line(1); got != want {
		t.Fatalf("out.jsonl.1 = %q, want %q", got, want)
	}
	if got, want := read(t, path), line(2); got != want {
		t.Fatalf("out.jsonl = %q, want %q", got, want)
	}
}

// TestNoDirectory: a missing directory is an error (retried by the
// outbox), not created.
func TestNoDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := open(t, filepath.Join(dir, "out.jsonl"), nil).Deliver(ctx, docs(1, 1))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Deliver = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory created: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []outbox.Config{
		{Name: "a", URL: ""},
		{Name: "a", URL: "file://host/x"},
		{Name: "a", URL: "/tmp/"},
		{Name: "a", URL: "/tmp/x", Options: map[string]string{"max_bytes": "0"}},
		{Name: "a", URL: "/tmp/x", Options: map[string]string{"max_bytes": "64MiB"}},
		{Name: "a", URL: "/tmp/x", Options: map[string]string{"max_files": "-1"}},
		{Name: "a", URL: "/tmp/x", Options: map[string]string{"subject": "x"}},
	} {
		if _, err := file.New(c, outbox.Env{}); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	for _, u := range []string{"/tmp/x.jsonl", "file:///tmp/x.jsonl", "file://localhost/tmp/x.jsonl", "rel/x.jsonl"} {
		if _, err := file.New(outbox.Config{Name: "a", URL: u, Options: map[string]string{"max_bytes": "100", "max_files": "3"}}, outbox.Env{}); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
}
