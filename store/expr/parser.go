package expr

import (
	"strconv"
	"strings"
)

// grammar selects the keyword set and the productions a parser accepts.
type grammar uint8

const (
	gCondition grammar = iota + 1 // ConditionExpression, FilterExpression, KeyConditionExpression
	gUpdate
	gProjection
)

// parser is a backtracking recursive-descent parser over the token slice.
// Like the PEG parser DynamoDB's messages come from, it reports a syntax
// error at the farthest token any alternative failed on.
type parser struct {
	src       string
	toks      []token
	pos       int
	far       int // farthest token index an alternative failed at
	g         grammar
	redundant bool // "((x))" seen somewhere
}

func newParser(src string, g grammar) *parser {
	return &parser{src: src, toks: lex(src), g: g}
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) at(k tokKind) bool { return p.toks[p.pos].kind == k }

// fail notes that something was expected at the current token.
func (p *parser) fail() {
	if p.pos > p.far {
		p.far = p.pos
	}
}

func (p *parser) accept(k tokKind) bool {
	if p.toks[p.pos].kind == k {
		p.pos++
		return true
	}
	p.fail()
	return false
}

// syntaxError renders the error at the farthest failure: the token, and the
// source text from the token before it to the token after it.
func (p *parser) syntaxError() string {
	i := p.far
	tok := p.toks[i]
	from := 0
	if i > 0 {
		from = p.toks[i-1].start
	}
	to := tok.end
	if i+1 < len(p.toks) {
		to = p.toks[i+1].end
	}
	return `Syntax error; token: "` + tok.text + `", near: "` + p.src[from:to] + `"`
}

func isKw(t token, kw string) bool {
	return t.kind == tIdent && len(t.text) == len(kw) && strings.EqualFold(t.text, kw)
}

// keyword reports whether t is a keyword of the parser's grammar, which
// cannot be used as an identifier there.
func (p *parser) keyword(t token) bool {
	if t.kind != tIdent {
		return false
	}
	switch p.g {
	case gCondition:
		return isKw(t, "AND") || isKw(t, "OR") || isKw(t, "NOT") || isKw(t, "BETWEEN") || isKw(t, "IN")
	case gUpdate:
		return sectionOf(t) != 0
	}
	return false
}

func sectionOf(t token) ActionKind {
	switch {
	case isKw(t, "SET"):
		return ActionSet
	case isKw(t, "REMOVE"):
		return ActionRemove
	case isKw(t, "ADD"):
		return ActionAdd
	case isKw(t, "DELETE"):
		return ActionDelete
	}
	return 0
}

// ---- paths and operands ----

func (p *parser) pathIdent() (rawElem, bool) {
	t := p.peek()
	if (t.kind == tIdent && !p.keyword(t)) || t.kind == tName {
		p.pos++
		return rawElem{text: t.text, index: -1}, true
	}
	p.fail()
	return rawElem{}, false
}

// parsePath reads ident ( '.' ident | '[' digits ']' )*.
func (p *parser) parsePath() ([]rawElem, bool) {
	first, ok := p.pathIdent()
	if !ok {
		return nil, false
	}
	elems := []rawElem{first}
	for {
		save := p.pos
		switch p.peek().kind {
		case tDot:
			p.pos++
			e, ok := p.pathIdent()
			if !ok {
				p.pos = save
				return elems, true
			}
			elems = append(elems, e)
		case tLBrack:
			p.pos++
			t := p.peek()
			n, err := strconv.Atoi(t.text)
			if t.kind != tNumber || err != nil || n > 1<<31-1 {
				p.fail()
				p.pos = save
				return elems, true
			}
			p.pos++
			if !p.accept(tRBrack) {
				p.pos = save
				return elems, true
			}
			elems = append(elems, rawElem{index: n})
		default:
			p.fail()
			return elems, true
		}
	}
}

// parseOperandParens reads an operand with optional parentheses. Conditions
// accept any depth (and flag "((x))" as redundant); updates accept one level.
func (p *parser) parseOperandParens() *operand {
	if p.at(tLParen) {
		save := p.pos
		p.pos++
		var o *operand
		if p.g == gCondition {
			o = p.parseOperandParens()
		} else {
			o = p.parseOperand()
		}
		if o != nil && p.accept(tRParen) {
			if o.parens > 0 {
				p.redundant = true
			}
			o.parens++
			return o
		}
		p.pos = save
		return nil
	}
	return p.parseOperand()
}

func (p *parser) parseOperand() *operand {
	t := p.peek()
	switch t.kind {
	case tIdent:
		if p.keyword(t) {
			p.fail()
			return nil
		}
		if p.peekAt(1).kind == tLParen {
			return p.parseFunc()
		}
		fallthrough
	case tName:
		raw, ok := p.parsePath()
		if !ok {
			return nil
		}
		return &operand{kind: opPath, raw: raw}
	case tValue:
		p.pos++
		return &operand{kind: opValue, ref: t.text}
	}
	p.fail()
	return nil
}

// parseFunc reads name '(' operand (',' operand)* ')'.
func (p *parser) parseFunc() *operand {
	save := p.pos
	name := p.peek().text
	p.pos += 2
	var args []*operand
	for {
		a := p.parseOperandParens()
		if a == nil {
			p.pos = save
			return nil
		}
		args = append(args, a)
		if p.at(tComma) {
			p.pos++
			continue
		}
		if !p.accept(tRParen) {
			p.pos = save
			return nil
		}
		return &operand{kind: opFunc, fn: name, args: args}
	}
}

// ---- conditions ----

func (p *parser) parseOr() *cond { return p.parseChain("OR", cOr, p.parseAnd) }

func (p *parser) parseAnd() *cond { return p.parseChain("AND", cAnd, p.parseNot) }

// parseChain parses operand (kw operand)*, left-associative, into conds of
// the given kind; a keyword not followed by an operand is left unread.
func (p *parser) parseChain(kw string, kind condKind, operand func() *cond) *cond {
	l := operand()
	if l == nil {
		return nil
	}
	for isKw(p.peek(), kw) {
		save := p.pos
		p.pos++
		r := operand()
		if r == nil {
			p.pos = save
			break
		}
		l = &cond{kind: kind, sub: []*cond{l, r}}
	}
	return l
}

func (p *parser) parseNot() *cond {
	if isKw(p.peek(), "NOT") {
		save := p.pos
		p.pos++
		c := p.parseNot() // NOT NOT x is x: NOT applies to what follows it
		if c == nil {
			p.pos = save
			return nil
		}
		return &cond{kind: cNot, sub: []*cond{c}}
	}
	return p.parsePrimary()
}

// comparisonTail reports whether the current token continues an operand
// into a comparison, BETWEEN or IN.
func (p *parser) comparisonTail() bool {
	t := p.peek()
	switch t.kind {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return true
	}
	return isKw(t, "BETWEEN") || isKw(t, "IN")
}

func (p *parser) parsePrimary() *cond {
	if p.at(tLParen) {
		save := p.pos
		p.pos++
		inner := p.parseOr()
		if inner != nil && p.accept(tRParen) && !p.comparisonTail() {
			if inner.parens > 0 {
				p.redundant = true
			}
			inner.parens++
			return inner
		}
		p.pos = save
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() *cond {
	start := p.pos
	x := p.parseOperandParens()
	if x == nil {
		return nil
	}
	t := p.peek()
	switch t.kind {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		p.pos++
		y := p.parseOperandParens()
		if y == nil {
			p.pos = start
			return nil
		}
		return &cond{kind: cCompare, op: t.kind, args: []*operand{x, y}}
	}
	switch {
	case isKw(t, "BETWEEN"):
		p.pos++
		y := p.parseOperandParens()
		if y == nil || !isKw(p.peek(), "AND") {
			p.fail()
			p.pos = start
			return nil
		}
		p.pos++
		z := p.parseOperandParens()
		if z == nil {
			p.pos = start
			return nil
		}
		return &cond{kind: cBetween, args: []*operand{x, y, z}}
	case isKw(t, "IN"):
		p.pos++
		if !p.accept(tLParen) {
			p.pos = start
			return nil
		}
		args := []*operand{x}
		for {
			a := p.parseOperandParens()
			if a == nil {
				p.pos = start
				return nil
			}
			args = append(args, a)
			if p.at(tComma) {
				p.pos++
				continue
			}
			if !p.accept(tRParen) {
				p.pos = start
				return nil
			}
			return &cond{kind: cIn, args: args}
		}
	}
	p.fail()
	if x.kind == opFunc && x.parens == 0 {
		return &cond{kind: cFunc, fn: x.fn, args: x.args}
	}
	p.pos = start
	return nil
}

// parseConditionTree parses a whole condition; the message is a syntax error.
func parseConditionTree(src string) (*cond, bool, string) {
	p := newParser(src, gCondition)
	c := p.parseOr()
	if c == nil || !p.at(tEOF) {
		p.fail()
		return nil, false, p.syntaxError()
	}
	return c, p.redundant, ""
}

// ---- updates ----

// parseUpdateTree parses the clauses of an update expression. sections
// lists the clauses in the order written, for the duplicate-clause check.
func parseUpdateTree(src string) ([]*action, []ActionKind, string) {
	p := newParser(src, gUpdate)
	var acts []*action
	var sections []ActionKind
	for {
		kind := sectionOf(p.peek())
		if kind == 0 {
			if len(sections) > 0 && p.at(tEOF) {
				return acts, sections, ""
			}
			p.fail()
			return nil, nil, p.syntaxError()
		}
		p.pos++
		sections = append(sections, kind)
		for {
			a := p.parseAction(kind)
			if a == nil {
				return nil, nil, p.syntaxError()
			}
			acts = append(acts, a)
			if !p.at(tComma) {
				p.fail()
				break
			}
			p.pos++
		}
	}
}

func (p *parser) parseAction(kind ActionKind) *action {
	raw, ok := p.parsePath()
	if !ok {
		return nil
	}
	a := &action{kind: kind, raw: raw}
	switch kind {
	case ActionSet:
		if !p.accept(tEq) {
			return nil
		}
		a.val = p.parseSetValue()
		if a.val == nil {
			return nil
		}
	case ActionAdd, ActionDelete:
		t := p.peek()
		if t.kind != tValue {
			p.fail()
			return nil
		}
		p.pos++
		a.val = &operand{kind: opValue, ref: t.text}
	}
	return a
}

// parseSetValue reads the right side of a SET action:
// '(' inner ')' | inner, with inner = operand [('+'|'-') operand].
func (p *parser) parseSetValue() *operand {
	if p.at(tLParen) {
		save := p.pos
		p.pos++
		v := p.parseSetInner()
		if v != nil && p.accept(tRParen) {
			if v.kind == opPlus || v.kind == opMinus {
				return v
			}
			// "(a)" alone: one level of parentheses around an operand is
			// allowed; read it again as an operand so "(a) + b" works.
		}
		p.pos = save
	}
	return p.parseSetInner()
}

func (p *parser) parseSetInner() *operand {
	x := p.parseOperandParens()
	if x == nil {
		return nil
	}
	var kind operandKind
	switch p.peek().kind {
	case tPlus:
		kind = opPlus
	case tMinus:
		kind = opMinus
	default:
		p.fail()
		return x
	}
	save := p.pos
	p.pos++
	y := p.parseOperandParens()
	if y == nil {
		p.pos = save
		return x
	}
	return &operand{kind: kind, args: []*operand{x, y}}
}

// ---- projections ----

func parseProjectionTree(src string) ([][]rawElem, string) {
	p := newParser(src, gProjection)
	var paths [][]rawElem
	for {
		raw, ok := p.parsePath()
		if !ok {
			return nil, p.syntaxError()
		}
		paths = append(paths, raw)
		if p.at(tComma) {
			p.pos++
			continue
		}
		if !p.at(tEOF) {
			p.fail()
			return nil, p.syntaxError()
		}
		return paths, ""
	}
}
