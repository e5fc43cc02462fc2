package mappings

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzFilter compiles arbitrary FilterCriteria patterns and matches them
// against a stream record and arbitrary event bytes. A pattern compiles or is
// rejected with errBadPattern (Lambda's InvalidParameterValueException
// message), never a panic. What compiles survives a round trip: the compiled
// pattern, re-marshalled, compiles again and matches every event the same
// way; {"$or":[P, P]} matches exactly what P matches; keep agrees with match.
// Compiling and matching one input stays well under a second.
func FuzzFilter(f *testing.F) {
	for _, p := range []string{
		`{"eventName":["INSERT"]}`, `{"eventName":["MODIFY","REMOVE"]}`,
		`{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"user#"}]}}}}`,
		`{"dynamodb":{"Keys":{"pk":{"S":[{"suffix":"#1"}]}}}}`,
		`{"dynamodb":{"NewImage":{"tag":{"S":[{"equals-ignore-case":"blue"}]}}}}`,
		`{"dynamodb":{"NewImage":{"tag":{"S":[{"anything-but":["Blue", 1, null]}]}}}}`,
		`{"dynamodb":{"NewImage":{"tag":{"S":[{"anything-but":{"prefix":"Bl"}}]}}}}`,
		`{"dynamodb":{"SizeBytes":[{"numeric":[">",40,"<=",42]}]}}`,
		`{"dynamodb":{"SizeBytes":[{"numeric":["=",4.2e1]}]}}`,
		`{"dynamodb":{"NewImage":{"ok":{"BOOL":[true, false, null]}}}}`,
		`{"dynamodb":{"NewImage":{"missing":[{"exists":false}]}}}`,
		`{"$or":[{"eventName":["REMOVE"]},{"dynamodb":{"Keys":{"pk":{"S":["user#1"]}}}}]}`,
		`{"eventName":["INSERT"],"eventSource":["aws:sqs"]}`,
		`{"$or":[{"eventName":["INSERT"]}]}`, `{"n":[{"numeric":["~",1]}]}`, `not json`, `[]`, `{}`, `{"a":[]}`,
		`{"a":[{"numeric":[">",1e400]}]}`, `{"a":{"b":{"c":{"d":[[1]]}}}}`, `{"a":["x"]} {}`,
	} {
		f.Add(p, []byte(filterEvent))
	}
	f.Add(`{"a":[1]}`, []byte(`{"a":[1,2,{"b":1}],"c":1e999}`))
	f.Add(`{"a":[{"exists":true}]}`, []byte(`{"a":{}}`))
	f.Add(`{"a":[null]}`, []byte(`{"a":null}`))
	f.Add(`{"a":[{"prefix":""}]}`, []byte(`[]`))
	record := []byte(filterEvent)
	f.Fuzz(func(t *testing.T, pattern string, event []byte) {
		start := time.Now()
		fl, err := compileFilter(pattern)
		if err != nil {
			if !errors.Is(err, errBadPattern) {
				t.Fatalf("%q: error %v, want errBadPattern", pattern, err)
			}
			return
		}
		rt, err := json.Marshal(fl.root)
		if err != nil {
			t.Fatalf("%q: marshal compiled pattern: %v", pattern, err)
		}
		fl2, err := compileFilter(string(rt))
		if err != nil && len(rt) <= maxPatternLen {
			t.Fatalf("%q: re-marshalled pattern %s does not compile: %v", pattern, rt, err)
		}
		or, orErr := compileFilter(`{"$or":[` + string(rt) + `,` + string(rt) + `]}`)
		for _, ev := range [][]byte{record, event} {
			m, err := decodeEvent(ev)
			if err != nil {
				if keep([]*filter{fl}, ev) {
					t.Fatalf("%q: keep passed an event that is not JSON", ev)
				}
				continue
			}
			want := fl.match(m)
			if got := keep([]*filter{fl}, ev); got != want {
				t.Fatalf("%q on %q: keep %v, match %v", pattern, ev, got, want)
			}
			if fl2 != nil && fl2.match(m) != want {
				t.Fatalf("%q on %q: re-marshalled pattern %s matches %v, original %v", pattern, ev, rt, !want, want)
			}
			if orErr == nil && or.match(m) != want {
				t.Fatalf("%q on %q: $or of it twice matches %v, it alone %v", pattern, ev, !want, want)
			}
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%q: compiling and matching took %v", pattern, d)
		}
	})
}
