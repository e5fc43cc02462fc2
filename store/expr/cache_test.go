package expr

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// A cached update expression is bound per call: requests compiling the same
// expression at once, each with its own values, each get their own values
// (run with -race: the template is shared, so nothing may write it).
func TestUpdateCacheConcurrentBinding(t *testing.T) {
	const src = "SET #t = if_not_exists(#t, :zero) + :d, #l = list_append(:l, :l), c = :c ADD n :d DELETE s :x"
	names := map[string]string{"#t": "total", "#l": "list"}
	old := attr.Item{"pk": attr.S("k"), "s": attr.SS([]string{"a", "b", "c"})}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := strconv.Itoa(g*1000 + i)
				c := NewCompiler(names, map[string]attr.Value{
					":zero": attr.N("0"), ":d": attr.N(n), ":c": attr.S("c" + n),
					":l": attr.L([]attr.Value{attr.S(n)}), ":x": attr.SS([]string{[]string{"a", "b", "c"}[i%3]}),
				})
				u, err := c.Update(src)
				if err != nil {
					errs <- err.Error()
					return
				}
				if err := c.CheckUnused(); err != nil {
					errs <- err.Error()
					return
				}
				nu, err := u.Apply(old)
				if err != nil {
					errs <- err.Error()
					return
				}
				want := attr.Item{"pk": attr.S("k"), "total": attr.N(n), "n": attr.N(n), "c": attr.S("c" + n),
					"list": attr.L([]attr.Value{attr.S(n), attr.S(n)})}
				var left []string
				for j, e := range []string{"a", "b", "c"} {
					if j != i%3 {
						left = append(left, e)
					}
				}
				want["s"] = attr.SS(left)
				if len(nu) != len(want) {
					errs <- "goroutine " + strconv.Itoa(g) + ": " + strconv.Itoa(len(nu)) + " attributes"
					return
				}
				for k, v := range want {
					if !attr.Equal(nu[k], v) {
						errs <- "goroutine " + strconv.Itoa(g) + " value " + n + ": " + k + " is " + nu[k].Str()
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// The same text is compiled once (the second call gets the first's
// actions), but its names, the presence and the types of its values are
// part of what is cached: another #name target, a value of another type or
// a missing value compiles (and fails) on its own.
func TestUpdateCacheKey(t *testing.T) {
	const src = "SET #a = :v ADD cnt :d"
	compile := func(names map[string]string, values map[string]attr.Value) (*Update, *Compiler, error) {
		c := NewCompiler(names, values)
		u, err := c.Update(src)
		return u, c, err
	}
	u1, _, err := compile(map[string]string{"#a": "x"}, map[string]attr.Value{":v": attr.S("1"), ":d": attr.N("1")})
	if err != nil {
		t.Fatal(err)
	}
	u2, _, err := compile(map[string]string{"#a": "x"}, map[string]attr.Value{":v": attr.S("2"), ":d": attr.N("2")})
	if err != nil {
		t.Fatal(err)
	}
	if u1.actions[0] != u2.actions[0] {
		t.Error("the same expression, names and value types compiled twice")
	}
	if nu, _ := u1.Apply(nil); nu["x"].Str() != "1" || nu["cnt"].Str() != "1" {
		t.Errorf("first binding applied %v", nu)
	}
	if nu, _ := u2.Apply(nil); nu["x"].Str() != "2" {
		t.Errorf("second binding applied %v", nu)
	}
	u3, _, err := compile(map[string]string{"#a": "y"}, map[string]attr.Value{":v": attr.S("3"), ":d": attr.N("3")})
	if err != nil {
		t.Fatal(err)
	}
	if nu, _ := u3.Apply(nil); nu["y"].Str() != "3" || !nu["x"].IsZero() {
		t.Errorf("another #a target applied %v", nu)
	}
	if _, _, err := compile(map[string]string{"#a": "x"}, map[string]attr.Value{":v": attr.S("4"), ":d": attr.S("4")}); err == nil ||
		!strings.Contains(err.Error(), "Incorrect operand type for operator or function; operator: ADD, operand type: STRING") {
		t.Errorf("ADD of a string after ADD of a number compiled: %v", err)
	}
	if _, _, err := compile(map[string]string{"#a": "x"}, map[string]attr.Value{":v": attr.S("5")}); err == nil ||
		!strings.Contains(err.Error(), "attribute value: :d") {
		t.Errorf("an undefined :d after a defined one: %v", err)
	}
	_, c, err := compile(map[string]string{"#a": "x", "#b": "z"}, map[string]attr.Value{":v": attr.S("6"), ":d": attr.N("6"), ":e": attr.N("1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckUnused(); err == nil || !strings.Contains(err.Error(), "keys: {#b}") {
		t.Errorf("unused #b: %v", err)
	}
	_, c, err = compile(map[string]string{"#a": "x", "#b": "z"}, map[string]attr.Value{":v": attr.S("7"), ":d": attr.N("7"), ":e": attr.N("1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckUnused(); err == nil || !strings.Contains(err.Error(), "keys: {#b}") {
		t.Errorf("unused #b, from the cache: %v", err)
	}
}

func TestLRUForgetsLeastRecent(t *testing.T) {
	c := newLRU(2)
	comp := NewCompiler(nil, nil)
	tmpl := func() *updateTemplate { return &updateTemplate{u: &Update{}} }
	c.add("a", tmpl())
	c.add("b", tmpl())
	c.find("a", comp)
	c.add("c", tmpl())
	if c.find("b", comp) != nil {
		t.Error("b, the least recently used, was kept")
	}
	for _, k := range []string{"a", "c"} {
		if c.find(k, comp) == nil {
			t.Errorf("%s was forgotten", k)
		}
	}
	for range updateVariants + 2 {
		c.add("a", tmpl())
	}
	if n := len(c.bySrc["a"].Value.(*lruEntry).variants); n != updateVariants {
		t.Errorf("%d variants of one text kept, want %d", n, updateVariants)
	}
}
