package lifecycle

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestFailuresLogOncePerStateChange(t *testing.T) {
	var buf bytes.Buffer
	f := Failures{Log: slog.New(slog.NewTextHandler(&buf, nil)), What: "trim", Level: slog.LevelWarn}
	f.Report(nil)
	for i := 0; i < 5; i++ {
		f.Report(errors.New("disk full"))
	}
	if f.Failing() != 5 {
		t.Fatalf("Failing = %d, want 5", f.Failing())
	}
	f.Report(nil)
	f.Report(nil)
	f.Report(errors.New("again"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=WARN msg="trim failing" err="disk full"`,
		`level=INFO msg="trim recovered" failures=5`,
		`level=WARN msg="trim failing" err=again`,
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d = %q, want suffix %q", i, lines[i], w)
		}
	}
}
