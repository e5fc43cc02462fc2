package expr

import (
	"strings"
	"testing"
	"time"
)

// TestPathologicalInputs guards against backtracking blow-ups: every input
// up to the size limit must compile (or fail) quickly.
func TestPathologicalInputs(t *testing.T) {
	inputs := []string{
		strings.Repeat("(", 2000) + "a",
		strings.Repeat("(", 1000) + "a = :a" + strings.Repeat(")", 1000),
		strings.Repeat("(", 1000) + "a" + strings.Repeat(")", 1000) + " = :a",
		strings.Repeat("NOT ", 1000) + "a = :a",
		strings.Repeat("(a = :a) AND ", 300) + "x",
		strings.Repeat("size(", 800) + "a" + strings.Repeat(")", 800),
		strings.Repeat("a.", 2000) + "b",
		"a IN (" + strings.Repeat(":a, ", 1000) + ":a)",
		"SET " + strings.Repeat("a = (b), ", 400) + "c",
		strings.Repeat("list_append(", 800) + "a" + strings.Repeat(")", 800),
	}
	for _, src := range inputs {
		if len(src) > MaxExpressionBytes {
			src = src[:MaxExpressionBytes]
		}
		start := time.Now()
		c := fuzzCompiler()
		c.Condition(src)
		c.Update(src)
		c.Projection(src)
		c.KeyCondition(src)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%.40q... took %v", src, d)
		}
	}
}
