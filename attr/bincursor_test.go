package attr

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestStoredMatchesTranscode: the cursor transcoder gives exactly what
// AppendJSONFromBinary gives, and the cursor sizer what ItemSize gives of the
// decoded item (failing where DecodeBinary fails), on random items (with
// invalid UTF-8 in values for a third of them), on every truncation and on
// random byte changes (corrupt or not, the results agree).
func TestStoredMatchesTranscode(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	check := func(i int, stored []byte) {
		t.Helper()
		want, werr := AppendJSONFromBinary([]byte("x"), stored)
		got, gerr := AppendJSONFromStored([]byte("x"), stored)
		if !bytes.Equal(got, want) || gerr != werr {
			t.Fatalf("item %d %q: AppendJSONFromStored %q, %v; AppendJSONFromBinary %q, %v", i, stored, got, gerr, want, werr)
		}
		dec, derr := DecodeBinary(stored)
		gn, gerr := StoredItemSize(stored)
		if (gerr == nil) != (derr == nil) || derr == nil && gn != ItemSize(dec) {
			t.Fatalf("item %d %q: StoredItemSize %d, %v; DecodeBinary %v, ItemSize %d", i, stored, gn, gerr, derr, ItemSize(dec))
		}
		if _, sn, serr := AppendJSONFromStoredSize(nil, stored); sn != gn || serr != gerr {
			t.Fatalf("item %d %q: AppendJSONFromStoredSize size %d, %v; StoredItemSize %d, %v", i, stored, sn, serr, gn, gerr)
		}
	}
	defer func() { randInvalidUTF8 = false }()
	corrupt := 0
	for i := range 2000 {
		randInvalidUTF8 = i%3 == 0
		stored := AppendBinary(nil, randItem(r, 0))
		check(i, stored)
		if i%10 == 0 {
			for n := range len(stored) {
				check(i, stored[:n])
			}
		}
		for range 3 {
			b := bytes.Clone(stored)
			b[r.Intn(len(b))] = byte(r.Intn(256))
			if _, err := DecodeBinary(b); err != nil {
				corrupt++
			}
			check(i, b)
		}
	}
	if corrupt == 0 {
		t.Fatal("no corrupt encoding was generated")
	}
}

func BenchmarkTranscodeStored100(b *testing.B) {
	items := benchItems(100)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = append(buf[:0], '[')
		for _, it := range items {
			buf, _ = AppendJSONFromStored(buf, it)
		}
	}
}

// TestAppendJSONPlain: the eight-at-a-time check agrees with
// appendJSONBytes on every string, each special byte at every position.
func TestAppendJSONPlain(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
	specials := []byte{0x00, 0x01, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xe2, 0xff, ' ', '!', '#', '[', ']', '~'}
	for n := range len(base) + 1 {
		s := base[:n]
		if got, want := appendJSONPlain([]byte("x"), s), appendJSONBytes([]byte("x"), s); !bytes.Equal(got, want) {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
		for i := range n {
			for _, c := range specials {
				m := bytes.Clone(s)
				m[i] = c
				if got, want := appendJSONPlain(nil, m), appendJSONBytes(nil, m); !bytes.Equal(got, want) {
					t.Fatalf("%q: %q, want %q", m, got, want)
				}
			}
		}
	}
	for _, s := range []string{"é", "😀", "\u2028", "a\u2029bcdefghij", "\xe2\x80\xa8abcdefgh", "abcdefg\xe2\x80"} {
		if got, want := appendJSONPlain(nil, []byte(s)), appendJSONBytes(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	}
}
