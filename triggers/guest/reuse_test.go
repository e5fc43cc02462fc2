package guest

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeStreamReused: HandleStreamReused's decoding into the previous
// invocation's records and maps gives what a fresh decoding gives, batch
// after batch of different shapes: attributes a reused map held and the
// new image lacks are gone, absent images are nil, more and fewer records
// than before, escaped names, nested values; with and without the host's
// index.
func TestDecodeStreamReused(t *testing.T) {
	rec := func(seq, keys, newImg, oldImg string) string {
		s := `{"eventID":"` + seq + `","eventName":"MODIFY","dynamodb":{"SequenceNumber":"` + seq + `","SizeBytes":10,"Keys":` + keys
		if newImg != "" {
			s += `,"NewImage":` + newImg
		}
		if oldImg != "" {
			s += `,"OldImage":` + oldImg
		}
		return s + `}}`
	}
	batches := []string{
		`{"Records":[` + rec("1", `{"pk":{"S":"a"}}`, `{"pk":{"S":"a"},"v":{"N":"1"},"x":{"S":"gone later"}}`, `{"pk":{"S":"a"}}`) + `,` +
			rec("2", `{"pk":{"S":"b"}}`, `{"pk":{"S":"b"},"m":{"M":{"k":{"BOOL":true}}}}`, "") + `]}`,
		`{"Records":[` + rec("3", `{"pk":{"S":"c"}}`, `{"pk":{"S":"c"},"v":{"N":"2"}}`, "") + `,` +
			rec("4", `{"pk":{"S":"d"}}`, `{"pk":{"S":"d"},"y":{"SS":["p","q"]},"e\u0073c":{"S":"\u00e9"}}`, `{"pk":{"S":"d"},"v":{"N":"9"}}`) + `,` +
			rec("5", `{"pk":{"N":"5"}}`, `{"pk":{"N":"5"}}`, `{"pk":{"N":"5"}}`) + `]}`,
		`{"Records":[` + rec("6", `{"pk":{"S":"e"}}`, `{"pk":{"S":"e"},"v":{"N":"3"},"x":{"NULL":true}}`, `{"pk":{"S":"e"}}`) + `]}`,
		`{"Records":[]}`,
		`{"Records":[` + rec("7", `{"pk":{"S":"f"}}`, "", `{"pk":{"S":"f"},"v":{"N":"1"}}`) + `]}`,
	}
	for _, indexed := range []bool{false, true} {
		var reused StreamEvent
		var lazy Event
		for i, b := range batches {
			in := []byte(b)
			if indexed {
				idx, err := AppendEventIndex(nil, in)
				if err != nil || !LoadEventIndex(in, idx, &lazy) {
					t.Fatalf("batch %d: index: %v", i, err)
				}
			} else if err := ParseEvent(in, &lazy); err != nil {
				t.Fatal(err)
			}
			if n := len(lazy.Records); cap(reused.Records) < n {
				recs := make([]StreamRecord, n)
				copy(recs, reused.Records[:cap(reused.Records)])
				reused.Records = recs
			} else {
				reused.Records = reused.Records[:n]
			}
			if err := decodeStream(&lazy, &reused, true); err != nil {
				t.Fatal(err)
			}
			fresh := StreamEvent{Records: make([]StreamRecord, len(lazy.Records))}
			if err := decodeStream(&lazy, &fresh, false); err != nil {
				t.Fatal(err)
			}
			var want StreamEvent // and what encoding/json makes of the batch
			if err := json.Unmarshal(in, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(reused, fresh) || !reflect.DeepEqual(fresh.Records, want.Records) {
				got, _ := json.Marshal(reused)
				exp, _ := json.Marshal(want)
				t.Fatalf("indexed %v, batch %d:\n got %s\nwant %s", indexed, i, got, exp)
			}
		}
	}
}
