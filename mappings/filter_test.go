package mappings

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/delivery"
)

// A Lambda record of a DynamoDB stream, as filters see it.
const filterEvent = `{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb",
 "dynamodb":{"Keys":{"pk":{"S":"user#1"}},"NewImage":{"pk":{"S":"user#1"},"n":{"N":"42"},"ok":{"BOOL":true},"tag":{"S":"Blue"}},"SizeBytes":42}}`

func TestFilterTable(t *testing.T) {
	for _, c := range []struct {
		pattern string
		match   bool
		bad     bool
	}{
		{`{"eventName":["INSERT"]}`, true, false},
		{`{"eventName":["MODIFY","REMOVE"]}`, false, false},
		{`{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"user#"}]}}}}`, true, false},
		{`{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"order#"}]}}}}`, false, false},
		{`{"dynamodb":{"Keys":{"pk":{"S":[{"suffix":"#1"}]}}}}`, true, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"equals-ignore-case":"blue"}]}}}}`, true, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"anything-but":["Blue"]}]}}}}`, false, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"anything-but":"Red"}]}}}}`, true, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"anything-but":{"prefix":"Bl"}}]}}}}`, false, false},
		{`{"dynamodb":{"SizeBytes":[{"numeric":[">",40,"<=",42]}]}}`, true, false},
		{`{"dynamodb":{"SizeBytes":[{"numeric":["<",42]}]}}`, false, false},
		{`{"dynamodb":{"SizeBytes":[{"numeric":["=",42]}]}}`, true, false},
		{`{"dynamodb":{"NewImage":{"ok":{"BOOL":[true]}}}}`, true, false},
		{`{"dynamodb":{"NewImage":{"missing":[{"exists":false}]}}}`, true, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"exists":false}]}}}}`, false, false},
		{`{"dynamodb":{"NewImage":{"tag":{"S":[{"exists":true}]}}}}`, true, false},
		{`{"$or":[{"eventName":["REMOVE"]},{"dynamodb":{"Keys":{"pk":{"S":["user#1"]}}}}]}`, true, false},
		{`{"$or":[{"eventName":["REMOVE"]},{"eventName":["MODIFY"]}]}`, false, false},
		{`{"eventName":["INSERT"],"eventSource":["aws:sqs"]}`, false, false},
		// Rejected at CreateEventSourceMapping/UpdateEventSourceMapping.
		{`not json`, false, true},
		{`[]`, false, true},
		{`{"eventName":"INSERT"}`, false, true},
		{`{"$or":[{"eventName":["INSERT"]}]}`, false, true},
		{`{"n":[{"numeric":["~",1]}]}`, false, true},
		{`{"a":[{"unknown-op":1}]}`, false, true},
	} {
		fs, err := compileFilters(&FilterCriteria{Filters: []Filter{{Pattern: c.pattern}}})
		if c.bad {
			if err == nil {
				t.Errorf("%s: compiled, want an error", c.pattern)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		if got := keep(fs, []byte(filterEvent)); got != c.match {
			t.Errorf("%s: match %v, want %v", c.pattern, got, c.match)
		}
	}
	// No filters: everything passes; several: any one suffices.
	if fs, _ := compileFilters(nil); !keep(fs, []byte(filterEvent)) {
		t.Error("no FilterCriteria dropped a record")
	}
	fs, _ := compileFilters(&FilterCriteria{Filters: []Filter{{Pattern: `{"eventName":["REMOVE"]}`}, {Pattern: `{"eventName":["INSERT"]}`}}})
	if !keep(fs, []byte(filterEvent)) || keep(fs, []byte(`{"eventName":"MODIFY"}`)) {
		t.Error("two filters: want any to match")
	}
	if keep(fs, []byte(`not json`)) {
		t.Error("a record that is not JSON passed a filter")
	}
}

// TestStatusLoggedOnce: a mapping's change between OK and failing is
// logged once each way, not per retry, and the last error text is kept
// after recovery.
func TestStatusLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	m := &Manager{log: slog.New(slog.NewTextHandler(&buf, nil))}
	r := &runner{m: m, cfg: Configuration{UUID: "u", FunctionName: "f"}}
	fail := delivery.Status{Result: "PROBLEM: Function call failed", Err: "Boom: bad"}
	r.setStatus(delivery.Status{Result: "OK"})
	r.setStatus(fail)
	r.setStatus(fail)
	r.setStatus(delivery.Status{Result: "PROBLEM: Function call failed", Err: "Boom: worse"})
	r.setStatus(delivery.Status{Result: "OK"})
	r.setStatus(delivery.Status{Result: "OK"})
	out := buf.String()
	if n := strings.Count(out, "event source mapping failing"); n != 1 || !strings.Contains(out, "Boom: bad") {
		t.Errorf("failing logged %d times:\n%s", n, out)
	}
	if n := strings.Count(out, "event source mapping recovered"); n != 1 {
		t.Errorf("recovery logged %d times:\n%s", n, out)
	}
	if res, le := r.lastResult(); res != "OK" || le != "Boom: worse" {
		t.Errorf("lastResult %q %q", res, le)
	}
}

// TestFilterPatternBounds: a pattern longer than Lambda's 4096 characters
// is refused with its ValidationException, and one nested deeper than
// maxPatternDepth is refused while it is read, before it is decoded (issue
// 13, finding 8: 30 KB and 5,000 levels were accepted).
func TestFilterPatternBounds(t *testing.T) {
	nested := func(n int) string {
		return strings.Repeat(`{"a":`, n) + `["x"]` + strings.Repeat("}", n)
	}
	huge := nested(5000)
	err := checkSpec(&Spec{FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: `{"eventName":["INSERT"]}`}, {Pattern: huge}}}}, false)
	want := "1 validation error detected: Value '" + huge + "' at 'filterCriteria.filters.2.member.pattern' failed to satisfy constraint: Member must have length less than or equal to 4096"
	if !errors.Is(err, ErrValidation) || err.Error() != want {
		t.Fatalf("30 KB pattern: %.200v", err)
	}
	deep := nested(600) // 3,605 characters, 601 levels
	if len(deep) > maxPatternLen {
		t.Fatal("deep pattern too long for the test")
	}
	err = checkSpec(&Spec{FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: deep}}}}, false)
	if !errors.Is(err, ErrInvalidParameter) || err.Error() != errBadPattern.Error() {
		t.Fatalf("601 levels: %v", err)
	}
	if _, err := compileFilter(deep); err == nil {
		t.Fatal("compileFilter accepted 601 levels")
	}
	if _, err := compileFilter(huge); err == nil {
		t.Fatal("compileFilter accepted 30 KB")
	}
	// Deep enough for a DynamoDB item's 32 levels of nested maps.
	ok := `{"dynamodb":{"NewImage":` + strings.Repeat(`{"m":{"M":`, 32) + `{"s":{"S":["x"]}}` + strings.Repeat("}}", 32) + `}}`
	if _, err := compileFilter(ok); err != nil {
		t.Fatalf("32 nested maps: %v", err)
	}
}
