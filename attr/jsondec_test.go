package attr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeSeeds are attribute values, valid and invalid, for the differential
// tests: every type, every check of step 2 in jsondec.go, escapes, invalid
// UTF-8, syntax errors inside otherwise invalid values, duplicate keys.
var decodeSeeds = []string{
	`{"S":"x"}`, `{"S":""}`, `{"S":"h\u00e9llo\"\n\t\\\/\b\f\r"}`, `{"S":"\ud83d\ude00"}`, `{"S":"\ud83d"}`,
	`{"S":"\ude00\ud83d"}`, `{"S":"\ud83dx"}`, `{"S":"\ud83d\u0041"}`, "{\"S\":\"\xff\xfe\"}", "{\"S\":\"a\xed\xa0\x80b\"}",
	"{\"S\":\"é\u2028\"}", `{"S":"\u00"}`, `{"S":"\x"}`, "{\"S\":\"a\x01\"}", `{"S":"a`, `{"S":1}`, `{"S":null}`,
	`{"S":{"a":1}}`, `{"S":["a"]}`, `{"S":true}`,
	`{"N":"1"}`, `{"N":"-0.50"}`, `{"N":"1e3"}`, `{"N":"+7"}`, `{"N":"b"}`, `{"N":""}`, `{"N":null}`, `{"N":1}`,
	`{"N":"1e126"}`, `{"N":"1e-131"}`, `{"N":"123456789012345678901234567890123456789"}`, `{"N":"NaN"}`,
	`{"N":"1","N":"x"}`, `{"N":"x","N":"1"}`, `{"N":"b","S":"a"}`, `{"S":"a","N":"b"}`, `{"N":"b","NS":["c"]}`,
	`{"NS":["c"],"N":[]}`, `{"NS":["1","2"]}`, `{"NS":["1","1.0"]}`, `{"NS":[]}`, `{"NS":null}`, `{"NS":[null]}`,
	`{"NS":["1",null]}`, `{"NS":"1"}`, `{"NS":[1]}`, `{"NS":["x"],"S":"a"}`, `{"NS":null,"S":"a"}`,
	`{"B":"AAEC"}`, `{"B":""}`, `{"B":"AAE"}`, `{"B":"AA\nEC"}`, `{"B":"AA\r\nEC"}`, `{"B":"!!!!"}`, `{"B":1}`, `{"B":null}`,
	`{"BOOL":true}`, `{"BOOL":false}`, `{"BOOL":"true"}`, `{"BOOL":1}`, `{"BOOL":tru}`, `{"BOOL":truex}`,
	`{"NULL":true}`, `{"NULL":false}`, `{"NULL":"x"}`, `{"NULL":null}`,
	`{"M":{}}`, `{"M":{"a":{"S":"x"},"b":{"N":"1"}}}`, `{"M":{"a":{}}}`, `{"M":{"a":{"NULL":false},"b":{}}}`,
	`{"M":{"a":{},"b":{"NULL":false}}}`, `{"M":{"a":{"S":"x"},"a":{"N":"1"}}}`, `{"M":{"a":{},"a":{"S":"x"}}}`,
	`{"M":[]}`, `{"M":"x"}`, `{"M":{"a":1}}`, `{"M":{"a":null}}`, `{"M":{"a":{"S":"x"},}}`, `{"M":{"a":{"NULL":false},"b":1x}}`,
	`{"M":{"\u00e9":{"S":"x"},"\ud800":{"S":"y"}}}`, "{\"M\":{\"\xff\":{\"S\":\"x\"}}}",
	`{"L":[]}`, `{"L":[{"S":"a"},{"N":"1"},{"L":[{"M":{}}]}]}`, `{"L":[{}]}`, `{"L":[null]}`, `{"L":[1]}`,
	`{"L":{}}`, `{"L":"x"}`, `{"L":[{"NULL":false},{}]}`, `{"L":[{"S":"a"},]}`, `{"L":[{"S":1}]}`,
	`{"SS":["a","b"]}`, `{"SS":[]}`, `{"SS":["a","a"]}`, `{"SS":[null]}`, `{"SS":[null,""]}`, `{"SS":["a",1]}`,
	`{"SS":"a"}`, `{"SS":{}}`, `{"SS":["a","b","a","c"]}`,
	`{"BS":["AA==","AQ=="]}`, `{"BS":[]}`, `{"BS":["Yg==","Yg=="]}`, `{"BS":["Yg==","Yg==",5]}`, `{"BS":["Yg==",5]}`,
	`{"BS":[null]}`, `{"BS":[null,""]}`, `{"BS":["AAE"]}`, `{"BS":"AA=="}`, `{"BS":[{}]}`, `{"BS":["Yg==","Yg==",{"a":[1]}]}`,
	`{}`, `{"a":""}`, `{"x":{"S":1},"S":"a"}`, `{"S":"a","BOOL":true}`, `{"S":"a","BOOL":null}`, `{"S":null,"BOOL":null}`,
	`{"S":"a","S":null}`, `{"S":1,"S":"a"}`, `{"\u0053":"a"}`, `{"s":"a"}`, `{"S":"a","M":{"x":{}}}`,
	`null`, ` {"S":"a"} `, `{"S":"a"} x`, `{"S":"a"}{}`, `"x"`, `[]`, `1`, `true`, ``, ` `, `{`, `{"S"}`, `{"S":}`,
	`{"S":"a",}`, `{,}`, `{"S":"a" "N":"1"}`, `{"N":"b","x":[1,2,{"y":-1.5e+3}]}`, `{"N":"b","x":01}`,
	`{"N":"b","x":-}`, `{"N":"b","x":1.}`, `{"N":"b","x":.5}`, `{"N":"b","x":1e}`, `{"N":"b","x":nul}`,
	`{"N":"b","x":"\u12"}`, `{"N":"b","x":[1,]}`, `{"NULL":false,"x":{"a" 1}}`,
	strings.Repeat(`{"L":[`, 3000) + `{"S":"deep"}` + strings.Repeat(`]}`, 3000),
	strings.Repeat(`{"L":[`, 5001) + `{"S":"deep"}` + strings.Repeat(`]}`, 5001),
	`{"N":"b","x":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
}

// decodeBoth decodes data with the single-pass decoder and the oracle.
func decodeBoth(data []byte) (got, want Value, gotErr, wantErr error) {
	var v Value
	gotErr = v.UnmarshalJSON(data)
	var o oracleValue
	wantErr = o.UnmarshalJSON(data)
	return v, o.v, gotErr, wantErr
}

func checkSame(t *testing.T, data []byte) {
	t.Helper()
	got, want, gotErr, wantErr := decodeBoth(data)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%.200q:\n got error %v\nwant error %v", data, gotErr, wantErr)
	}
	if gotErr == nil && !sameValue(got, want) {
		t.Fatalf("%.200q:\n got %s\nwant %s", data, AppendJSON(nil, got), AppendJSON(nil, want))
	}
}

// sameValue is exact equality: Equal, plus set members in the same order.
func sameValue(a, b Value) bool {
	if a.typ != b.typ || a.s != b.s || a.b != b.b || !bytes.Equal(a.Bytes(), b.Bytes()) ||
		len(a.Strings()) != len(b.Strings()) || len(a.BytesSet()) != len(b.BytesSet()) || len(a.List()) != len(b.List()) || len(a.Map()) != len(b.Map()) {
		return false
	}
	for i := range a.Strings() {
		if a.Strings()[i] != b.Strings()[i] {
			return false
		}
	}
	for i := range a.BytesSet() {
		if !bytes.Equal(a.BytesSet()[i], b.BytesSet()[i]) {
			return false
		}
	}
	for i := range a.List() {
		if !sameValue(a.List()[i], b.List()[i]) {
			return false
		}
	}
	for k, av := range a.Map() {
		bv, ok := b.Map()[k]
		if !ok || !sameValue(av, bv) {
			return false
		}
	}
	return true
}

func TestDecodeMatchesOracle(t *testing.T) {
	for _, s := range decodeSeeds {
		checkSame(t, []byte(s))
	}
	// Items decode through encoding/json's map with one call per value.
	for _, s := range decodeSeeds {
		body := []byte(`{"a":{"S":"x"},"b":` + s + `}`)
		var got map[string]Value
		var want map[string]oracleValue
		gotErr, wantErr := json.Unmarshal(body, &got), json.Unmarshal(body, &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("item %.200q:\n got error %v\nwant error %v", body, gotErr, wantErr)
		}
		if gotErr == nil && !sameValue(got["b"], want["b"].v) {
			t.Fatalf("item %.200q: values differ", body)
		}
	}
}

// FuzzDecode checks the single-pass AttributeValue JSON decoder against the
// encoding/json oracle (same value, same error text) and that what it
// decodes round-trips through AppendJSON.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
		// A decoded value re-encodes (AppendJSON) to JSON that decodes to
		// an equal value.
		var v Value
		if v.UnmarshalJSON(data) != nil {
			return
		}
		js := AppendJSON(nil, v)
		var back Value
		if err := back.UnmarshalJSON(js); err != nil || !Equal(back, v) {
			t.Fatalf("%.200q: re-encoded as %.200q, which decodes to %v (%v)", data, js, back, err)
		}
	})
}

// typicalItem is a 10-attribute item with a nested map, as a PutItem's
// Item member holds it.
const typicalItem = `{"pk":{"S":"user#12345"},"sk":{"N":"1700000000"},"name":{"S":"Ada Lovelace"},` +
	`"email":{"S":"ada@example.com"},"age":{"N":"36"},"active":{"BOOL":true},` +
	`"tags":{"SS":["admin","math","poet"]},"scores":{"NS":["1.5","2","99"]},` +
	`"avatar":{"B":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"},` +
	`"address":{"M":{"street":{"S":"12 St James's Square"},"city":{"S":"London"},"zip":{"S":"SW1Y 4JH"},` +
	`"geo":{"L":[{"N":"51.5074"},{"N":"-0.1278"}]}}}}`

func BenchmarkDecodeItem(b *testing.B) {
	data := []byte(typicalItem)
	b.Run("single-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var it map[string]Value
			if err := json.Unmarshal(data, &it); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oracle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var it map[string]oracleValue
			if err := json.Unmarshal(data, &it); err != nil {
				b.Fatal(err)
			}
		}
	})
}
