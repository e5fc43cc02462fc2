package guest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEvent: the guest's scanner reads untrusted-looking bytes (a stream
// event, its DynamoDB JSON). For any input it never panics; the host's
// index (AppendEventIndex) exists exactly when ParseEvent accepts the
// input and reads the same; and on valid JSON, where encoding/json
// decodes the event into StreamEvent, the scanner's typed records equal
// encoding/json's (and it fails where encoding/json fails), except where
// the two are documented to differ: object keys that match a member only
// without regard to case, and a member given twice. Run it with
//
//	go test ./triggers/guest -run '^$' -fuzz FuzzEvent -fuzztime 60s
func FuzzEvent(f *testing.F) {
	for _, s := range []string{testEvent, string(benchEvent(2)), `{"Records":[]}`, `{"Records":null}`, `{"Records":[null]}`,
		`{"Records":[{"eventID":null,"dynamodb":null}]}`, `{"Records":[{"dynamodb":{"SizeBytes":1.5}}]}`,
		`{"Records":[{"dynamodb":{"ApproximateCreationDateTime":"1"}}]}`, `{"Records":[{"event\u0049D":"x","eventName":"\xff"}]}`,
		`{"Records":[{"dynamodb":{"Keys":{"a\u00e9":{"S":"\ud800"},"b":{"S":"x","N":"1"},"c":{"S":null,"N":"2"}}}}]}`,
		`{"Records":[{"dynamodb":{"NewImage":{"l":{"L":[{"M":{"x":{"NULL":true}}},{"BS":["AQ=="]}]},"s":{"SS":[]}}}}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var scanned, indexed Event
		perr := ParseEvent(in, &scanned)
		var legacy []StreamRecord
		lerr := perr
		if perr == nil {
			for i := range scanned.Records {
				r := &scanned.Records[i]
				l, err := r.Legacy()
				if err != nil && lerr == nil {
					lerr = err
				}
				legacy = append(legacy, l)
				for _, im := range []Image{r.Keys(), r.NewImage(), r.OldImage()} {
					_, _ = im.AppendPlain(nil)
					_ = im.Each(func(string, Value) bool { return true })
				}
			}
		}
		idx, ierr := AppendEventIndex(nil, in)
		if (perr == nil) != (ierr == nil) {
			t.Fatalf("ParseEvent: %v, AppendEventIndex: %v", perr, ierr)
		}
		if ierr == nil {
			if !indexed.loadIndex(in, idx) {
				t.Fatal("the host's index does not load")
			}
			sameRecords(t, &scanned, &indexed)
		}
		if !json.Valid(in) || !comparable(in) || !bytes.HasPrefix(bytes.TrimLeft(in, " \t\r\n"), []byte("{")) {
			return // an event is an object (encoding/json takes null for one)
		}
		var want StreamEvent
		jerr := json.Unmarshal(in, &want)
		if (jerr == nil) != (lerr == nil) {
			t.Fatalf("encoding/json: %v, scanner: %v", jerr, lerr)
		}
		if jerr == nil && !reflect.DeepEqual(want.Records, legacy) && !(len(want.Records) == 0 && len(legacy) == 0) {
			t.Fatalf("encoding/json:\n%+v\nscanner:\n%+v", want.Records, legacy)
		}
	})
}

// eventMembers are the names StreamEvent's decoding matches (outside
// attribute values, which both sides decode with decodeAV).
var eventMembers = []string{"Records", "eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "eventSourceARN",
	"dynamodb", "ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}

// comparable reports whether no object of in has a key that matches a
// member only case-insensitively (encoding/json takes it, the scanner
// does not) or a key twice (encoding/json keeps the last, the scanner
// may keep another).
func comparable(in []byte) bool {
	d := json.NewDecoder(bytes.NewReader(in))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return true
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if s, ok := tok.(string); ok && top.obj && top.key {
				if top.keys[s] || !utf8.ValidString(s) {
					return false
				}
				top.keys[s] = true
				for _, m := range eventMembers {
					if s != m && strings.EqualFold(s, m) {
						return false
					}
				}
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true // a value ended: a key comes next
		}
	}
}
