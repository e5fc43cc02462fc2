package guest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// benchEvent is a batch as a mapping delivers it: n orders inserted.
func benchEvent(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"eventID":"%d","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
			`"dynamodb":{"ApproximateCreationDateTime":1700000000,"Keys":{"pk":{"S":"order#%d"}},`+
			`"NewImage":{"pk":{"S":"order#%d"},"v":{"S":"x"},"customer":{"S":"c%d"},"amount":{"N":"%d.5"}},`+
			`"SequenceNumber":"%021d","SizeBytes":60,"StreamViewType":"NEW_AND_OLD_IMAGES"},`+
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/src/stream/2024-01-01T00:00:00.000"}`, i, i, i, i%100, i%9+1, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// sameRecords fails unless every read of a and b's records agrees.
func sameRecords(t testing.TB, a, b *Event) {
	t.Helper()
	if len(a.Records) != len(b.Records) {
		t.Fatalf("%d records against %d", len(a.Records), len(b.Records))
	}
	for i := range a.Records {
		x, y := &a.Records[i], &b.Records[i]
		for _, f := range []func(*Record) any{
			func(r *Record) any { return r.EventID() }, func(r *Record) any { return r.EventName() },
			func(r *Record) any { return r.EventVersion() }, func(r *Record) any { return r.EventSource() },
			func(r *Record) any { return r.AWSRegion() }, func(r *Record) any { return r.EventSourceARN() },
			func(r *Record) any { return r.SequenceNumber() }, func(r *Record) any { return r.StreamViewType() },
			func(r *Record) any { return r.ApproximateCreationDateTime() }, func(r *Record) any { return r.SizeBytes() },
			func(r *Record) any { return string(r.Keys().Raw()) }, func(r *Record) any { return string(r.NewImage().Raw()) },
			func(r *Record) any { return string(r.OldImage().Raw()) }, func(r *Record) any { return r.OldImage().Exists() },
			func(r *Record) any { l, err := r.Legacy(); return []any{l, err == nil} },
		} {
			if u, v := f(x), f(y); !reflect.DeepEqual(u, v) {
				t.Fatalf("record %d: %v against %v", i, u, v)
			}
		}
		for _, im := range []func(*Record) Image{(*Record).Keys, (*Record).NewImage, (*Record).OldImage} {
			var names, names2 []string
			_ = im(x).Each(func(n string, v Value) bool { names = append(names, n+"="+string(v.Raw())); return true })
			_ = im(y).Each(func(n string, v Value) bool { names2 = append(names2, n+"="+string(v.Raw())); return true })
			if !reflect.DeepEqual(names, names2) {
				t.Fatalf("record %d: attributes %v against %v", i, names, names2)
			}
			for _, n := range append(names, "missing=") {
				n, _, _ = strings.Cut(n, "=")
				u, v := im(x).Get(n), im(y).Get(n)
				s1, ok1 := u.Str()
				s2, ok2 := v.Str()
				n1, okn1 := u.Num()
				n2, okn2 := v.Num()
				b1, okb1 := u.Bytes()
				b2, okb2 := v.Bytes()
				d1, e1 := u.Decode()
				d2, e2 := v.Decode()
				p1, pe1 := u.AppendPlain(nil)
				p2, pe2 := v.AppendPlain(nil)
				if s1 != s2 || ok1 != ok2 || n1 != n2 || okn1 != okn2 || string(b1) != string(b2) || okb1 != okb2 || u.Type() != v.Type() ||
					u.Exists() != v.Exists() || string(u.Raw()) != string(v.Raw()) || !reflect.DeepEqual(d1, d2) || (e1 == nil) != (e2 == nil) ||
					string(p1) != string(p2) || (pe1 == nil) != (pe2 == nil) {
					t.Fatalf("record %d: attribute %q: %q/%q against %q/%q", i, n, u.Raw(), s1, v.Raw(), s2)
				}
			}
			a1, aerr1 := im(x).AppendPlain(nil)
			a2, aerr2 := im(y).AppendPlain(nil)
			if string(a1) != string(a2) || (aerr1 == nil) != (aerr2 == nil) {
				t.Fatalf("record %d: plain %s %v against %s %v", i, a1, aerr1, a2, aerr2)
			}
			i1, err1 := im(x).Item()
			i2, err2 := im(y).Item()
			if !reflect.DeepEqual(i1, i2) || (err1 == nil) != (err2 == nil) {
				t.Fatalf("record %d: item %v %v against %v %v", i, i1, err1, i2, err2)
			}
		}
	}
}

// TestEventIndex: an event read through the host's index (input_index)
// reads exactly as the same event scanned by ParseEvent.
func TestEventIndex(t *testing.T) {
	for _, in := range []string{testEvent, string(benchEvent(3)), `{"Records":[]}`, `{"Records":null}`,
		`{"Records":[{"dynamodb":{"Keys":{},"NewImage":{"a\u0041":{"S":"x"},"two":{"S":"x","N":"1"},"n":{"S":null,"N":"1"},"bad":{"X":1},"e":{}}}}]}`} {
		var scanned, indexed Event
		if err := ParseEvent([]byte(in), &scanned); err != nil {
			t.Fatal(err)
		}
		idx, err := AppendEventIndex(nil, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		// Fill indexed with other records first: loadIndex must reuse
		// memory without leaking them.
		_ = ParseEvent([]byte(testEvent), &indexed)
		if !LoadEventIndex([]byte(in), idx, &indexed) || !indexed.Indexed() {
			t.Fatalf("index of %s not loaded", in)
		}
		for i := range indexed.Records {
			if !indexed.Records[i].indexed {
				t.Fatal("record not read from the index")
			}
		}
		sameRecords(t, &scanned, &indexed)
	}
	if _, err := AppendEventIndex(nil, []byte(`{"Records":[{"dynamodb":{"Keys":{"a":1,}}}]}`)); err == nil {
		t.Fatal("malformed image indexed")
	}
}

// TestEventIndexChecked: an index that does not fit its input is refused
// (the guest then scans), never a panic: every truncation and every byte
// changed.
func TestEventIndexChecked(t *testing.T) {
	in := []byte(testEvent)
	idx, err := AppendEventIndex(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if ev.loadIndex(in[:len(in)-10], idx) && ev.Records[0].NewImage().Get("m").Exists() {
		_ = ev.Records[0].NewImage().Get("m").AppendPlain // within bounds: loadIndex checked every span
	}
	for i := range idx {
		if ev.loadIndex(in, idx[:i]) {
			t.Fatalf("index truncated to %d bytes loaded", i)
		}
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), idx...)
			bad[i] ^= bit
			if ev.loadIndex(in, bad) {
				for j := range ev.Records {
					_, _ = ev.Records[j].Legacy()
					_ = ev.Records[j].NewImage().AppendPlain
				}
			}
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	in := benchEvent(100)
	b.SetBytes(int64(len(in)))
	var ev Event
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			if err := ParseEvent(in, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("index/host", func(b *testing.B) {
		var idx []byte
		for range b.N {
			idx, _ = AppendEventIndex(idx[:0], in)
		}
	})
	idx, _ := AppendEventIndex(nil, in)
	b.Run("index/guest", func(b *testing.B) {
		for range b.N {
			if !ev.loadIndex(in, idx) {
				b.Fatal("not loaded")
			}
		}
	})
}

// BenchmarkLegacy: the typed decoding of a 100-record event, from the
// host's index (what a wasm guest gets) and from ParseEvent's scan (a
// host without input_index, or native code that does not load an index).
func BenchmarkLegacy(b *testing.B) {
	in := benchEvent(100)
	idx, _ := AppendEventIndex(nil, in)
	var ev Event
	for _, indexed := range []bool{true, false} {
		b.Run(map[bool]string{true: "index", false: "scan"}[indexed], func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if indexed {
					ev.loadIndex(in, idx)
				} else if err := ParseEvent(in, &ev); err != nil {
					b.Fatal(err)
				}
				for i := range ev.Records {
					if _, err := ev.Records[i].Legacy(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestKeptStrings: the strings an Event's methods return are substrings of
// one copy of the event (strArena), never of the input buffer the SDK
// reuses for the next invocation: they stay what they were after the
// buffer is overwritten and the Event reloaded, indexed or scanned.
func TestKeptStrings(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		buf := benchEvent(2)
		var ev Event
		load := func() {
			if indexed {
				idx, err := AppendEventIndex(nil, buf)
				if err != nil || !LoadEventIndex(buf, idx, &ev) {
					t.Fatalf("index: %v", err)
				}
			} else if err := ParseEvent(buf, &ev); err != nil {
				t.Fatal(err)
			}
		}
		load()
		r := &ev.Records[1]
		pk, _ := r.Keys().Get("pk").Str()
		amount, _ := r.NewImage().Get("amount").Num()
		var each []string
		_ = r.NewImage().Each(func(name string, v Value) bool {
			s, _ := v.Str()
			each = append(each, name+"="+s)
			return true
		})
		seq, name := r.SequenceNumber(), r.EventName()
		want := fmt.Sprintf("%s %s %v %s %s", pk, amount, each, seq, name)
		if want != "order#1 2.5 [pk=order#1 v=x customer=c1 amount=] 000000000000000000001 INSERT" {
			t.Fatalf("indexed %v: read %s", indexed, want)
		}
		// The next invocation's input lands in the same buffer.
		next := benchEvent(2)
		copy(buf, strings.ReplaceAll(string(next), "order#", "ORDER!"))
		load()
		if got := fmt.Sprintf("%s %s %v %s %s", pk, amount, each, seq, name); got != want {
			t.Fatalf("indexed %v: kept strings changed with the buffer: %s, want %s", indexed, got, want)
		}
		if s, _ := ev.Records[1].Keys().Get("pk").Str(); s != "ORDER!1" {
			t.Fatalf("indexed %v: reloaded event reads %q", indexed, s)
		}
	}
}
