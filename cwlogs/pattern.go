package cwlogs

import (
	"fmt"
	"strings"
)

// pattern is a parsed filterPattern for unstructured events: CloudWatch's
// term syntax.
//
//	""                   every event
//	ERROR Exception      events containing both terms
//	"exact phrase"       events containing the phrase (quotes keep spaces
//	                     and punctuation; \" is a quote inside)
//	?ERROR ?WARN         events containing either term
//	ERROR -Retrying      ERROR but not Retrying
//
// Terms match case-sensitively anywhere in the message, as substrings.
// Required terms must all match; when there are ?-terms at least one of them
// must match too; no --term may match. JSON ({ $.x = ... }), space-delimited
// ([a, b]) and regex (%...%) patterns are not supported: parsePattern
// rejects them.
type pattern struct {
	all, any, none []string
}

func parsePattern(s string) (*pattern, error) {
	p := &pattern{}
	s = strings.TrimSpace(s)
	if s != "" && (s[0] == '{' || s[0] == '[' || s[0] == '%') {
		return nil, fmt.Errorf("eddy supports only term and phrase filter patterns, not %q", s[:1]+"...")
	}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		kind := byte(0)
		if s[0] == '?' || s[0] == '-' {
			kind, s = s[0], s[1:]
		}
		var term string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated quoted phrase")
			}
			term, s = b.String(), s[i+1:]
		} else {
			i := strings.IndexAny(s, " \t")
			if i < 0 {
				i = len(s)
			}
			term, s = s[:i], s[i:]
		}
		if term == "" {
			if kind != 0 {
				return nil, fmt.Errorf("%q needs a term after it", string(kind))
			}
			continue
		}
		switch kind {
		case '?':
			p.any = append(p.any, term)
		case '-':
			p.none = append(p.none, term)
		default:
			p.all = append(p.all, term)
		}
	}
	return p, nil
}

func (p *pattern) match(msg string) bool {
	for _, t := range p.all {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range p.none {
		if strings.Contains(msg, t) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if strings.Contains(msg, t) {
			return true
		}
	}
	return false
}
