package mappings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/eddydb/eddy/store"
)

// Tumbling windows (TumblingWindowInSeconds > 0), Lambda's semantics for
// DynamoDB streams:
//
//   - A record belongs to the window [start, start+T) that holds its
//     ApproximateCreationDateTime, windows aligned on multiples of T since
//     the epoch. A batch never spans two windows.
//   - The event is the usual {"Records":[...]} plus "window" {"start",
//     "end"} (RFC 3339, whole seconds), "state" (the object the previous
//     invocation of the same window returned; {} at first), "shardId",
//     "eventSourceARN", "isFinalInvokeForWindow" and
//     "isWindowTerminatedEarly".
//   - The handler must answer {"state": {...}, ...}: a response without a
//     "state" object is a failed invocation (retried like any other). The
//     state is carried to the next invocation of the same window.
//   - When the window is over (its end has passed on the clock, a record of
//     a later window arrives, or the shard ends) the function is invoked
//     once more with "Records": [], the final state and
//     "isFinalInvokeForWindow": true; that invocation is retried until it
//     succeeds, blocking the lane. Then the state is dropped.
//   - A returned state over 1 MiB terminates the window early: the final
//     invocation is sent at once with "isWindowTerminatedEarly": true, and
//     the rest of the window starts again from {}.
//
// State is kept per lane (per shard when ParallelizationFactor is 1) and
// persisted under 0x23 in the same batch as the lane checkpoint that covers
// the records folded into it, so after a crash the state and the checkpoint
// agree: redelivered records are folded in again from the state before
// them. The final invocation's table writes commit with the state's
// deletion.
//
//	0x23 <uuid:36> <shard id> 0x00 <lane:1> → <start:8 (u64be unix s)> <state JSON>
//
// (0x23 is the space, store.SpaceWindows; windowKey leaves it to the handle.)

// maxWindowState is the state size over which a window ends early.
const maxWindowState = 1 << 20

func windowKey(uuid, shard string, lane byte) []byte {
	k := []byte(uuid)
	k = append(k, shard...)
	return append(k, 0, lane)
}

func windowRange(uuid string) (lo, hi []byte) {
	lo = []byte(uuid)
	hi = []byte(uuid)
	hi[len(hi)-1]++
	return lo, hi
}

// window is a lane's open tumbling window.
type window struct {
	start int64           // unix seconds, a multiple of the window size
	state json.RawMessage // a JSON object
}

func (w *window) encode() []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(w.start)), w.state...)
}

// loadWindows returns the open windows of a mapping's lanes on a shard.
func loadWindows(db store.KeySpace, uuid, shard string) (map[int]*window, error) {
	lo := windowKey(uuid, shard, 0)
	hi := windowKey(uuid, shard, 0xFF)
	it, err := db.NewIter(lo[:len(lo)-1], hi)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[int]*window{}
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < 8 {
			continue
		}
		lane := it.Key()[len(it.Key())-1]
		out[int(lane)] = &window{start: int64(binary.BigEndian.Uint64(v)), state: bytes.Clone(v[8:])}
	}
	return out, it.Error()
}

// windowStart is the start (unix seconds) of the window of size secs that
// holds t.
func windowStart(t time.Time, secs int) int64 {
	u := t.Unix()
	return u - u%int64(secs)
}

func (l *lane) windowSecs() int { return l.cfg().TumblingWindowInSeconds }

// appendWindow appends the tumbling-window members of the event for a batch
// of window start (after the Records array, before the closing brace).
func (l *lane) appendWindow(p []byte, start int64, final, early bool) []byte {
	w := l.w
	secs := int64(l.windowSecs())
	p = append(p, `,"window":{"start":"`...)
	p = time.Unix(start, 0).UTC().AppendFormat(p, time.RFC3339)
	p = append(p, `","end":"`...)
	p = time.Unix(start+secs, 0).UTC().AppendFormat(p, time.RFC3339)
	p = append(p, `"},"state":`...)
	if l.win != nil && l.win.start == start {
		p = append(p, l.win.state...)
	} else {
		p = append(p, '{', '}')
	}
	p = append(p, `,"shardId":`...)
	p = append(p, jsonString(w.sh.ID)...)
	// arnJSON is `,"eventSourceARN":"..."}`: keep all but the brace.
	p = append(p, w.r.arnJSON[:len(w.r.arnJSON)-1]...)
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

// responseState returns the window state a tumbling-window response
// carries; ok is false when it has none (a failed invocation). Without a
// tumbling window it returns nil, true.
func (l *lane) responseState(payload []byte) (json.RawMessage, bool) {
	if l.windowSecs() == 0 {
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

// errNoState: a tumbling-window response without a "state" object.
var errNoState = errors.New(`the response of a tumbling window invocation has no "state" object`)

// closeWindow sends the final invocation of the lane's open window (if
// any) and drops its state, retrying until it succeeds. It returns false
// only when the runner stops first.
func (l *lane) closeWindow(early bool) bool {
	if l.win == nil {
		return true
	}
	r := l.w.r
	retries := 0
	for {
		p := append([]byte{}, `{"Records":[]`...)
		p = l.appendWindow(p, l.win.start, true, early)
		p = append(p, '}')
		buf := &WriteBuffer{db: r.m.opts.DB}
		res, err := r.m.opts.Host.Invoke(withBuffer(r.ctx, buf), r.cfg.FunctionName, r.cfg.Qualifier, p)
		if err == nil {
			r.m.metrics.invocations.WithLabelValues(r.lbl...).Inc()
			if res.FunctionError == "" {
				_, err = r.m.opts.DB.Write(r.ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
					return r.m.ks.windows.Delete(b, windowKey(r.cfg.UUID, l.w.sh.ID, byte(l.idx)))
				}}, buf.mutations()...)
				if err == nil {
					l.win = nil
					return true
				}
			} else {
				err = errors.New("Function call failed")
				r.m.metrics.errors.WithLabelValues(r.lbl...).Inc()
			}
		}
		if r.ctx.Err() != nil {
			return false
		}
		r.setResult("PROBLEM: final invocation of a tumbling window: " + err.Error())
		retries++
		if !sleepCtx(r.ctx, l.backoff(retries)) {
			return false
		}
	}
}

// waitIdle waits, with nothing queued, for the lane's wake-up; when the
// lane's window ends first it sends the window's final invocation. It
// returns false when the runner stops.
func (l *lane) waitIdle() bool {
	ctx := l.w.r.ctx
	var end <-chan time.Time
	if l.win != nil {
		d := time.Unix(l.win.start+int64(l.windowSecs()), 0).Sub(l.w.r.m.opts.Now())
		if d <= 0 {
			return l.closeWindow(false)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		end = t.C
	}
	select {
	case <-l.wake:
		return true
	case <-end:
		return l.closeWindow(false)
	case <-ctx.Done():
		return false
	}
}
