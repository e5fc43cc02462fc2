package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Window is an open tumbling window (TumblingWindowInSeconds > 0), with
// Lambda's semantics for DynamoDB streams:
//
//   - A record belongs to the window [Start, Start+T) that holds its Time,
//     windows aligned on multiples of T since the epoch. The caller forms
//     batches of one window's records.
//   - The event is the usual {"Records":[...]} plus "window" {"start",
//     "end"} (RFC 3339, whole seconds), "state" (the object the previous
//     invocation of the same window returned; {} at first), "shardId",
//     "eventSourceARN", "isFinalInvokeForWindow" and
//     "isWindowTerminatedEarly".
//   - The handler must answer {"state": {...}, ...}: a response without a
//     "state" object is a failed invocation. The state is committed with
//     the checkpoint past the records folded into it (Outcome.Window) and
//     carried to the next invocation of the same window.
//   - When the window is over (the caller calls CloseWindow: its end
//     passed, or the shard ended) or a batch of a later window arrives
//     (Deliver), the function is invoked once more with "Records": [], the
//     final state and "isFinalInvokeForWindow": true; that invocation is
//     retried until it succeeds, and its commit drops the state
//     (Outcome.WindowClosed).
//   - A state over MaxWindowState terminates the window early: the final
//     invocation is sent at once with "isWindowTerminatedEarly": true, and
//     the rest of the window starts again from {}.
type Window struct {
	Start int64           // unix seconds, a multiple of the window size
	State json.RawMessage // a compact JSON object
}

// MaxWindowState is the state size over which a window ends early.
const MaxWindowState = 1 << 20

// Window returns the open tumbling window (nil if none).
func (e *Engine) Window() *Window { return e.win }

// WindowEnd returns when the open window ends; ok is false when none is
// open.
func (e *Engine) WindowEnd() (end time.Time, ok bool) {
	if e.win == nil {
		return time.Time{}, false
	}
	return time.Unix(e.win.Start+int64(e.cfg.TumblingWindowInSeconds), 0), true
}

// WindowStart is the start (unix seconds) of the window of size secs that
// holds t.
func WindowStart(t time.Time, secs int) int64 {
	u := t.Unix()
	return u - u%int64(secs)
}

func (e *Engine) windowStart(t time.Time) int64 {
	if e.cfg.TumblingWindowInSeconds <= 0 {
		return 0
	}
	return WindowStart(t, e.cfg.TumblingWindowInSeconds)
}

// CloseWindow sends the final invocation of the open window (if any) and
// commits the state's removal with the invocation's writes, retrying until
// both succeed. early marks a window terminated early. It returns nil, or
// ctx.Err() when ctx ended first.
func (e *Engine) CloseWindow(ctx context.Context, early bool) error {
	if e.win == nil {
		return nil
	}
	retries := 0
	for {
		why := ""
		p := append([]byte{}, `{"Records":[]`...)
		p = e.appendWindow(p, e.win.Start, true, early)
		p = append(p, '}')
		res, err := e.invoke(ctx, nil, p)
		if err == nil {
			if res.FunctionError == "" {
				err = e.com.Commit(ctx, Outcome{Writes: res.Writes, WindowClosed: true})
				if err == nil {
					e.win = nil
					return nil
				}
				why = "commit: " + err.Error()
			} else {
				err = errFunctionCall
				why = ErrorText(res.FunctionError, res.Payload)
				if f := e.opts.Observer.Failed; f != nil {
					f()
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if why == "" {
			why = err.Error()
		}
		e.status("PROBLEM: final invocation of a tumbling window: "+err.Error(), why)
		retries++
		if !e.opts.Sleep(ctx, e.backoff(retries)) {
			return ctx.Err()
		}
	}
}

// appendWindow appends the tumbling-window members of the event for a
// batch of window start (after the Records array, before the closing
// brace).
func (e *Engine) appendWindow(p []byte, start int64, final, early bool) []byte {
	secs := int64(e.cfg.TumblingWindowInSeconds)
	p = append(p, `,"window":{"start":"`...)
	p = time.Unix(start, 0).UTC().AppendFormat(p, time.RFC3339)
	p = append(p, `","end":"`...)
	p = time.Unix(start+secs, 0).UTC().AppendFormat(p, time.RFC3339)
	p = append(p, `"},"state":`...)
	if e.win != nil && e.win.Start == start {
		p = append(p, e.win.State...)
	} else {
		p = append(p, '{', '}')
	}
	p = append(p, `,"shardId":`...)
	p = AppendJSONString(p, e.cfg.ShardID)
	p = append(p, `,"eventSourceARN":`...)
	p = AppendJSONString(p, e.cfg.StreamArn)
	p = append(p, `,"isFinalInvokeForWindow":`...)
	p = appendBool(p, final)
	p = append(p, `,"isWindowTerminatedEarly":`...)
	return appendBool(p, early)
}

func appendBool(p []byte, b bool) []byte {
	if b {
		return append(p, "true"...)
	}
	return append(p, "false"...)
}

// AppendJSONString appends s as a JSON string, escaping only '"' and '\'
// (ARNs and shard IDs hold no control characters).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// responseState returns the window state a tumbling-window response
// carries; ok is false when it has none (a failed invocation). Without a
// tumbling window it returns nil, true.
func (e *Engine) responseState(payload []byte) (json.RawMessage, bool) {
	if e.cfg.TumblingWindowInSeconds <= 0 {
		return nil, true
	}
	var resp struct {
		State json.RawMessage `json:"state"`
	}
	if json.Unmarshal(payload, &resp) != nil {
		return nil, false
	}
	st := bytes.TrimSpace(resp.State)
	if len(st) < 2 || st[0] != '{' {
		return nil, false
	}
	var c bytes.Buffer
	if json.Compact(&c, st) != nil {
		return nil, false
	}
	return c.Bytes(), true
}

var errFunctionCall = errors.New("Function call failed")

// errNoState: a tumbling-window response without a "state" object.
var errNoState = errors.New(`the response of a tumbling window invocation has no "state" object`)
