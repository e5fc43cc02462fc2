package triggers_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/eddydb/eddy/triggers"
)

type sinkRecorder struct {
	mu     sync.Mutex
	events []triggers.LogEvent
}

func (r *sinkRecorder) Log(e triggers.LogEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// TestLogSink: Deps.Logs gets every line of every invocation, one event
// per line with its newline, the handler's error included, and a warm
// instance keeps its Instance (the log stream).
func TestLogSink(t *testing.T) {
	rec := &sinkRecorder{}
	h := newHost(t, triggers.Deps{Logs: rec})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "k", Code: guestCode(t, "kitchen")}); err != nil {
		t.Fatal(err)
	}
	r1, err := h.Invoke(ctx, "k", "", []byte(`{"action":"log"}`))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.Invoke(ctx, "k", "", []byte(`{"action":"fail"}`))
	if err != nil || r2.FunctionError == "" {
		t.Fatalf("fail: %v %+v", err, r2)
	}
	var msgs []string
	for _, e := range rec.events {
		if e.Function != "k" || e.Version != "$LATEST" || len(e.Instance) != 32 || e.Instance != rec.events[0].Instance ||
			e.Time.IsZero() || e.InstanceStarted.IsZero() || !strings.HasSuffix(e.Message, "\n") {
			t.Errorf("event %+v", e)
		}
		msgs = append(msgs, e.Message)
		if strings.Count(e.Message, "\n") != 1 {
			t.Errorf("not one line: %q", e.Message)
		}
	}
	all := strings.Join(msgs, "")
	for _, want := range []string{
		"START RequestId: " + r1.RequestID + " Version: $LATEST\n",
		"hello from the guest, action=log\n", "stderr line\n",
		"END RequestId: " + r1.RequestID + "\n", "REPORT RequestId: " + r1.RequestID + "\t",
		`{"errorMessage":"the handler said no"`, "END RequestId: " + r2.RequestID + "\n",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
	if !strings.Contains(string(r2.Logs), "the handler said no") {
		t.Errorf("Result.Logs lacks the error: %s", r2.Logs)
	}
}
