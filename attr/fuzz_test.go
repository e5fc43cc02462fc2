package attr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// itemSeeds are DynamoDB JSON items, as PutItem's Item member holds them,
// for the binary encoding round trip.
var itemSeeds = []string{
	typicalItem,
	`{"pk":{"S":"a"}}`,
	`{"pk":{"S":"a\u0000b"},"n":{"N":"-0.000123"},"z":{"N":"0"},"big":{"N":"9.9999999999999999999999999999999999999E+125"}}`,
	`{"e":{"S":""},"b":{"B":""},"nul":{"NULL":true},"f":{"BOOL":false},"l":{"L":[]},"m":{"M":{}}}`,
	`{"bs":{"BS":["AA==","AQ==","//8="]},"ns":{"NS":["1","-1","1e-130"]},"ss":{"SS":["é","😀"]}}`,
	`{"deep":{"M":{"a":{"L":[{"M":{"b":{"L":[{"S":"x"},{"N":"2"}]}}}]}}}}`,
}

// FuzzBinaryRoundTrip decodes fuzzed DynamoDB JSON as an item and, for the
// items that decode, checks the stored encoding (binary.go) round-trips:
// DecodeBinary(AppendBinary(it)) equals it, the read path's transcoder
// (bincursor.go) renders JSON that decodes back to it, and StoredItemSize
// and the transcoder's size agree with ItemSize.
func FuzzBinaryRoundTrip(f *testing.F) {
	for _, s := range itemSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var it map[string]Value
		if json.Unmarshal(data, &it) != nil || it == nil {
			return
		}
		enc := AppendBinary(nil, it)
		got, err := DecodeBinary(enc)
		if err != nil {
			t.Fatalf("%q: DecodeBinary of AppendBinary: %v", data, err)
		}
		if !ItemsEqual(got, it) {
			t.Fatalf("%q: binary round trip differs:\n got %s\nwant %s", data, AppendItemJSON(nil, got), AppendItemJSON(nil, it))
		}
		js, size, err := AppendJSONFromStoredSize(nil, enc)
		if err != nil {
			t.Fatalf("%q: AppendJSONFromStoredSize: %v", data, err)
		}
		var back map[string]Value
		if err := json.Unmarshal(js, &back); err != nil || !ItemsEqual(back, it) {
			t.Fatalf("%q: transcoded JSON %q does not decode to the item (%v)", data, js, err)
		}
		want := ItemSize(it)
		if n, err := StoredItemSize(enc); err != nil || n != want || size != want {
			t.Fatalf("%q: StoredItemSize %d (%v), transcoder size %d, ItemSize %d", data, n, err, size, want)
		}
	})
}

// FuzzDecodeBinary feeds arbitrary bytes to the stored-item decoders, as a
// corrupt or truncated Pebble value would. Both must return ErrCorrupt or an
// item, never panic, and agree on which; an item they accept re-encodes to
// an encoding that decodes to the same item.
func FuzzDecodeBinary(f *testing.F) {
	for _, s := range itemSeeds {
		var it map[string]Value
		if err := json.Unmarshal([]byte(s), &it); err != nil {
			f.Fatal(err)
		}
		enc := AppendBinary(nil, it)
		f.Add(enc)
		f.Add(enc[:len(enc)-1])
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{1, 1, 1, 'a', 'L', 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := DecodeBinary(data)
		_, jsErr := AppendJSONFromStored(nil, data)
		_, sizeErr := StoredItemSize(data)
		for _, e := range []error{err, jsErr, sizeErr} {
			if e != nil && e != ErrCorrupt {
				t.Fatalf("%q: error %v, want ErrCorrupt", data, e)
			}
		}
		if (jsErr == nil) != (sizeErr == nil) {
			t.Fatalf("%q: transcoder error %v, size error %v", data, jsErr, sizeErr)
		}
		if err != nil {
			if jsErr == nil {
				t.Fatalf("%q: the transcoder accepts what DecodeBinary rejects", data)
			}
			return
		}
		again, err := DecodeBinary(AppendBinary(nil, it))
		if err != nil || !ItemsEqual(again, it) {
			t.Fatalf("%q: re-encoded item does not round-trip (%v)", data, err)
		}
	})
}

// FuzzKeyOrder checks the order-preserving key encoding (key.go): for two
// values of one key type, bytes.Compare of their encodings has the sign of
// Compare, the encodings are equal exactly when the values are, and an
// encoding is self-delimiting (a sort key appended after each partition key
// does not change the order of distinct partition keys).
func FuzzKeyOrder(f *testing.F) {
	for _, s := range [][3]string{
		{"S", "a", "b"}, {"S", "a", "a\x00"}, {"S", "a\x00", "a\x01"}, {"S", "", "\x00"}, {"S", "é", "z"},
		{"B", "\x00\xff", "\x00"}, {"B", "", "\xff"},
		{"N", "1", "10"}, {"N", "-1", "-10"}, {"N", "0", "-0.0001"}, {"N", "1.5", "1.50001"},
		{"N", "9.9999999999999999999999999999999999999E+125", "1E-130"}, {"N", "-1E+125", "-1E-130"},
		{"N", "123", "1.23e2"}, {"N", "0.1", "0.01"},
	} {
		f.Add(s[0][0], s[1], s[2], "sk")
	}
	f.Fuzz(func(t *testing.T, typ byte, a, b, sk string) {
		var va, vb Value
		switch typ {
		case 'S':
			va, vb = S(a), S(b)
		case 'B':
			va, vb = B([]byte(a)), B([]byte(b))
		case 'N':
			na, err1 := ParseNumber(a)
			nb, err2 := ParseNumber(b)
			if err1 != nil || err2 != nil {
				return
			}
			va, vb = NumberValue(na), NumberValue(nb)
		default:
			return
		}
		c, ok := Compare(va, vb)
		if !ok {
			t.Fatalf("Compare(%v, %v) not ok", va, vb)
		}
		ka, kb := AppendKey(nil, va), AppendKey(nil, vb)
		if got := bytes.Compare(ka, kb); got != c {
			t.Fatalf("%c %q vs %q: Compare %d, encodings %x vs %x compare %d", typ, a, b, c, ka, kb, got)
		}
		if c != 0 {
			skv := S(sk)
			ca := AppendKey(AppendKey(nil, va), skv)
			cb := AppendKey(append([]byte(nil), kb...), S(""))
			if got := bytes.Compare(ca, cb); got != c {
				t.Fatalf("%c %q+%q vs %q+\"\": composite keys compare %d, want %d", typ, a, sk, b, got, c)
			}
		}
		// A key is a prefix range of itself: KeyPrefixEnd bounds every
		// composite key that starts with it.
		if end := KeyPrefixEnd(ka); end != nil && bytes.Compare(AppendKey(append([]byte(nil), ka...), S(sk)), end) >= 0 {
			t.Fatalf("%q: composite key not below KeyPrefixEnd", a)
		}
	})
}
