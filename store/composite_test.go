package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/shards"
)

// TestIndexEntryKeyLayout pins the bytes of index entry keys: a one-
// attribute key (hash, or hash and range) keeps the layout data
// directories hold, and a multi-attribute key concatenates its attributes'
// encodings in key-schema order, the partition ones hashed as one.
func TestIndexEntryKeyLayout(t *testing.T) {
	tbl := &Table{ID: 7, Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	it := attr.Item{"pk": attr.S("p"), "a": attr.S("x"), "b": attr.N("12"), "c": attr.S("y"), "d": attr.N("3")}
	key := func(hashParts []attr.Value, rest ...attr.Value) []byte {
		k := binary.BigEndian.AppendUint16(tablePrefix(prefixIndex, 7), 3)
		var enc []byte
		for _, v := range hashParts {
			enc = attr.AppendKey(enc, v)
		}
		k = binary.BigEndian.AppendUint64(k, shards.Hash(enc))
		k = append(k, enc...)
		for _, v := range rest {
			k = attr.AppendKey(k, v)
		}
		return k
	}
	cases := []struct {
		name string
		ix   Index
		want []byte
	}{
		{"hash only", Index{ID: 3, Hash: KeyElement{Name: "a", Type: attr.TypeS}},
			key([]attr.Value{attr.S("x")}, attr.S("p"))},
		{"hash and range", Index{ID: 3, Hash: KeyElement{Name: "a", Type: attr.TypeS}, Range: &KeyElement{Name: "b", Type: attr.TypeN}},
			key([]attr.Value{attr.S("x")}, attr.N("12"), attr.S("p"))},
		{"two hash, two range", Index{ID: 3, Hash: KeyElement{Name: "a", Type: attr.TypeS}, MoreHash: []KeyElement{{Name: "b", Type: attr.TypeN}},
			Range: &KeyElement{Name: "c", Type: attr.TypeS}, MoreRange: []KeyElement{{Name: "d", Type: attr.TypeN}}},
			key([]attr.Value{attr.S("x"), attr.N("12")}, attr.S("y"), attr.N("3"), attr.S("p"))},
	}
	for _, c := range cases {
		if got := c.ix.entryKey(tbl, it); !bytes.Equal(got, c.want) {
			t.Errorf("%s: entry key\n got %x\nwant %x", c.name, got, c.want)
		}
	}
	// Sparse: any key attribute missing, of another type or empty.
	ix := cases[2].ix
	for _, drop := range []string{"a", "b", "c", "d"} {
		partial := attr.Item{}
		for k, v := range it {
			if k != drop {
				partial[k] = v
			}
		}
		if ix.entryKey(tbl, partial) != nil {
			t.Errorf("an item without %s has an entry", drop)
		}
	}
	if ix.entryKey(tbl, attr.Item{"pk": attr.S("p"), "a": attr.S("x"), "b": attr.S("12"), "c": attr.S("y"), "d": attr.N("3")}) != nil {
		t.Error("an item whose b is a string has an entry")
	}
	if ix.entryKey(tbl, attr.Item{"pk": attr.S("p"), "a": attr.S("x"), "b": attr.N("12"), "c": attr.S(""), "d": attr.N("3")}) != nil {
		t.Error("an item whose c is empty has an entry")
	}
	// The descriptor of a one-attribute index is the JSON it always was.
	js, err := json.Marshal(cases[1].ix)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "more") {
		t.Errorf("one-attribute index descriptor %s", js)
	}
	var back Index
	if err := json.Unmarshal(js, &back); err != nil || back.Composite() || len(back.KeyElements()) != 2 {
		t.Errorf("descriptor round trip: %+v %v", back, err)
	}
	js, _ = json.Marshal(ix)
	if err := json.Unmarshal(js, &back); err != nil || !back.Composite() || strings.Join(back.KeyNames(), ",") != "a,b,c,d" {
		t.Errorf("composite descriptor round trip: %s → %+v %v", js, back, err)
	}
}
