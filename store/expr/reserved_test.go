package expr

import "testing"

func TestReservedWords(t *testing.T) {
	if n := len(reservedWords); n != 573 {
		t.Fatalf("%d reserved words, want 573", n)
	}
	for _, w := range []string{"status", "STATUS", "Size", "abort", "zone"} {
		if !isReserved(w) {
			t.Errorf("%s not reserved", w)
		}
	}
	for _, w := range []string{"pk", "statuses", "a"} {
		if isReserved(w) {
			t.Errorf("%s reserved", w)
		}
	}
}

func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		c := fuzzCompiler()
		if cd, err := c.Condition(s); err == nil {
			cd.Eval(fuzzItem)
		}
		if u, err := c.Update(s); err == nil {
			u.Apply(fuzzItem)
		}
	}
}
