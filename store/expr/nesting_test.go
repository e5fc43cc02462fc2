package expr

import (
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestNestsTooDeep: only the attributes an update writes are held to the
// nesting limit, so an item stored before the limit existed, with a deeper
// attribute, can still be updated elsewhere.
func TestNestsTooDeep(t *testing.T) {
	deep := func(n int) attr.Value {
		v := attr.S("leaf")
		for range n {
			v = attr.M(map[string]attr.Value{"n": v})
		}
		return v
	}
	old := attr.Item{"pk": attr.S("k"), "legacy": deep(40)}
	for _, c := range []struct {
		expr string
		val  attr.Value
		want bool
	}{
		{"SET x = :v", attr.N("1"), false},
		{"SET x = :v", deep(attr.MaxNestedContainers), false},
		{"SET x = :v", deep(attr.MaxNestedContainers + 1), true},
		{"SET legacy.sibling = :v", attr.N("1"), true}, // writes into the too-deep attribute
		{"REMOVE legacy", attr.Value{}, false},
	} {
		vals := map[string]attr.Value{}
		if c.val.Type() != 0 {
			vals[":v"] = c.val
		}
		u, err := NewCompiler(nil, vals).Update(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		nu, err := u.Apply(old)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got := u.NestsTooDeep(nu); got != c.want {
			t.Errorf("%s: NestsTooDeep = %v, want %v", c.expr, got, c.want)
		}
	}
}
