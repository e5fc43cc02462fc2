package cwlogs

import (
	"strings"
	"testing"
)

// FuzzParsePattern: any pattern either parses or is rejected, never
// panics, and a parsed pattern's required terms are all in a message made
// of them.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{``, `ERROR`, `"poison record"`, `?ERROR ?WARN -retry`, `"a \" b"`, `{ $.x = 1 }`, `"open`, `- ?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePattern(s)
		if err != nil {
			return
		}
		msg := strings.Join(append(append([]string{}, p.all...), p.any...), " ")
		for _, n := range p.none {
			if strings.Contains(msg, n) {
				return
			}
		}
		if !p.match(msg) {
			t.Fatalf("%q (%+v) does not match %q", s, p, msg)
		}
	})
}
