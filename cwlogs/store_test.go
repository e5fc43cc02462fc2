package cwlogs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/triggers"
)

var t0 = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

func line(fn, inst string, at time.Duration, msg string) triggers.LogEvent {
	return triggers.LogEvent{Function: fn, Version: "$LATEST", Instance: inst, InstanceStarted: t0,
		Time: t0.Add(at), Message: msg + "\n"}
}

// call runs one operation through the HTTP handler.
func call(t *testing.T, s *Store, op, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", TargetPrefix+op)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: %v: %s", op, err, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type %q", op, ct)
	}
	return w.Code, out
}

func messages(out map[string]any) []string {
	var m []string
	for _, e := range out["events"].([]any) {
		m = append(m, strings.TrimSuffix(e.(map[string]any)["message"].(string), "\n"))
	}
	return m
}

func TestStreamName(t *testing.T) {
	got := StreamName("$LATEST", "0123456789abcdef0123456789abcdef", time.Date(2026, 1, 2, 23, 0, 0, 0, time.FixedZone("x", -3600)))
	if got != "2026/01/03/[$LATEST]0123456789abcdef0123456789abcdef" {
		t.Fatal(got)
	}
}

// TestBounds: per group, the oldest events go first past MaxEvents or
// MaxBytes; other groups keep theirs; a stream with no events left goes.
func TestBounds(t *testing.T) {
	s := New(Options{MaxEvents: 5, MaxBytes: 1000})
	s.Log(line("f", "a", 0, "first of a"))
	for i := range 6 {
		s.Log(line("f", "b", time.Duration(i+1)*time.Millisecond, fmt.Sprint("b", i)))
	}
	s.Log(line("g", "a", 0, "other function"))
	_, out := call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f"}`)
	if got := strings.Join(messages(out), ","); got != "b1,b2,b3,b4,b5" {
		t.Fatalf("after MaxEvents: %s", got)
	}
	_, out = call(t, s, "DescribeLogStreams", `{"logGroupName":"/aws/lambda/f"}`)
	if sts := out["logStreams"].([]any); len(sts) != 1 || !strings.HasSuffix(sts[0].(map[string]any)["logStreamName"].(string), "]b") {
		t.Fatalf("streams: %v", sts)
	}
	// Bytes: each event counts its message and 26: 5*(3+26) + 901+26 =
	// 1072, so b1, b2, b3 go.
	s.Log(line("f", "b", 10*time.Millisecond, strings.Repeat("x", 900)))
	_, out = call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f"}`)
	if got := messages(out); len(got) != 3 || got[0] != "b4" {
		t.Fatalf("after MaxBytes: %q", got)
	}
	// A single event larger than MaxBytes is still kept (the newest).
	s.Log(line("f", "b", 11*time.Millisecond, strings.Repeat("y", 2000)))
	_, out = call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f"}`)
	if got := messages(out); len(got) != 1 || len(got[0]) != 2000 {
		t.Fatalf("one big event: %d events", len(got))
	}
	_, out = call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/g"}`)
	if got := messages(out); len(got) != 1 {
		t.Fatalf("group g: %q", got)
	}
}

// TestOrdering: a line stamped before the group's newest takes the newest
// timestamp, so FilterLogEvents is in time order and in arrival order.
func TestOrdering(t *testing.T) {
	s := New(Options{})
	s.Log(line("f", "a", 5*time.Millisecond, "one"))
	s.Log(line("f", "b", 2*time.Millisecond, "two"))
	s.Log(line("f", "a", 7*time.Millisecond, "three"))
	_, out := call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f"}`)
	var ts []int64
	for _, e := range out["events"].([]any) {
		ts = append(ts, int64(e.(map[string]any)["timestamp"].(float64)))
	}
	base := t0.UnixMilli()
	if fmt.Sprint(messages(out)) != "[one two three]" || fmt.Sprint(ts) != fmt.Sprint([]int64{base + 5, base + 5, base + 7}) {
		t.Fatalf("%v %v", messages(out), ts)
	}
}

// TestFilterPaging: limit and nextToken walk all matching events exactly
// once, with startTime/endTime (inclusive) and stream selection.
func TestFilterPaging(t *testing.T) {
	s := New(Options{})
	for i := range 10 {
		inst := "a"
		if i%2 == 1 {
			inst = "b"
		}
		s.Log(line("f", inst, time.Duration(i)*time.Second, fmt.Sprint("m", i)))
	}
	sa := StreamName("$LATEST", "a", t0)
	var got []string
	body := `{"logGroupName":"/aws/lambda/f","limit":2}`
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("no end")
		}
		_, out := call(t, s, "FilterLogEvents", body)
		got = append(got, messages(out)...)
		tok, ok := out["nextToken"].(string)
		if !ok {
			break
		}
		if len(messages(out)) != 2 {
			t.Fatalf("short page with a token: %v", out)
		}
		body = `{"logGroupName":"/aws/lambda/f","limit":2,"nextToken":"` + tok + `"}`
		if pages == 1 {
			// Dropping events meanwhile does not break the token.
			s.mu.Lock()
			s.groups["/aws/lambda/f"].drop()
			s.mu.Unlock()
		}
	}
	if strings.Join(got, ",") != "m0,m1,m2,m3,m4,m5,m6,m7,m8,m9" {
		t.Fatalf("pages: %v", got)
	}
	start, end := t0.Add(2*time.Second).UnixMilli(), t0.Add(6*time.Second).UnixMilli()
	_, out := call(t, s, "FilterLogEvents", fmt.Sprintf(`{"logGroupName":"/aws/lambda/f","startTime":%d,"endTime":%d,"logStreamNames":[%q]}`, start, end, sa))
	if got := strings.Join(messages(out), ","); got != "m2,m4,m6" {
		t.Fatalf("time range and stream: %s", got)
	}
	e := out["events"].([]any)[0].(map[string]any)
	if e["logStreamName"] != sa || len(e["eventId"].(string)) != 56 || e["ingestionTime"] == nil {
		t.Fatalf("event fields: %v", e)
	}
	_, out = call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamNamePrefix":"2026/12/05/[$LATEST]b"}`)
	if got := strings.Join(messages(out), ","); got != "m1,m3,m5,m7,m9" { // m0 was dropped
		t.Fatalf("prefix: %s", got)
	}
	code, out := call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamNamePrefix":"x","logStreamNames":["y"]}`)
	if code != 400 || out["__type"] != "InvalidParameterException" {
		t.Fatalf("both stream selectors: %d %v", code, out)
	}
}

func TestFilterPattern(t *testing.T) {
	msgs := []string{
		`START RequestId: 1 Version: $LATEST`,
		`{"errorMessage":"poison record bad","errorType":"errorString"}`,
		`ERROR: disk full`,
		`WARN retrying`,
		`error in lower case`,
	}
	for _, c := range []struct{ pat, want string }{
		{``, "0,1,2,3,4"},
		{`ERROR`, "2"},
		{`poison record`, "1"},
		{`"poison record"`, "1"},
		{`"record poison"`, ""},
		{`record poison`, "1"},
		{`?ERROR ?WARN`, "2,3"},
		{`-START`, "1,2,3,4"},
		{`"errorMessage" -bad`, ""},
		{`"\"errorType\""`, "1"},
		{`RequestId "Version: $LATEST"`, "0"},
	} {
		p, err := parsePattern(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		var got []string
		for i, m := range msgs {
			if p.match(m) {
				got = append(got, fmt.Sprint(i))
			}
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%q matched %v, want %s", c.pat, got, c.want)
		}
	}
	for _, bad := range []string{`{ $.level = "ERROR" }`, `[ip, user]`, `%ERR%`, `"open`, `?`} {
		if _, err := parsePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s := New(Options{})
	s.Log(line("f", "a", 0, "x"))
	if code, out := call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f","filterPattern":"{ $.a = 1 }"}`); code != 400 || out["__type"] != "InvalidParameterException" {
		t.Fatalf("JSON pattern: %d %v", code, out)
	}
}

// TestGetLogEvents: the newest page by default, the oldest with
// startFromHead, f/ and b/ tokens move forward and back, and at the end the
// forward token comes back unchanged.
func TestGetLogEvents(t *testing.T) {
	s := New(Options{})
	for i := range 5 {
		s.Log(line("f", "a", time.Duration(i)*time.Millisecond, fmt.Sprint("a", i)))
		s.Log(line("f", "b", time.Duration(i)*time.Millisecond, fmt.Sprint("b", i)))
	}
	g := `"logGroupName":"/aws/lambda/f","logStreamName":"` + StreamName("$LATEST", "a", t0) + `"`
	_, out := call(t, s, "GetLogEvents", `{`+g+`,"limit":2}`)
	if fmt.Sprint(messages(out)) != "[a3 a4]" {
		t.Fatalf("newest: %v", messages(out))
	}
	_, back := call(t, s, "GetLogEvents", `{`+g+`,"limit":2,"nextToken":"`+out["nextBackwardToken"].(string)+`"}`)
	if fmt.Sprint(messages(back)) != "[a1 a2]" {
		t.Fatalf("backward: %v", messages(back))
	}
	_, out = call(t, s, "GetLogEvents", `{`+g+`,"limit":2,"startFromHead":true}`)
	if fmt.Sprint(messages(out)) != "[a0 a1]" {
		t.Fatalf("head: %v", messages(out))
	}
	tok := out["nextForwardToken"].(string)
	if !strings.HasPrefix(tok, "f/") || len(tok) != 58 {
		t.Fatalf("token %q", tok)
	}
	var got []string
	for range 5 {
		_, out = call(t, s, "GetLogEvents", `{`+g+`,"limit":2,"nextToken":"`+tok+`"}`)
		got = append(got, messages(out)...)
		next := out["nextForwardToken"].(string)
		if next == tok {
			break
		}
		tok = next
	}
	if fmt.Sprint(got) != "[a2 a3 a4]" {
		t.Fatalf("forward: %v", got)
	}
	s.Log(line("f", "a", 9*time.Millisecond, "a5"))
	if _, out = call(t, s, "GetLogEvents", `{`+g+`,"nextToken":"`+tok+`"}`); fmt.Sprint(messages(out)) != "[a5]" {
		t.Fatalf("after the end, a new event: %v", messages(out))
	}
}

// TestErrors: AWS's __type and message, HTTP 400.
func TestErrors(t *testing.T) {
	s := New(Options{})
	s.Log(line("f", "a", 0, "x"))
	for _, c := range []struct{ op, body, typ, msg string }{
		{"FilterLogEvents", `{"logGroupName":"/aws/lambda/nope"}`, "ResourceNotFoundException", "The specified log group does not exist."},
		{"DescribeLogStreams", `{"logGroupName":"/aws/lambda/nope"}`, "ResourceNotFoundException", "The specified log group does not exist."},
		{"GetLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamName":"nope"}`, "ResourceNotFoundException", "The specified log stream does not exist."},
		{"DescribeLogStreams", `{"logGroupName":"/aws/lambda/f","orderBy":"LastEventTime","logStreamNamePrefix":"2"}`, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."},
		{"FilterLogEvents", `{"logGroupName":"/aws/lambda/f","nextToken":"junk"}`, "InvalidParameterException", "The specified nextToken is invalid."},
	} {
		code, out := call(t, s, c.op, c.body)
		if code != http.StatusBadRequest || out["__type"] != c.typ || out["message"] != c.msg {
			t.Errorf("%s %s: %d %v", c.op, c.body, code, out)
		}
	}
}

// TestDescribe: groups by prefix with paging; streams by name or by last
// event time, descending.
func TestDescribe(t *testing.T) {
	s := New(Options{})
	for i, fn := range []string{"b", "a", "c"} {
		s.Log(line(fn, "i", time.Duration(i), "x"))
	}
	s.Log(line("a", "z", time.Second, "x"))
	s.Log(line("a", "y", 2*time.Second, "x"))
	_, out := call(t, s, "DescribeLogGroups", `{"limit":2}`)
	gs := out["logGroups"].([]any)
	if len(gs) != 2 || gs[0].(map[string]any)["logGroupName"] != "/aws/lambda/a" || out["nextToken"] == nil ||
		gs[0].(map[string]any)["arn"] != "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/a:*" {
		t.Fatalf("groups: %v", out)
	}
	_, out = call(t, s, "DescribeLogGroups", `{"limit":2,"nextToken":"`+out["nextToken"].(string)+`"}`)
	if gs := out["logGroups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["logGroupName"] != "/aws/lambda/c" || out["nextToken"] != nil {
		t.Fatalf("groups page 2: %v", out)
	}
	_, out = call(t, s, "DescribeLogStreams", `{"logGroupName":"/aws/lambda/a","orderBy":"LastEventTime","descending":true}`)
	var names []string
	for _, st := range out["logStreams"].([]any) {
		n := st.(map[string]any)["logStreamName"].(string)
		names = append(names, n[strings.Index(n, "]")+1:])
	}
	if fmt.Sprint(names) != "[y z i]" {
		t.Fatalf("streams by last event: %v", names)
	}
}

// TestConcurrent: lines from parallel invocations and readers at once
// (run with -race); every group stays in time order within its bounds.
func TestConcurrent(t *testing.T) {
	s := New(Options{MaxEvents: 300})
	done := make(chan bool)
	for w := range 4 {
		go func() {
			for i := range 500 {
				s.Log(triggers.LogEvent{Function: fmt.Sprint("f", w%2), Version: "$LATEST", Instance: fmt.Sprint(w),
					InstanceStarted: t0, Time: time.Now(), Message: fmt.Sprintf("w%d line %d\n", w, i)})
			}
			done <- true
		}()
	}
	for range 20 {
		s.mu.Lock()
		_ = s.groupNames("us-east-1", "")
		s.mu.Unlock()
		call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/f0","filterPattern":"line","limit":50}`)
	}
	for range 4 {
		<-done
	}
	for _, fn := range []string{"f0", "f1"} {
		_, out := call(t, s, "FilterLogEvents", `{"logGroupName":"/aws/lambda/`+fn+`"}`)
		evs := out["events"].([]any)
		if len(evs) != 300 {
			t.Fatalf("%s: %d events", fn, len(evs))
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].(map[string]any)["timestamp"].(float64) < evs[i-1].(map[string]any)["timestamp"].(float64) {
				t.Fatalf("%s: out of order at %d", fn, i)
			}
		}
	}
}

// TestTotalBound: past MaxTotalBytes over all functions, the log group
// written to least recently goes whole; the one just written stays.
func TestTotalBound(t *testing.T) {
	s := New(Options{MaxTotalBytes: 300})
	for _, fn := range []string{"a", "b", "c"} {
		s.Log(line(fn, "i", 0, strings.Repeat(fn, 73))) // 73 + "\n" + 26 = 100 bytes each
	}
	s.Log(line("a", "i", time.Millisecond, "again")) // a is now the freshest
	s.Log(line("d", "i", 0, strings.Repeat("d", 73)))
	_, out := call(t, s, "DescribeLogGroups", `{}`)
	var names []string
	for _, g := range out["logGroups"].([]any) {
		names = append(names, g.(map[string]any)["logGroupName"].(string))
	}
	if got := strings.Join(names, ","); got != "/aws/lambda/a,/aws/lambda/d" {
		t.Fatalf("groups after the total bound: %s", got)
	}
}
