package partiql

import (
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store/expr"
)

// MaxStatementBytes is DynamoDB's limit on the length of a statement.
const MaxStatementBytes = 8192

// maxDepth bounds the nesting of expressions and literals.
const maxDepth = 64

// Syntax error details, as DynamoDB words them after "Statement wasn't well
// formed, can't be processed: ".
const (
	msgLeftover      = "Unexpected token after expression"
	msgTerm          = "Unexpected term"
	msgKeyword       = "Unexpected keyword"
	msgOperator      = "Unexpected operator"
	msgInfix         = "Missing right-hand side expression of infix operator"
	msgDML           = "Expected data manipulation"
	msgSimplePath    = "Expected identifier for simple path"
	msgPathComponent = "Unexpected path component"
)

// Malformed returns DynamoDB's syntax error for a statement.
func Malformed(detail string) *ddberr.Error {
	return ddberr.Validationf("%s", "Statement wasn't well formed, can't be processed: "+detail)
}

type parseError struct{ err *ddberr.Error }

type parser struct {
	toks   []token
	i      int
	params int
	depth  int
}

// Parse parses one statement. Every error is a *ddberr.Error
// ValidationException.
func Parse(src string) (st *Statement, err error) {
	p := &parser{toks: lex(src)}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			st, err = nil, pe.err
		}
	}()
	st = p.statement()
	p.accept(tPunct, ";")
	if p.peek().kind != tEOF {
		p.fail(p.leftover())
	}
	st.Params = p.params
	return st, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(msg string) { panic(parseError{Malformed(msg)}) }

func (p *parser) failPlain(e *ddberr.Error) { panic(parseError{e}) }

// leftover is the message for a token where the statement should end.
func (p *parser) leftover() string {
	if p.peek().kind == tBad {
		return ""
	}
	return msgLeftover
}

func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) accept(k tokKind, text string) bool {
	t := p.peek()
	if t.kind == k && t.text == text {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) {
	if !p.acceptKw(kw) {
		p.fail(p.unexpected())
	}
}

func (p *parser) expect(k tokKind, text string) {
	if !p.accept(k, text) {
		p.fail(p.unexpected())
	}
}

// unexpected is the message for a token where a term should start.
func (p *parser) unexpected() string {
	t := p.peek()
	switch t.kind {
	case tBad:
		return ""
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "LIKE", "AND", "OR", "IN", "IS", "BETWEEN":
			return msgOperator
		}
		if isKeyword(t.text) {
			return msgKeyword
		}
		return msgLeftover
	case tOp, tBagClose:
		return msgOperator
	case tPunct:
		if t.text == "+" || t.text == "-" || t.text == "*" {
			return msgOperator
		}
	}
	return msgTerm
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failPlain(ddberr.Validationf("Statement wasn't well formed, can't be processed: Nesting too deep"))
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) statement() *Statement {
	switch {
	case p.acceptKw("SELECT"):
		return p.selectRest()
	case p.acceptKw("INSERT"):
		return p.insert()
	case p.acceptKw("UPDATE"):
		return p.update()
	case p.acceptKw("DELETE"):
		return p.delete()
	case p.acceptKw("EXISTS"):
		p.expect(tPunct, "(")
		p.expectKw("SELECT")
		st := p.selectRest()
		p.expect(tPunct, ")")
		st.Kind = Exists
		return st
	}
	if p.peek().kind == tBad {
		p.fail("")
	}
	p.fail(msgDML)
	return nil
}

// name reads a table or index name: a quoted or bare identifier.
func (p *parser) name(missing string) string {
	t := p.peek()
	if t.kind == tQuoted || (t.kind == tIdent && !isKeyword(t.text)) {
		p.i++
		return t.text
	}
	if t.kind == tBad {
		p.fail("")
	}
	p.fail(missing)
	return ""
}

// noAlias rejects a table alias.
func (p *parser) noAlias() {
	t := p.peek()
	if p.isKw("AS") || t.kind == tQuoted || (t.kind == tIdent && !isKeyword(t.text)) {
		p.failPlain(ddberr.Validationf("Aliasing is not supported"))
	}
}

func (p *parser) selectRest() *Statement {
	st := &Statement{Kind: Select}
	if p.accept(tPunct, "*") {
		st.Star = true
	} else {
		for {
			st.Projection = append(st.Projection, p.pathOnly())
			if !p.accept(tPunct, ",") {
				break
			}
		}
	}
	if !p.acceptKw("FROM") {
		p.fail(p.unexpected())
	}
	st.Table = p.name(msgTerm)
	indexed := p.accept(tPunct, ".")
	if indexed {
		st.Index = p.name(msgSimplePath)
		if p.accept(tPunct, ".") {
			p.failPlain(ddberr.Validationf("A path may contain at most 2 components in the FROM clause"))
		}
	}
	if st.Table == "" || (indexed && st.Index == "") {
		p.failPlain(ddberr.Validationf("Path component cannot be an empty string"))
	}
	p.noAlias()
	if p.acceptKw("WHERE") {
		st.Where = p.cond()
	}
	if p.isKw("ORDER") && st.Where != nil {
		p.i++
		p.expectKw("BY")
		st.OrderBy = p.pathOnly()
		if !p.acceptKw("ASC") && p.acceptKw("DESC") {
			st.Desc = true
		}
	}
	return st
}

// indexQualifier parses the "."index an UPDATE or DELETE may carry after
// its table; DynamoDB accepts it grammatically and refuses the statement
// when it runs.
func (p *parser) indexQualifier(st *Statement) {
	if p.accept(tPunct, ".") {
		st.Index = p.name(msgSimplePath)
	}
}

func (p *parser) insert() *Statement {
	p.expectKw("INTO")
	st := &Statement{Kind: Insert}
	st.Table = p.name(msgSimplePath)
	// Unlike UPDATE and DELETE, INSERT does not parse an index qualifier.
	if p.accept(tPunct, ".") {
		p.failPlain(ddberr.Validationf("FROM clause may only contain a single table name in data manipulation statements"))
	}
	if !p.acceptKw("VALUE") {
		p.fail(p.unexpected())
	}
	st.Value = p.primary()
	return st
}

func (p *parser) update() *Statement {
	st := &Statement{Kind: Update}
	st.Table = p.name(msgSimplePath)
	p.indexQualifier(st)
	p.noAlias()
	n := 0
	for {
		switch {
		case p.acceptKw("SET"):
			for {
				path := p.pathOnly()
				p.expect(tOp, "=")
				st.Sets = append(st.Sets, Assign{Path: path, Value: p.additive()})
				if !p.accept(tPunct, ",") {
					break
				}
			}
		case p.acceptKw("REMOVE"):
			for {
				st.Removes = append(st.Removes, p.pathOnly())
				if !p.accept(tPunct, ",") {
					break
				}
			}
		default:
			if n == 0 {
				p.fail(p.unexpected())
			}
			if p.acceptKw("WHERE") {
				st.Where = p.cond()
			}
			st.Returning = p.returning()
			return st
		}
		n++
	}
}

// returning reads an optional RETURNING (ALL|MODIFIED) (OLD|NEW) * clause.
func (p *parser) returning() string {
	if !p.acceptKw("RETURNING") {
		return ""
	}
	var which, when string
	switch {
	case p.acceptKw("ALL"):
		which = "ALL"
	case p.acceptKw("MODIFIED"):
		which = "MODIFIED"
	default:
		p.fail(p.unexpected())
	}
	switch {
	case p.acceptKw("OLD"):
		when = "OLD"
	case p.acceptKw("NEW"):
		when = "NEW"
	default:
		p.fail(p.unexpected())
	}
	p.expect(tPunct, "*")
	return which + " " + when
}

func (p *parser) delete() *Statement {
	p.expectKw("FROM")
	st := &Statement{Kind: Delete}
	st.Table = p.name(msgSimplePath)
	p.indexQualifier(st)
	p.noAlias()
	if p.acceptKw("WHERE") {
		st.Where = p.cond()
	}
	st.Returning = p.returning()
	if st.Returning != "" && st.Returning != "ALL OLD" {
		p.failPlain(ddberr.Validationf("Invalid returning clause: RETURNING %s *. Only RETURNING ALL OLD * is allowed in DELETE statements.", st.Returning))
	}
	return st
}

// pathOnly reads a document path where nothing else may stand.
func (p *parser) pathOnly() expr.Path {
	t := p.peek()
	if t.kind == tQuoted || (t.kind == tIdent && !isKeyword(t.text)) {
		p.i++
		return p.pathRest(t.text)
	}
	p.fail(p.unexpected())
	return nil
}

func (p *parser) pathRest(first string) expr.Path {
	path := expr.Path{{Name: first, Index: -1}}
	for {
		switch {
		case p.accept(tPunct, "."):
			t := p.next()
			if t.kind != tQuoted && t.kind != tIdent {
				p.i--
				p.fail(msgPathComponent)
			}
			path = append(path, expr.PathElem{Name: t.text, Index: -1})
		case p.accept(tPunct, "["):
			t := p.next()
			switch t.kind {
			case tNumber:
				n, err := strconv.Atoi(t.text)
				if err != nil || n < 0 {
					p.fail(msgPathComponent)
				}
				path = append(path, expr.PathElem{Index: n})
			case tString:
				path = append(path, expr.PathElem{Name: t.text, Index: -1})
			default:
				p.i--
				p.fail(msgPathComponent)
			}
			p.expect(tPunct, "]")
		default:
			return path
		}
	}
}

// cond := or.
func (p *parser) cond() Expr {
	if p.peek().kind == tEOF || (p.peek().kind == tPunct && p.peek().text == ";") {
		p.fail(msgTerm)
	}
	return p.or()
}

func (p *parser) rhs() {
	t := p.peek()
	if t.kind == tEOF || (t.kind == tPunct && (t.text == ";" || t.text == ")")) {
		p.fail(msgInfix)
	}
}

func (p *parser) or() Expr {
	l := p.and()
	for p.acceptKw("OR") {
		p.rhs()
		l = &Binary{Op: "OR", L: l, R: p.and()}
	}
	return l
}

func (p *parser) and() Expr {
	l := p.not()
	for p.acceptKw("AND") {
		p.rhs()
		l = &Binary{Op: "AND", L: l, R: p.not()}
	}
	return l
}

func (p *parser) not() Expr {
	if p.acceptKw("NOT") {
		p.enter()
		defer p.leave()
		if p.peek().kind == tEOF {
			p.fail(msgTerm)
		}
		return &Not{X: p.not()}
	}
	return p.predicate()
}

func (p *parser) predicate() Expr {
	l := p.additive()
	if t := p.peek(); t.kind == tOp {
		p.i++
		p.rhs()
		return &Binary{Op: t.text, L: l, R: p.additive()}
	}
	neg := false
	if p.isKw("NOT") && p.i+1 < len(p.toks) {
		nt := p.toks[p.i+1]
		if nt.kind == tIdent && (strings.EqualFold(nt.text, "BETWEEN") || strings.EqualFold(nt.text, "IN")) {
			p.i++
			neg = true
		}
	}
	switch {
	case p.acceptKw("BETWEEN"):
		lo := p.additive()
		p.expectKw("AND")
		hi := p.additive()
		return &Between{X: l, Lo: lo, Hi: hi, Neg: neg}
	case p.acceptKw("IN"):
		var closer string
		switch {
		case p.accept(tPunct, "["):
			closer = "]"
		case p.accept(tPunct, "("):
			closer = ")"
		default:
			p.fail(p.unexpected())
		}
		in := &In{X: l, Neg: neg}
		for {
			in.List = append(in.List, p.additive())
			if !p.accept(tPunct, ",") {
				break
			}
		}
		p.expect(tPunct, closer)
		return in
	case p.acceptKw("IS"):
		is := &Is{X: l, Neg: p.acceptKw("NOT")}
		switch {
		case p.acceptKw("MISSING"):
			is.What = "MISSING"
		case p.acceptKw("NULL"):
			is.What = "NULL"
		default:
			p.fail("Expected type name")
		}
		return is
	}
	return l
}

func (p *parser) additive() Expr {
	l := p.primary()
	for {
		t := p.peek()
		if t.kind != tPunct || (t.text != "+" && t.text != "-") {
			return l
		}
		p.i++
		p.rhs()
		l = &Binary{Op: t.text, L: l, R: p.primary()}
	}
}

func (p *parser) primary() Expr {
	p.enter()
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tString:
		p.i++
		return &Lit{V: attr.S(t.text)}
	case tNumber:
		p.i++
		return &Lit{Num: t.text}
	case tParam:
		p.i++
		p.params++
		return &Param{N: p.params - 1}
	case tQuoted:
		p.i++
		return &Path{P: p.pathRest(t.text)}
	case tBagOpen:
		p.i++
		b := &Bag{}
		if !p.accept(tBagClose, ">>") {
			for {
				b.Elems = append(b.Elems, p.primary())
				if !p.accept(tPunct, ",") {
					break
				}
			}
			p.expect(tBagClose, ">>")
		}
		return b
	case tPunct:
		switch t.text {
		case "(":
			p.i++
			e := p.or()
			p.expect(tPunct, ")")
			return e
		case "{":
			p.i++
			tu := &Tuple{}
			if !p.accept(tPunct, "}") {
				for {
					k := p.next()
					if k.kind != tString {
						p.i--
						p.fail(p.unexpected())
					}
					p.expect(tPunct, ":")
					tu.Keys = append(tu.Keys, k.text)
					tu.Vals = append(tu.Vals, p.primary())
					if !p.accept(tPunct, ",") {
						break
					}
				}
				p.expect(tPunct, "}")
			}
			return tu
		case "[":
			p.i++
			l := &List{}
			if !p.accept(tPunct, "]") {
				for {
					l.Elems = append(l.Elems, p.primary())
					if !p.accept(tPunct, ",") {
						break
					}
				}
				p.expect(tPunct, "]")
			}
			return l
		case "-", "+":
			if n := p.toks[p.i+1]; n.kind == tNumber {
				p.i += 2
				if t.text == "-" {
					return &Lit{Num: "-" + n.text}
				}
				return &Lit{Num: n.text}
			}
		}
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.i++
			return &Lit{V: attr.Bool(strings.EqualFold(t.text, "TRUE"))}
		case "NULL":
			p.i++
			return &Lit{V: attr.Null()}
		case "MISSING":
			p.i++
			return &Lit{Missing: true}
		}
		if isKeyword(t.text) {
			break
		}
		p.i++
		if p.accept(tPunct, "(") {
			c := &Call{Name: strings.ToLower(t.text)}
			if !p.accept(tPunct, ")") {
				for {
					c.Args = append(c.Args, p.additive())
					if !p.accept(tPunct, ",") {
						break
					}
				}
				p.expect(tPunct, ")")
			}
			return c
		}
		return &Path{P: p.pathRest(t.text)}
	}
	p.fail(p.unexpected())
	return nil
}
