package expr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

var fuzzSeeds = []string{
	"a = :a", "#a.b[1] <> :n AND NOT attribute_exists(c)", "size(l) BETWEEN :n AND :n2 OR s IN (:a, :b)",
	"begins_with(#a, :a) AND contains(ss, :a)", "((a = :a))", "attribute_type(a, :t)", "a x b", "!!!",
	"SET a = :a, b = b + :n REMOVE c[1] ADD d :n DELETE e :ss", "set l = list_append(if_not_exists(l, :l), :l)",
	"set a[1] = \"eight\"", "remove a.#a, b", "a, b[2].c, #a", "pk = :a AND begins_with(sk, :a)",
	"(a) = (:a)", "NOT (a < :n)", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h = :a",
	"size(size(a)) = :n", "a[99999999999999999999] = :a", "\xff\xfe = :a",
}

func fuzzCompiler() *Compiler {
	return NewCompiler(map[string]string{"#a": "a", "#b": "status"}, map[string]attr.Value{
		":a": attr.S("a"), ":b": attr.S("b"), ":n": attr.N("1"), ":n2": attr.N("2"),
		":t": attr.S("S"), ":l": attr.L([]attr.Value{attr.N("1")}), ":ss": attr.SS([]string{"a"}),
	})
}

func newFuzzItem() attr.Item {
	return attr.Item{
		"a": attr.S("abc"), "b": attr.L([]attr.Value{attr.N("1"), attr.M(map[string]attr.Value{"c": attr.S("x")})}),
		"l": attr.L([]attr.Value{attr.N("1")}), "ss": attr.SS([]string{"a", "b"}), "n": attr.N("5"),
	}
}

var fuzzItem = newFuzzItem()

// checkDerived compiles conditions built from src, which compiled and
// evaluated to got on fuzzItem, and checks they evaluate as boolean logic
// says: NOT (src) is !got, (src) AND (src) and (src) OR (src) are got. A
// derived condition may fail only with a ValidationException (the longer
// text can pass a limit src stayed under).
func checkDerived(t *testing.T, src string, got bool) {
	for _, d := range []struct {
		format string
		want   bool
	}{{"NOT (%s)", !got}, {"(%[1]s) AND (%[1]s)", got}, {"(%[1]s) OR (%[1]s)", got}} {
		text := fmt.Sprintf(d.format, src)
		cd, err := fuzzCompiler().Condition(text)
		if err != nil {
			checkFuzzErr(t, text, err)
			continue
		}
		if v, err := cd.Eval(fuzzItem); err != nil || v != d.want {
			t.Fatalf("%q is %v (%v), but %q is %v", text, v, err, src, got)
		}
	}
}

func checkFuzzErr(t *testing.T, src string, err error) {
	if err == nil {
		return
	}
	var de *ddberr.Error
	if !errors.As(err, &de) || !errors.Is(err, ddberr.Validation) {
		t.Fatalf("%q: error is not a ValidationException: %T %v", src, err, err)
	}
}

// FuzzParse compiles arbitrary text with every grammar and evaluates what
// compiles. It asserts no panics and that every error is a ddberr
// ValidationException; that a condition evaluates the same twice and as
// its negation and conjunctions say (checkDerived); and that applying an
// update or a projection leaves the item it read unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c := fuzzCompiler()
		if cd, err := c.Condition(src); err == nil {
			v, err := cd.Eval(fuzzItem)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := cd.Eval(fuzzItem); again != v {
				t.Fatalf("%q evaluates to %v, then %v", src, v, again)
			}
			checkDerived(t, src, v)
			cd.Paths()
		} else {
			checkFuzzErr(t, src, err)
		}
		if u, err := c.Update(src); err == nil {
			_, err := u.Apply(fuzzItem)
			checkFuzzErr(t, src, err)
			ProjectPaths(fuzzItem, u.UpdatedPaths())
		} else {
			checkFuzzErr(t, src, err)
		}
		if p, err := c.Projection(src); err == nil {
			p.Apply(fuzzItem)
		} else {
			checkFuzzErr(t, src, err)
		}
		if k, err := c.KeyCondition(src); err == nil {
			checkFuzzErr(t, src, k.Validate("a", "b"))
		} else {
			checkFuzzErr(t, src, err)
		}
		checkFuzzErr(t, src, c.CheckUnused())
		if !attr.ItemsEqual(fuzzItem, newFuzzItem()) {
			t.Fatalf("%q: evaluating changed the item: %s", src, attr.AppendItemJSON(nil, fuzzItem))
		}
	})
}
