package outbox

import (
	"bytes"
	"encoding/json"
	"testing"
)

// An item in DynamoDB JSON becomes plain JSON: every type, numbers exact
// (a form JSON cannot hold as a number stays a string), keys sorted, and
// only the kept fields plus the key.
func TestPlainItem(t *testing.T) {
	item := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(`{
		"pk": {"S": "a\"b"},
		"n": {"N": "12345678901234567890123456789012345678"},
		"e": {"N": "1E+2"},
		"bin": {"B": "AAE="},
		"ok": {"BOOL": true},
		"none": {"NULL": true},
		"m": {"M": {"z": {"N": "-0.5"}, "a": {"L": [{"S": "x"}, {"NS": ["1", "2.5"]}]}}},
		"ss": {"SS": ["p", "q"]},
		"bs": {"BS": ["AQ=="]}
	}`), &item); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := plainItem(&b, item, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := `{"bin":"AAE=","bs":["AQ=="],"e":1E+2,"m":{"a":["x",[1,2.5]],"z":-0.5},"n":12345678901234567890123456789012345678,"none":null,"ok":true,"pk":"a\"b","ss":["p","q"]}`
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
	b.Reset()
	keys := map[string]json.RawMessage{"pk": item["pk"]}
	if err := plainItem(&b, item, map[string]bool{"ok": true}, keys); err != nil {
		t.Fatal(err)
	}
	if b.String() != `{"ok":true,"pk":"a\"b"}` {
		t.Fatalf("fields: %s", b.String())
	}
	id, err := keyID(map[string]json.RawMessage{"sk": []byte(`{"N":"7"}`), "pk": item["pk"]})
	if err != nil || id != `pk=a"b|sk=7` {
		t.Fatalf("keyID %q %v", id, err)
	}
	for _, bad := range []string{`{"X":"1"}`, `{"S":"a","N":"1"}`, `{"N":"1"`, `{"L":[{"Q":1}]}`} {
		if err := plainValue(&b, json.RawMessage(bad)); err == nil {
			t.Errorf("plainValue(%s) accepted", bad)
		}
	}
}
