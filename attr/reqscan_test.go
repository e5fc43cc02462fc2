package attr

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
)

type scanReq struct {
	T  *string           `json:"T"`
	I  Item              `json:"I"`
	Nm map[string]string `json:"Nm"`
}

// scanAll decodes body with the scanner into a scanReq, members T (string),
// I (Item) and Nm (string map) at most once each.
func scanAll(body []byte) (scanReq, bool) {
	var r scanReq
	s := NewRequestScanner(body)
	if !s.Open() {
		return r, false
	}
	seen := map[string]bool{}
	for {
		name, done, ok := s.Member()
		if !ok {
			return r, false
		}
		if done {
			break
		}
		if seen[string(name)] {
			return r, false
		}
		seen[string(name)] = true
		switch string(name) {
		case "T":
			v, ok := s.String()
			if !ok {
				return r, false
			}
			r.T = &v
		case "I":
			if r.I, ok = s.Item(); !ok {
				return r, false
			}
		case "Nm":
			if r.Nm, ok = s.StringMap(); !ok {
				return r, false
			}
		default:
			return r, false
		}
	}
	return r, s.End()
}

// TestRequestScanner: whatever the scanner accepts decodes as
// encoding/json (with Value.UnmarshalJSON) decodes it, on hand-picked
// bodies and random mutations of them; and it refuses what the generic
// path must handle (errors, nulls, duplicates, escaped member names).
func TestRequestScanner(t *testing.T) {
	accept := []string{
		`{"T":"bench","I":{"pk":{"S":"a"},"sk":{"N":"1"},"p":{"B":"AAAA"}}}`,
		` {"I":{"p\u00e9":{"S":"a\u00e9\n"},"m":{"M":{"x":{"L":[{"S":"y"},{"NULL":true}]}}},"ss":{"SS":["a","b"]}},"T":"t\u0041\ud800"}` + "\n",
		`{"Nm":{"#a":"b","#\u0063":"d"},"I":{}}`,
		`{}`,
		"{\"T\":\"t\xff\"}",
	}
	refuse := []string{
		``, `[]`, `{"T":null}`, `{"T":1}`, `{"\u0054":"t"}`, `{"t":"x"}`, `{"T":"a","T":"b"}`,
		`{"I":{"a":{"S":"x"},"a":{"S":"y"}}}`, `{"I":{"a":{"S":"x","N":"1"}}}`, `{"I":{"a":{"N":"x"}}}`,
		`{"I":{"a":null}}`, `{"I":null}`, `{"T":"t"}x`, `{"T":"t",}`, `{"T":"t"`, `{"Nm":{"a":"b","a":"c"}}`,
		`{"Nm":{"a":null}}`, `{"I":{"a":{"SS":["x","x"]}}}`,
	}
	check := func(body string) bool {
		t.Helper()
		got, ok := scanAll([]byte(body))
		if !ok {
			return false
		}
		var want scanReq
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%q: scanner accepted, encoding/json: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanner %+v, encoding/json %+v", body, got, want)
		}
		return true
	}
	for _, b := range accept {
		if !check(b) {
			t.Errorf("%q: refused", b)
		}
	}
	for _, b := range refuse {
		if check(b) {
			t.Errorf("%q: accepted", b)
		}
	}
	r := rand.New(rand.NewSource(3))
	accepted := 0
	for _, b := range accept {
		for range 2000 {
			bb := []byte(b)
			switch r.Intn(3) {
			case 0:
				bb = bb[:r.Intn(len(bb)+1)]
			case 1:
				bb[r.Intn(len(bb))] = "{}[]\":,nul \\x01SN"[r.Intn(17)]
			default:
				k := r.Intn(len(bb))
				bb = append(bb[:k:k], append([]byte(`,"I":{"a":{"S":"b"}}`[:r.Intn(20)]), bb[k:]...)...)
			}
			if check(string(bb)) {
				accepted++
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no mutation was accepted")
	}
}
