package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/eddydb/eddy/internal/server"
)

// TestNewLogger: --log-level and --log-format accept their documented
// values and refuse others.
func TestNewLogger(t *testing.T) {
	for _, c := range []struct{ level, format string }{{"debug", "text"}, {"info", "json"}, {"warn", "text"}, {"error", "json"}} {
		l, err := newLogger(c.level, c.format)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.level, c.format, err)
		}
		var want slog.Level
		_ = want.UnmarshalText([]byte(c.level))
		if !l.Enabled(context.Background(), want) || l.Enabled(context.Background(), want-1) {
			t.Errorf("%s: wrong level", c.level)
		}
	}
	for _, c := range []struct{ level, format string }{{"loud", "text"}, {"info", "xml"}} {
		if _, err := newLogger(c.level, c.format); err == nil {
			t.Errorf("%s/%s accepted", c.level, c.format)
		}
	}
	fs := serveFlags(new(server.Options), new(sinkFlags))
	for name, def := range map[string]string{"log-level": "info", "log-format": "text"} {
		if f := fs.Lookup(name); f == nil || f.DefValue != def {
			t.Errorf("--%s: %+v, want default %q", name, f, def)
		}
	}
}
