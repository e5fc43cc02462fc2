package triggers

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"time"
)

// LogSink receives every line of every invocation's log as it is written:
// the host's START/END/REPORT and error lines, eddy.log calls and the
// guest's stdout/stderr. It is the feed of package cwlogs (CloudWatch Logs
// for functions); Result.Logs still carries the invocation's tail.
//
// Log runs on the invocation's goroutine, so it must be quick and must not
// block; it must be safe for concurrent use (invocations run in parallel).
// The LogEvent is the sink's to keep.
type LogSink interface {
	Log(e LogEvent)
}

// LogEvent is one line of an invocation's log.
type LogEvent struct {
	// Function is the function's name; Version the version that ran
	// ("$LATEST", "3").
	Function, Version string
	// Instance names the instance (Lambda's execution environment) that
	// ran the invocation: 32 lowercase hex digits, new for every
	// instance, the same for all invocations it serves. InstanceStarted is
	// when it was created. Lambda names a log stream after both:
	// "2006/01/02/[$LATEST]<Instance>".
	Instance        string
	InstanceStarted time.Time
	// RequestID is the invocation's request ID.
	RequestID string
	// Time is when the line was written.
	Time time.Time
	// Message is the line with its trailing newline, as Lambda sends it to
	// CloudWatch. A line longer than MaxLogLine is cut into several
	// events, the last one ending in the newline.
	Message string
}

// MaxLogLine is the longest Message a LogEvent carries: CloudWatch Logs'
// 256 KB event size.
const MaxLogLine = 256 << 10

// env identifies an instance for its log stream.
type env struct {
	id      string
	started time.Time
}

func newEnv(now time.Time) env {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return env{id: hex.EncodeToString(b[:]), started: now}
}

// lineSink cuts an invocation's log into lines for Deps.Logs.
type lineSink struct {
	sink LogSink
	ev   LogEvent // Function, Version, Instance, RequestID filled in
	part []byte   // the line being written
}

// write hands every complete line of p to the sink and keeps the rest.
func (l *lineSink) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.part = append(l.part, p...)
			for len(l.part) >= MaxLogLine {
				l.emit(l.part[:MaxLogLine])
				l.part = append(l.part[:0], l.part[MaxLogLine:]...)
			}
			return
		}
		l.part = append(l.part, p[:i+1]...)
		p = p[i+1:]
		for len(l.part) > MaxLogLine {
			l.emit(l.part[:MaxLogLine])
			l.part = append(l.part[:0], l.part[MaxLogLine:]...)
		}
		l.emit(l.part)
		l.part = l.part[:0]
	}
}

// flush ends a partial line (a guest write without its newline) so what
// follows starts a new event.
func (l *lineSink) flush() {
	if len(l.part) > 0 {
		l.write([]byte{'\n'})
	}
}

func (l *lineSink) emit(b []byte) {
	e := l.ev
	e.Time = time.Now()
	e.Message = string(b)
	l.sink.Log(e)
}
