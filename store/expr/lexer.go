package expr

import (
	"unicode/utf8"
)

// tokKind classifies a token of the expression language.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // [A-Za-z][A-Za-z0-9_]*
	tName           // #[A-Za-z0-9_]+  (ExpressionAttributeNames key)
	tValue          // :[A-Za-z0-9_]+  (ExpressionAttributeValues key)
	tNumber         // [0-9]+          (list index)
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tDot
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tPlus
	tMinus
	tOther // any other single character; always a syntax error
)

// token is one lexeme; start and end are byte offsets into the source.
type token struct {
	kind       tokKind
	text       string
	start, end int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isWord(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lex splits src into tokens, ending with a tEOF token whose text is
// "<EOF>" as DynamoDB prints it. Lexing never fails: characters outside the
// language become tOther tokens and the parser reports them.
func lex(src string) []token {
	toks := make([]token, 0, len(src)/3+2)
	i := 0
	for i < len(src) {
		c := src[i]
		if isSpace(c) {
			i++
			continue
		}
		start := i
		kind := tOther
		switch {
		case isLetter(c):
			for i++; i < len(src) && isWord(src[i]); i++ {
			}
			kind = tIdent
		case isDigit(c):
			for i++; i < len(src) && isDigit(src[i]); i++ {
			}
			kind = tNumber
		case (c == '#' || c == ':') && i+1 < len(src) && isWord(src[i+1]):
			for i++; i < len(src) && isWord(src[i]); i++ {
			}
			kind = tName
			if c == ':' {
				kind = tValue
			}
		default:
			i++
			switch c {
			case '(':
				kind = tLParen
			case ')':
				kind = tRParen
			case '[':
				kind = tLBrack
			case ']':
				kind = tRBrack
			case ',':
				kind = tComma
			case '.':
				kind = tDot
			case '=':
				kind = tEq
			case '+':
				kind = tPlus
			case '-':
				kind = tMinus
			case '<':
				kind = tLt
				if i < len(src) && src[i] == '=' {
					i++
					kind = tLe
				} else if i < len(src) && src[i] == '>' {
					i++
					kind = tNe
				}
			case '>':
				kind = tGt
				if i < len(src) && src[i] == '=' {
					i++
					kind = tGe
				}
			default:
				if c >= utf8.RuneSelf {
					_, n := utf8.DecodeRuneInString(src[start:])
					i = start + n
				}
			}
		}
		toks = append(toks, token{kind: kind, text: src[start:i], start: start, end: i})
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", start: len(src), end: len(src)})
}
