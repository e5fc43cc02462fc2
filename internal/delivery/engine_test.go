package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/datadriven"
	"github.com/eddydb/eddy/streams"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs in testdata/")

// TestEngine runs testdata/*.txt. Each case builds one Engine with a fake
// invoker, a fake committer and a fake clock, delivers records and prints
// every event:
//
//	deliver [args...]
//	<invoker script: one response per line, in order; "ok" once it runs out>
//	----
//	<trace>
//
// Arguments:
//
//	records=N          records with Seq 1..N, one second apart (default 3)
//	batch=N            split the records into batches of at most N (one
//	                   tumbling window per batch when window= is set)
//	upto=S             the last batch's checkpoint (default: its last Seq)
//	retries=N          MaximumRetryAttempts (default -1)
//	age=S old=N        MaximumRecordAgeInSeconds; the first N records are
//	                   2*S seconds old
//	age-during=K       the clock jumps past the age limit during sleep K
//	bisect partial     BisectBatchOnFunctionError, ReportBatchItemFailures
//	window=S spacing=D TumblingWindowInSeconds; records D seconds apart
//	state=JSON         an open window restored at start (window of record 1)
//	close              CloseWindow after the last batch
//	commitfail=1,3     the 1st and 3rd Commit calls fail
//	cancel-sleep=K     ctx is cancelled during sleep K
//	dest=ARN           the OnFailure destination
//
// Script lines:
//
//	ok [writes]            success (writes: the handler buffered writes)
//	error [writes]         function error (errorType Boom, errorMessage "bad <n>")
//	partial [writes] S...  batchItemFailures naming the Seqs S ("x": an
//	                       unknown id; none: an empty list)
//	state JSON [writes] [S...] a tumbling-window response carrying state
//	                       (and batchItemFailures naming the Seqs S)
//	bigstate               a state over MaxWindowState
//	nostate                a tumbling-window response without state
//	invoke-error           the invoker fails
//	not-found              the invoker reports ErrFunctionNotFound
//	slow                   ctx is cancelled while the function runs
func TestEngine(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	n := 0
	for _, path := range files {
		f, err := datadriven.Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Cases {
			c := &f.Cases[i]
			n++
			got := runCase(t, c)
			if *rewrite {
				c.Expected = got
				continue
			}
			if got != c.Expected {
				t.Errorf("%s:%d: %s %s\n--- got\n%s\n--- want\n%s", path, c.Line, c.Cmd, strings.Join(c.Args, " "), got, c.Expected)
			}
		}
		if *rewrite {
			if err := f.Write(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d cases", n)
}

var base = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

type harness struct {
	out      []string
	script   []string
	invokes  int
	commits  int
	fail     map[int]bool
	sleeps   int
	now      time.Time
	cancel   context.CancelFunc
	cancelAt int
	ageAt    int
	ageJump  time.Duration
	lastStat string
}

func (h *harness) printf(format string, a ...any) { h.out = append(h.out, fmt.Sprintf(format, a...)) }

type fakeWrites bool

func (w fakeWrites) Empty() bool { return !bool(w) }

// Invoke answers from the script and prints the call.
func (h *harness) Invoke(ctx context.Context, payload []byte) (Result, error) {
	h.invokes++
	var ev struct {
		Records []struct {
			Seq string `json:"seq"`
		}
		Window *struct{ Start, End string }
		State  json.RawMessage `json:"state"`
		Final  *bool           `json:"isFinalInvokeForWindow"`
		Early  *bool           `json:"isWindowTerminatedEarly"`
		Shard  string          `json:"shardId"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		h.printf("bad payload %s: %v", payload, err)
	}
	var seqs []string
	for _, r := range ev.Records {
		seqs = append(seqs, short(r.Seq))
	}
	line := "ok"
	if len(h.script) > 0 {
		line, h.script = h.script[0], h.script[1:]
	}
	call := fmt.Sprintf("invoke [%s]", strings.Join(seqs, " "))
	if ev.Window != nil {
		st := string(ev.State)
		if len(st) > 40 {
			st = fmt.Sprintf("<%d bytes>", len(st))
		}
		call += fmt.Sprintf(" window=%s..%s state=%s final=%v early=%v shard=%s", ev.Window.Start[11:19], ev.Window.End[11:19], st, *ev.Final, *ev.Early, ev.Shard)
	}
	h.printf("%s: %s", call, line)
	f := strings.Fields(line)
	writes := false
	var args []string
	for _, a := range f[1:] {
		if a == "writes" {
			writes = true
		} else {
			args = append(args, a)
		}
	}
	res := Result{RequestID: fmt.Sprintf("req-%d", h.invokes), ExecutedVersion: "$LATEST", Logs: []byte("log " + strconv.Itoa(h.invokes)), Writes: fakeWrites(writes)}
	switch f[0] {
	case "ok":
		res.Payload = []byte(`null`)
	case "error":
		res.FunctionError = "Unhandled"
		res.Payload = fmt.Appendf(nil, `{"errorType":"Boom","errorMessage":"bad %d"}`, h.invokes)
	case "partial":
		var ids []string
		for _, a := range args {
			if n, err := strconv.Atoi(a); err == nil {
				a = streams.Seq(n).String()
			}
			if a != "none" {
				ids = append(ids, fmt.Sprintf(`{"itemIdentifier":%q}`, a))
			}
		}
		res.Payload = []byte(`{"batchItemFailures":[` + strings.Join(ids, ",") + `]}`)
	case "state":
		var ids []string
		for _, a := range args[1:] {
			n, _ := strconv.Atoi(a)
			ids = append(ids, fmt.Sprintf(`{"itemIdentifier":%q}`, streams.Seq(n).String()))
		}
		res.Payload = []byte(`{"state":` + args[0] + `,"batchItemFailures":[` + strings.Join(ids, ",") + `]}`)
	case "bigstate":
		res.Payload = []byte(`{"state":{"s":"` + strings.Repeat("x", MaxWindowState) + `"}}`)
	case "nostate":
		res.Payload = []byte(`{}`)
	case "invoke-error":
		return Result{}, errors.New("instantiate: out of memory")
	case "not-found":
		return Result{}, fmt.Errorf("invoke f: %w", ErrFunctionNotFound)
	case "slow":
		h.printf("(ctx cancelled during the invocation)")
		h.cancel()
		<-ctx.Done()
		return Result{}, ctx.Err()
	default:
		panic("unknown script line " + line)
	}
	return res, nil
}

// Commit prints the outcome; the numbered commits in fail fail.
func (h *harness) Commit(ctx context.Context, o Outcome) error {
	h.commits++
	var b strings.Builder
	fmt.Fprintf(&b, "commit ckpt=%d", o.Checkpoint)
	if !empty(o.Writes) {
		b.WriteString(" writes")
	}
	if o.Delivered > 0 {
		fmt.Fprintf(&b, " delivered=%d", o.Delivered)
	}
	if o.Window != nil {
		st := string(o.Window.State)
		if len(st) > 40 {
			st = fmt.Sprintf("<%d bytes>", len(st))
		}
		fmt.Fprintf(&b, " window=%s state=%s", time.Unix(o.Window.Start, 0).UTC().Format("15:04:05"), st)
	}
	if o.WindowClosed {
		b.WriteString(" window-closed")
	}
	if e := o.Failure; e != nil {
		r := &e.Record
		var seqs []string
		for _, s := range e.Records {
			seqs = append(seqs, short(s.Seq.String()))
		}
		bi := &r.DDBStreamBatchInfo
		fmt.Fprintf(&b, " dead-letter{%s invokes=%d records=[%s] batch=%s..%s size=%d first=%s last=%s requestId=%s fnError=%q version=%q lastError=%q logs=%q dest=%q at=%s}",
			r.RequestContext.Condition, r.RequestContext.ApproximateInvokeCount, strings.Join(seqs, " "),
			short(bi.StartSequenceNumber), short(bi.EndSequenceNumber), bi.BatchSize, bi.ApproximateArrivalOfFirstRecord[11:19], bi.ApproximateArrivalOfLastRecord[11:19],
			r.RequestContext.RequestID, r.ResponseContext.FunctionError, r.ResponseContext.ExecutedVersion, e.LastError, e.LogTail, e.Destination, r.Timestamp[11:23])
		if e.Mapping != "m-1" || r.RequestContext.FunctionArn != "arn:fn" || bi.StreamArn != "arn:stream" || bi.ShardID != "shard-1" || r.Version != "1.0" {
			fmt.Fprintf(&b, " BAD-NAMES")
		}
	}
	if h.fail[h.commits] {
		b.WriteString(": fails")
		h.printf("%s", b.String())
		return errors.New("disk full")
	}
	h.printf("%s", b.String())
	return nil
}

func (h *harness) sleep(ctx context.Context, d time.Duration) bool {
	h.sleeps++
	h.printf("sleep %v", d)
	if h.sleeps > 50 {
		h.printf("(runaway: ctx cancelled)")
		h.cancel()
	}
	h.now = h.now.Add(d)
	if h.sleeps == h.ageAt {
		h.now = h.now.Add(h.ageJump)
	}
	if h.sleeps == h.cancelAt {
		h.printf("(ctx cancelled)")
		h.cancel()
	}
	return ctx.Err() == nil
}

// short drops a sequence number's leading zeros.
func short(seq string) string {
	if s := strings.TrimLeft(seq, "0"); s != "" {
		return s
	}
	return "0"
}

func intArg(c *datadriven.Case, k string, def int) int {
	v := c.ArgValue(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", k, v, err))
	}
	return n
}

func runCase(t *testing.T, c *datadriven.Case) string {
	if c.Cmd != "deliver" {
		t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &harness{cancel: cancel, fail: map[int]bool{}, cancelAt: intArg(c, "cancel-sleep", 0), ageAt: intArg(c, "age-during", 0)}
	for _, l := range strings.Split(c.Input, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			h.script = append(h.script, l)
		}
	}
	if v := c.ArgValue("commitfail"); v != "" {
		for _, s := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(s)
			h.fail[n] = true
		}
	}
	cfg := Config{
		MaximumRetryAttempts:       intArg(c, "retries", -1),
		MaximumRecordAgeInSeconds:  intArg(c, "age", -1),
		BisectBatchOnFunctionError: c.Arg("bisect"),
		ReportBatchItemFailures:    c.Arg("partial"),
		TumblingWindowInSeconds:    intArg(c, "window", 0),
		RetryBackoff:               100 * time.Millisecond,
		MaxRetryBackoff:            time.Second,
		Mapping:                    "m-1", FunctionArn: "arn:fn", StreamArn: "arn:stream", ShardID: "shard-1",
		Destination: c.ArgValue("dest"),
	}
	n := intArg(c, "records", 3)
	spacing := time.Duration(intArg(c, "spacing", 1)) * time.Second
	old := intArg(c, "old", 0)
	h.now = base.Add(time.Duration(n) * spacing)
	if cfg.MaximumRecordAgeInSeconds >= 0 {
		h.ageJump = 2 * time.Duration(cfg.MaximumRecordAgeInSeconds) * time.Second
	}
	recs := make([]Record, n)
	for i := range recs {
		ts := base.Add(time.Duration(i) * spacing)
		if i < old {
			ts = h.now.Add(-2*time.Duration(cfg.MaximumRecordAgeInSeconds)*time.Second - time.Duration(old-i)*time.Second)
		}
		seq := streams.Seq(i + 1)
		recs[i] = Record{Seq: seq, Time: ts, Event: fmt.Appendf(nil, `{"seq":%q}`, seq.String())}
	}
	var win *Window
	if st := c.ArgValue("state"); st != "" {
		win = &Window{Start: WindowStart(recs[0].Time, cfg.TumblingWindowInSeconds), State: json.RawMessage(st)}
	}
	nid := 0
	e := New(cfg, h, h, Options{
		Now:   func() time.Time { return h.now },
		Sleep: h.sleep,
		NewID: func() string { nid++; return fmt.Sprintf("gen-%d", nid) },
		Observer: Observer{
			Failed:   func() { h.printf("(failed)") },
			Retrying: func(n int, d time.Duration) { h.printf("(retry %d)", n) },
			Status: func(s Status) {
				line := "status " + s.Result
				if s.Err != "" {
					line += " (" + s.Err + ")"
				}
				if line != h.lastStat {
					h.lastStat = line
					h.printf("%s", line)
				}
			},
		},
	}, win)

	size := intArg(c, "batch", n)
	var err error
	for len(recs) > 0 && err == nil {
		k := 0
		for k < len(recs) && k < size {
			if cfg.TumblingWindowInSeconds > 0 && WindowStart(recs[k].Time, cfg.TumblingWindowInSeconds) != WindowStart(recs[0].Time, cfg.TumblingWindowInSeconds) {
				break
			}
			k++
		}
		upTo := recs[k-1].Seq
		if k == len(recs) {
			if v := intArg(c, "upto", 0); v > 0 {
				upTo = streams.Seq(v)
			}
		}
		err = e.Deliver(ctx, recs[:k], upTo)
		recs = recs[k:]
	}
	if n == 0 {
		err = e.Deliver(ctx, nil, streams.Seq(intArg(c, "upto", 0)))
	}
	if err == nil && c.Arg("close") {
		err = e.CloseWindow(ctx, false)
	}
	if err != nil {
		h.printf("error: %v", err)
	}
	if w := e.Window(); w != nil {
		h.printf("open window %s state=%s", time.Unix(w.Start, 0).UTC().Format("15:04:05"), w.State)
	}
	if len(h.script) > 0 {
		h.printf("unused script: %v", h.script)
	}
	return strings.Join(h.out, "\n")
}
