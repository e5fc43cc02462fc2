package partiql

import (
	"strings"
)

type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // bare identifier or keyword
	tQuoted           // "double-quoted identifier"
	tString           // 'string literal'
	tNumber           // 12, 1.5, 1e3
	tParam            // ?
	tPunct            // , . [ ] { } ( ) : ; * + -
	tOp               // = <> != < <= > >=
	tBagOpen          // <<
	tBagClose         // >>
	tBad              // a character or literal the lexer cannot read
)

type token struct {
	kind tokKind
	text string // identifier, literal text (unescaped), punctuation
	pos  int
}

// keywords are the words that cannot be bare identifiers.
var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "IS": true, "BETWEEN": true, "TRUE": true, "FALSE": true, "NULL": true,
	"MISSING": true, "SET": true, "REMOVE": true, "INSERT": true, "INTO": true,
	"VALUE": true, "VALUES": true, "UPDATE": true, "DELETE": true, "EXISTS": true,
	"ORDER": true, "BY": true, "ASC": true, "DESC": true, "AS": true, "LIMIT": true,
	"GROUP": true, "HAVING": true, "JOIN": true, "UNION": true, "LIKE": true, "CASE": true,
	"WHEN": true, "THEN": true, "ELSE": true, "END": true, "CAST": true, "DISTINCT": true,
	"ALL": true, "RETURNING": true, "UPSERT": true, "REPLACE": true, "CREATE": true,
	"DROP": true, "TABLE": true, "INDEX": true, "ON": true, "AT": true,
}

func isKeyword(s string) bool { return keywords[strings.ToUpper(s)] }

func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits a statement into tokens. Comments (-- to end of line, /* */)
// are skipped. A malformed literal yields one tBad token and ends the list.
func lex(src string) []token {
	var out []token
	i := 0
	for {
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
				i++
				continue
			}
			if c == '-' && i+1 < len(src) && src[i+1] == '-' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			if c == '/' && i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return append(out, token{kind: tBad, pos: i})
				}
				i += end + 4
				continue
			}
			break
		}
		if i >= len(src) {
			return append(out, token{kind: tEOF, pos: i})
		}
		start := i
		c := src[i]
		switch {
		case isLetter(c):
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i])) {
				i++
			}
			out = append(out, token{kind: tIdent, text: src[start:i], pos: start})
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && isDigit(src[j]) {
					for j < len(src) && isDigit(src[j]) {
						j++
					}
					i = j
				}
			}
			out = append(out, token{kind: tNumber, text: src[start:i], pos: start})
		case c == '\'' || c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(src) {
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c {
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(src[i])
				i++
			}
			if !closed {
				return append(out, token{kind: tBad, pos: start})
			}
			k := tString
			if c == '"' {
				k = tQuoted
			}
			out = append(out, token{kind: k, text: b.String(), pos: start})
		case c == '?':
			i++
			out = append(out, token{kind: tParam, text: "?", pos: start})
		case c == '<' && i+1 < len(src) && src[i+1] == '<':
			i += 2
			out = append(out, token{kind: tBagOpen, text: "<<", pos: start})
		case c == '>' && i+1 < len(src) && src[i+1] == '>':
			i += 2
			out = append(out, token{kind: tBagClose, text: ">>", pos: start})
		case c == '<' || c == '>' || c == '=' || c == '!':
			i++
			if i < len(src) && (src[i] == '=' || (c == '<' && src[i] == '>')) {
				i++
			}
			text := src[start:i]
			if text == "!" {
				return append(out, token{kind: tBad, pos: start})
			}
			out = append(out, token{kind: tOp, text: text, pos: start})
		case strings.IndexByte(",.[]{}():;*+-", c) >= 0:
			i++
			out = append(out, token{kind: tPunct, text: src[start:i], pos: start})
		default:
			return append(out, token{kind: tBad, pos: start})
		}
	}
}
