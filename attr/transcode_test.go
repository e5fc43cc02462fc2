package attr

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"testing"
)

// randString mixes ASCII, characters JSON escapes, multi-byte UTF-8,
// U+2028 and, when invalid is set, invalid UTF-8 (which stored items never
// hold: they come from the JSON decoder).
func randString(r *rand.Rand) string {
	alphabet := []string{"a", "Z", "0", " ", `"`, `\`, "\n", "\t", "\x01", "\x1f", "é", "€", "😀", "\u2028", "\u2029", "/"}
	if randInvalidUTF8 {
		alphabet = append(alphabet, "\xff", "\xed\xa0\x80")
	}
	n := r.Intn(8)
	s := ""
	for range n {
		s += alphabet[r.Intn(len(alphabet))]
	}
	return s
}

var randInvalidUTF8 bool

func randNumber(r *rand.Rand) string {
	s := strconv.FormatFloat((r.Float64()-0.5)*1e6, 'f', r.Intn(6), 64)
	if r.Intn(3) == 0 {
		s += "e" + strconv.Itoa(r.Intn(200)-100)
	}
	n, err := ParseNumber(s)
	if err != nil {
		return "0"
	}
	return n.String()
}

func randValue(r *rand.Rand, depth int) Value {
	k := r.Intn(10)
	if depth > 3 && k >= 5 && k <= 6 {
		k = 0
	}
	switch k {
	case 0:
		return S(randString(r))
	case 1:
		return N(randNumber(r))
	case 2:
		b := make([]byte, r.Intn(6))
		r.Read(b)
		return B(b)
	case 3:
		return Bool(r.Intn(2) == 0)
	case 4:
		return Null()
	case 5:
		return M(randItem(r, depth+1))
	case 6:
		l := make([]Value, r.Intn(4))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		return L(l)
	case 7:
		ss := make([]string, 1+r.Intn(3))
		for i := range ss {
			ss[i] = randString(r) + strconv.Itoa(i)
		}
		return SS(ss)
	case 8:
		ns := make([]string, 1+r.Intn(3))
		for i := range ns {
			ns[i] = randNumber(r)
		}
		return NS(ns)
	default:
		bs := make([][]byte, 1+r.Intn(3))
		for i := range bs {
			bs[i] = []byte{byte(i), byte(r.Intn(256))}
		}
		return BS(bs)
	}
}

func randItem(r *rand.Rand, depth int) Item {
	it := Item{}
	for range r.Intn(6) {
		it[randString(r)] = randValue(r, depth)
	}
	return it
}

// TestTranscodeMatchesDecode: the JSON transcoded from the binary form
// decodes to the item DecodeBinary returns; it is the JSON AppendItemJSON
// writes (byte for byte when member order cannot differ); the sizes and
// lookups agree with the decoded item's.
func TestTranscodeMatchesDecode(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := range 3000 {
		it := randItem(r, 0)
		if i == 0 {
			// Invalid UTF-8 (in values only: two names could map to
			// the same JSON name) is rendered as AppendItemJSON does.
			randInvalidUTF8 = true
			defer func() { randInvalidUTF8 = false }()
		}
		stored := AppendBinary(nil, it)
		if randInvalidUTF8 {
			for name, v := range it {
				stored = AppendBinary(nil, Item{name: v})
				js, err := AppendJSONFromBinary(nil, stored)
				if w := AppendItemJSON(nil, Item{name: v}); err != nil || !hasNestedM(Item{name: v}) && string(js) != string(w) {
					t.Fatalf("item %d: transcoded %s, %v\nAppendItemJSON %s", i, js, err, w)
				}
			}
			// Items with invalid UTF-8 do not survive a JSON round trip
			// (it becomes U+FFFD), so they are only checked above.
			if i >= 1500 {
				randInvalidUTF8 = false
			}
			continue
		}
		want, err := DecodeBinary(stored)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("x")
		js, err := AppendJSONFromBinary(prefix, stored)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		var got Item
		if err := json.Unmarshal(js[1:], &got); err != nil {
			t.Fatalf("item %d: %s: %v", i, js, err)
		}
		if !ItemsEqual(got, want) {
			t.Fatalf("item %d: transcoded %s\nwant %s", i, js[1:], AppendItemJSON(nil, want))
		}
		if len(it) <= 1 && !hasNestedM(want) {
			if w := AppendItemJSON(nil, want); string(js[1:]) != string(w) {
				t.Fatalf("item %d: transcoded %s\nAppendItemJSON %s", i, js[1:], w)
			}
		}
		size, err := StoredItemSize(stored)
		if err != nil || size != ItemSize(want) {
			t.Fatalf("item %d: StoredItemSize = %d, %v; ItemSize = %d", i, size, err, ItemSize(want))
		}
		for name, v := range want {
			lv, ok, err := LookupBinary(stored, name)
			if err != nil || !ok || !Equal(lv, v) {
				t.Fatalf("item %d: LookupBinary(%q) = %v, %v, %v", i, name, lv, ok, err)
			}
		}
		if _, ok, err := LookupBinary(stored, "absent name"); ok || err != nil {
			t.Fatalf("item %d: LookupBinary of an absent name: %v, %v", i, ok, err)
		}
	}
}

func hasNestedM(it Item) bool {
	for _, v := range it {
		if v.Type() == TypeM && len(v.Map()) > 1 || v.Type() == TypeL || v.Type() == TypeM && hasNestedM(v.Map()) {
			return true
		}
	}
	return false
}

// TestTranscodeCorrupt: every truncation and random byte changes of a
// stored item fail in DecodeBinary, AppendJSONFromBinary and StoredItemSize
// alike (leaving dst as it was), or render and size what DecodeBinary
// decodes.
func TestTranscodeCorrupt(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for range 200 {
		stored := AppendBinary(nil, randItem(r, 0))
		var variants [][]byte
		for n := range len(stored) {
			variants = append(variants, stored[:n])
		}
		for range 20 {
			b := append([]byte(nil), stored...)
			b[r.Intn(len(b))] = byte(r.Intn(256))
			variants = append(variants, b)
		}
		for _, b := range variants {
			want, derr := DecodeBinary(b)
			js, jerr := AppendJSONFromBinary([]byte("x"), b)
			size, serr := StoredItemSize(b)
			if (derr == nil) != (jerr == nil) || (derr == nil) != (serr == nil) {
				t.Fatalf("%q: DecodeBinary %v, AppendJSONFromBinary %v, StoredItemSize %v", b, derr, jerr, serr)
			}
			if jerr != nil {
				if string(js) != "x" {
					t.Fatalf("%q: dst changed on error: %q", b, js)
				}
				continue
			}
			if size != ItemSize(want) {
				t.Fatalf("%q: StoredItemSize %d, ItemSize %d", b, size, ItemSize(want))
			}
			if w := AppendItemJSON([]byte("x"), want); len(want) <= 1 && !hasNestedM(want) && string(js) != string(w) {
				t.Fatalf("%q: transcoded %s, AppendItemJSON %s", b, js, w)
			}
		}
	}
}

func benchItems(n int) [][]byte {
	var it Item
	if err := json.Unmarshal([]byte(typicalItem), &it); err != nil {
		panic(err)
	}
	out := make([][]byte, n)
	for i := range out {
		it["sk"] = N(fmt.Sprint(i))
		out[i] = AppendBinary(nil, it)
	}
	return out
}

// BenchmarkTranscode100 renders 100 stored items as a Query page's Items:
// decode to maps then AppendItemJSON (the old path) vs transcoding.
func BenchmarkTranscode100(b *testing.B) {
	items := benchItems(100)
	b.Run("decode+AppendItemJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			buf = buf[:0]
			for _, s := range items {
				it, err := DecodeBinary(s)
				if err != nil {
					b.Fatal(err)
				}
				_ = ItemSize(it)
				buf = AppendItemJSON(buf, it)
			}
		}
	})
	b.Run("AppendJSONFromBinary", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			buf = buf[:0]
			for _, s := range items {
				if _, err := StoredItemSize(s); err != nil {
					b.Fatal(err)
				}
				var err error
				if buf, err = AppendJSONFromBinary(buf, s); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
