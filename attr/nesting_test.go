package attr

import (
	"encoding/json"
	"strings"
	"testing"
)

// deepJSON is a value wrapped in n single-member maps (or single-element
// lists), around leaf: dynamodb-conformance's deepMap and deepList.
func deepJSON(n int, list bool, leaf string) string {
	open, close := `{"M":{"n":`, `}}`
	if list {
		open, close = `{"L":[`, `]}`
	}
	return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
}

func TestNestedDeeper(t *testing.T) {
	for _, tc := range []struct {
		n    int
		list bool
		leaf string
		deep bool
	}{
		{0, false, `{"S":"leaf"}`, false},
		{31, false, `{"S":"leaf"}`, false}, // scalar at level 32: stored
		{32, false, `{"S":"leaf"}`, true},  // scalar at level 33: refused
		{31, true, `{"S":"leaf"}`, false},
		{32, true, `{"S":"leaf"}`, true},
		{31, false, `{"SS":["a"]}`, false}, // a set is a leaf, not a level
		{30, false, `{"M":{}}`, false},     // 31 maps, the last empty
		{31, false, `{"M":{}}`, true},      // an empty map at level 32 is over
		{31, true, `{"L":[]}`, true},
		{40, false, `{"N":"1"}`, true},
	} {
		var v Value
		if err := json.Unmarshal([]byte(deepJSON(tc.n, tc.list, tc.leaf)), &v); err != nil {
			t.Fatalf("%d %v %s: %v", tc.n, tc.list, tc.leaf, err)
		}
		if got := NestedDeeper(v, MaxNestedContainers); got != tc.deep {
			t.Errorf("NestedDeeper(%d wraps (list %v) of %s) = %v, want %v", tc.n, tc.list, tc.leaf, got, tc.deep)
		}
		if got := ItemTooDeep(Item{"pk": S("k"), "data": v}); got != tc.deep {
			t.Errorf("ItemTooDeep(%d wraps of %s) = %v, want %v", tc.n, tc.leaf, got, tc.deep)
		}
		// The request scanner never returns an item nested too deeply: it
		// leaves such bodies to the generic path.
		body := `{"I":{"pk":{"S":"k"},"data":` + deepJSON(tc.n, tc.list, tc.leaf) + `}}`
		r, ok := scanAll([]byte(body))
		if ok && ItemTooDeep(r.I) {
			t.Errorf("scanner accepted %d wraps of %s", tc.n, tc.leaf)
		}
		if !tc.deep && !ok && tc.leaf == `{"S":"leaf"}` {
			t.Errorf("scanner refused %d wraps of a scalar, within the limit", tc.n)
		}
	}
}
