package dataport

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eddydb/eddy/attr"
)

// Amazon Ion text, as DynamoDB's exports write it and its imports read it
// (developer guide, "DynamoDB table export output format", Ion section):
//
//	DynamoDB type   Ion
//	─────────────   ──────────────────────────────────
//	String (S)      string            "x"
//	Number (N)      decimal           103.  1.5  1d-5
//	Binary (B)      blob              {{aGk=}}
//	Boolean (BOOL)  bool              true
//	Null (NULL)     null              null
//	String set      annotated list    $dynamodb_SS::["a","b"]
//	Number set      annotated list    $dynamodb_NS::[1.,2.]
//	Binary set      annotated list    $dynamodb_BS::[{{YQ==}}]
//	List (L)        list              [..]
//	Map (M)         struct            {a:1.,"b c":"x"}
//
// A data file begins with the version marker $ion_1_0; each line holds one
// top-level struct, {Item:{...}} (incremental exports: {Keys:..,NewImage:..}).
//
// The reader here is the subset of the Ion text grammar those files use
// plus what a hand-written one would: ints (decimal, hex, binary, with
// underscores), decimals, floats (read as numbers), strings ("…", '''…'''),
// symbols (identifiers, '…'), annotations, blobs, typed nulls and comments.
// It reads one line at a time, so that a malformed line is one bad item and
// not the end of the file (as DynamoDB's imports count errors per item).

const ionVersionMarker = "$ion_1_0"

// appendIonItem appends {Item:{...}} (or the wrapper named by key) to dst.
func appendIonStruct(dst []byte, it attr.Item) []byte {
	dst = append(dst, '{')
	for i, name := range attr.SortedNames(it) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendIonFieldName(dst, name)
		dst = append(dst, ':')
		dst = appendIonValue(dst, it[name])
	}
	return append(dst, '}')
}

func appendIonFieldName(dst []byte, name string) []byte {
	if isIonIdentifier(name) {
		return append(dst, name...)
	}
	return appendIonString(dst, name)
}

func isIonIdentifier(s string) bool {
	if s == "" {
		return false
	}
	switch s {
	case "true", "false", "null", "nan":
		return false
	}
	if s[0] == '$' { // $ion_1_0 and $10 (a symbol ID) mean more than a name
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func appendIonString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, fmt.Sprintf("\\x%02x", c)...)
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// ionDecimal turns a canonical DynamoDB number into Ion decimal text: an
// integer gets a trailing '.', an exponent is written with 'd'.
func ionDecimalText(n string) string {
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		exp := strings.TrimPrefix(n[i+1:], "+")
		return n[:i] + "d" + exp
	}
	if !strings.Contains(n, ".") {
		return n + "."
	}
	return n
}

func appendIonValue(dst []byte, v attr.Value) []byte {
	switch v.Type() {
	case attr.TypeS:
		return appendIonString(dst, v.Str())
	case attr.TypeN:
		return append(dst, ionDecimalText(v.Str())...)
	case attr.TypeB:
		return appendIonBlob(dst, v.Bytes())
	case attr.TypeBOOL:
		return strconv.AppendBool(dst, v.BoolValue())
	case attr.TypeNULL:
		return append(dst, "null"...)
	case attr.TypeSS:
		dst = append(dst, "$dynamodb_SS::["...)
		for i, s := range v.Strings() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendIonString(dst, s)
		}
		return append(dst, ']')
	case attr.TypeNS:
		dst = append(dst, "$dynamodb_NS::["...)
		for i, s := range v.Strings() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, ionDecimalText(s)...)
		}
		return append(dst, ']')
	case attr.TypeBS:
		dst = append(dst, "$dynamodb_BS::["...)
		for i, b := range v.BytesSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendIonBlob(dst, b)
		}
		return append(dst, ']')
	case attr.TypeL:
		dst = append(dst, '[')
		for i, e := range v.List() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendIonValue(dst, e)
		}
		return append(dst, ']')
	case attr.TypeM:
		return appendIonStruct(dst, v.Map())
	}
	return append(dst, "null"...)
}

func appendIonBlob(dst, b []byte) []byte {
	dst = append(dst, "{{"...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, "}}"...)
}

// ionValue is a parsed Ion value: kind is one of the ionK constants.
type ionValue struct {
	kind        ionKind
	annotations []string
	text        string // string, symbol, number text (Ion syntax)
	b           []byte // blob
	bool        bool
	list        []ionValue
	fields      []ionField
}

type ionField struct {
	name string
	v    ionValue
}

type ionKind uint8

const (
	ionNull ionKind = iota
	ionBool
	ionInt
	ionDecimal
	ionFloat
	ionString
	ionSymbol
	ionBlob
	ionList
	ionStruct
	ionTimestamp
)

var errIon = errors.New("malformed Ion")

type ionParser struct {
	s   string
	pos int
}

func (p *ionParser) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errIon, p.pos, what)
}

func (p *ionParser) skipSpace() {
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.pos++
		case strings.HasPrefix(p.s[p.pos:], "//"):
			if i := strings.IndexByte(p.s[p.pos:], '\n'); i >= 0 {
				p.pos += i + 1
			} else {
				p.pos = len(p.s)
			}
		case strings.HasPrefix(p.s[p.pos:], "/*"):
			if i := strings.Index(p.s[p.pos+2:], "*/"); i >= 0 {
				p.pos += i + 4
			} else {
				p.pos = len(p.s)
			}
		default:
			return
		}
	}
}

// parseIonLine parses the top-level values of one line (a version marker
// is skipped) and returns them.
func parseIonLine(line string) ([]ionValue, error) {
	p := &ionParser{s: line}
	var out []ionValue
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return out, nil
		}
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		if v.kind == ionSymbol && len(v.annotations) == 0 && v.text == ionVersionMarker {
			continue
		}
		out = append(out, v)
	}
}

const ionMaxDepth = 64

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func (p *ionParser) value(depth int) (ionValue, error) {
	if depth > ionMaxDepth {
		return ionValue{}, p.fail("nested too deeply")
	}
	var anns []string
	for {
		p.skipSpace()
		save := p.pos
		sym, ok, err := p.symbolToken()
		if err != nil {
			return ionValue{}, err
		}
		if !ok {
			break
		}
		p.skipSpace()
		if strings.HasPrefix(p.s[p.pos:], "::") {
			p.pos += 2
			anns = append(anns, sym)
			continue
		}
		p.pos = save
		break
	}
	v, err := p.bare(depth)
	v.annotations = anns
	return v, err
}

// symbolToken reads an identifier or a quoted symbol ('…'), not a keyword
// followed by nothing special; ok is false (and nothing consumed) if the
// next token is not a symbol.
func (p *ionParser) symbolToken() (string, bool, error) {
	if p.pos >= len(p.s) {
		return "", false, nil
	}
	c := p.s[p.pos]
	if c == '\'' && !strings.HasPrefix(p.s[p.pos:], "'''") {
		s, err := p.quoted('\'')
		return s, err == nil, err
	}
	if !isIdentStart(c) {
		return "", false, nil
	}
	start := p.pos
	for p.pos < len(p.s) && isIdentPart(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos], true, nil
}

func (p *ionParser) bare(depth int) (ionValue, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return ionValue{}, p.fail("value expected")
	}
	c := p.s[p.pos]
	switch {
	case c == '"':
		s, err := p.quoted('"')
		return ionValue{kind: ionString, text: s}, err
	case strings.HasPrefix(p.s[p.pos:], "'''"):
		var b strings.Builder
		for strings.HasPrefix(p.s[p.pos:], "'''") {
			p.pos += 3
			end := strings.Index(p.s[p.pos:], "'''")
			if end < 0 {
				return ionValue{}, p.fail("unterminated long string")
			}
			s, err := unescapeIon(p.s[p.pos : p.pos+end])
			if err != nil {
				return ionValue{}, p.fail(err.Error())
			}
			b.WriteString(s)
			p.pos += end + 3
			p.skipSpace()
		}
		return ionValue{kind: ionString, text: b.String()}, nil
	case strings.HasPrefix(p.s[p.pos:], "{{"):
		p.pos += 2
		end := strings.Index(p.s[p.pos:], "}}")
		if end < 0 {
			return ionValue{}, p.fail("unterminated blob")
		}
		raw := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, p.s[p.pos:p.pos+end])
		p.pos += end + 2
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return ionValue{}, p.fail("bad blob")
		}
		return ionValue{kind: ionBlob, b: b}, nil
	case c == '{':
		p.pos++
		v := ionValue{kind: ionStruct}
		for {
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == '}' {
				p.pos++
				return v, nil
			}
			var name string
			if p.pos < len(p.s) && p.s[p.pos] == '"' {
				s, err := p.quoted('"')
				if err != nil {
					return v, err
				}
				name = s
			} else {
				s, ok, err := p.symbolToken()
				if err != nil {
					return v, err
				}
				if !ok {
					return v, p.fail("field name expected")
				}
				name = s
			}
			p.skipSpace()
			if p.pos >= len(p.s) || p.s[p.pos] != ':' {
				return v, p.fail("':' expected")
			}
			p.pos++
			fv, err := p.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.fields = append(v.fields, ionField{name, fv})
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
			} else if p.pos >= len(p.s) || p.s[p.pos] != '}' {
				return v, p.fail("',' or '}' expected")
			}
		}
	case c == '[':
		p.pos++
		v := ionValue{kind: ionList}
		for {
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == ']' {
				p.pos++
				return v, nil
			}
			e, err := p.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.list = append(v.list, e)
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
			} else if p.pos >= len(p.s) || p.s[p.pos] != ']' {
				return v, p.fail("',' or ']' expected")
			}
		}
	case c == '\'':
		s, err := p.quoted('\'')
		return ionValue{kind: ionSymbol, text: s}, err
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.number()
	case isIdentStart(c):
		s, _, _ := p.symbolToken()
		switch s {
		case "true", "false":
			return ionValue{kind: ionBool, bool: s == "true"}, nil
		case "null":
			if p.pos < len(p.s) && p.s[p.pos] == '.' { // null.string etc.
				p.pos++
				_, _, _ = p.symbolToken()
			}
			return ionValue{kind: ionNull}, nil
		case "nan":
			return ionValue{kind: ionFloat, text: "nan"}, nil
		}
		return ionValue{kind: ionSymbol, text: s}, nil
	}
	return ionValue{}, p.fail(fmt.Sprintf("unexpected %q", c))
}

func (p *ionParser) number() (ionValue, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == '_' || c == 'e' || c == 'E' ||
			c == 'd' || c == 'D' || c == 'x' || c == 'X' || c == 'b' || c == 'B' || (c >= 'a' && c <= 'f') ||
			(c >= 'A' && c <= 'F') || c == 'T' || c == ':' || c == 'Z' {
			p.pos++
			continue
		}
		break
	}
	t := p.s[start:p.pos]
	switch {
	case t == "+inf" || t == "-inf" || strings.HasPrefix(p.s[start:], "+inf") || strings.HasPrefix(p.s[start:], "-inf"):
		return ionValue{kind: ionFloat, text: "inf"}, nil
	case strings.ContainsAny(t, "T:Z") || (len(t) >= 5 && t[4] == '-' && !strings.HasPrefix(t, "-")):
		return ionValue{kind: ionTimestamp, text: t}, nil
	}
	t = strings.ReplaceAll(t, "_", "")
	low := strings.ToLower(strings.TrimLeft(t, "-"))
	if strings.HasPrefix(low, "0x") || strings.HasPrefix(low, "0b") {
		n, ok := new(bigInt).SetString(t)
		if !ok {
			return ionValue{}, p.fail("bad integer " + t)
		}
		return ionValue{kind: ionInt, text: n}, nil
	}
	switch {
	case strings.ContainsAny(t, "eE"):
		return ionValue{kind: ionFloat, text: t}, nil
	case strings.ContainsAny(t, "dD."):
		return ionValue{kind: ionDecimal, text: t}, nil
	}
	return ionValue{kind: ionInt, text: t}, nil
}

// bigInt parses a hex or binary Ion int into decimal text.
type bigInt struct{}

func (bigInt) SetString(t string) (string, bool) {
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	base := 16
	if t[1] == 'b' || t[1] == 'B' {
		base = 2
	}
	n, err := strconv.ParseUint(t[2:], base, 64)
	if err != nil {
		return "", false
	}
	s := strconv.FormatUint(n, 10)
	if neg {
		s = "-" + s
	}
	return s, true
}

func (p *ionParser) quoted(q byte) (string, error) {
	p.pos++ // the opening quote
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '\\' {
			p.pos += 2
			continue
		}
		if c == q {
			s, err := unescapeIon(p.s[start:p.pos])
			p.pos++
			if err != nil {
				return "", p.fail(err.Error())
			}
			return s, nil
		}
		p.pos++
	}
	return "", p.fail("unterminated string")
}

func unescapeIon(s string) (string, error) {
	if !strings.Contains(s, "\\") {
		if !utf8.ValidString(s) {
			return "", errors.New("invalid UTF-8")
		}
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("bad escape")
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'v':
			b.WriteByte(11)
		case 'f':
			b.WriteByte(12)
		case '"', '\'', '\\', '/', '?':
			b.WriteByte(s[i])
		case '\n':
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+1+n > len(s) {
				return "", errors.New("bad escape")
			}
			r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil {
				return "", errors.New("bad escape")
			}
			b.WriteRune(rune(r))
			i += n
		default:
			return "", errors.New("bad escape")
		}
	}
	return b.String(), nil
}

// ionToAttr converts a parsed Ion value into a DynamoDB attribute value by
// the table above; numbers are checked as DynamoDB checks them.
func ionToAttr(v ionValue) (attr.Value, error) {
	if len(v.annotations) > 0 && v.kind == ionList {
		switch v.annotations[0] {
		case "$dynamodb_SS":
			ss := make([]string, 0, len(v.list))
			for _, e := range v.list {
				if e.kind != ionString && e.kind != ionSymbol {
					return attr.Value{}, errors.New("a $dynamodb_SS element is not a string")
				}
				ss = append(ss, e.text)
			}
			return checkSet(attr.SS(dedupe(ss)))
		case "$dynamodb_NS":
			ns := make([]string, 0, len(v.list))
			for _, e := range v.list {
				n, err := ionNumber(e)
				if err != nil {
					return attr.Value{}, err
				}
				ns = append(ns, n.Str())
			}
			return checkSet(attr.NS(dedupe(ns)))
		case "$dynamodb_BS":
			bs := make([][]byte, 0, len(v.list))
			seen := map[string]bool{}
			for _, e := range v.list {
				if e.kind != ionBlob {
					return attr.Value{}, errors.New("a $dynamodb_BS element is not a blob")
				}
				if !seen[string(e.b)] {
					seen[string(e.b)] = true
					bs = append(bs, e.b)
				}
			}
			return checkSet(attr.BS(bs))
		}
	}
	switch v.kind {
	case ionNull:
		return attr.Null(), nil
	case ionBool:
		return attr.Bool(v.bool), nil
	case ionInt, ionDecimal, ionFloat:
		return ionNumber(v)
	case ionString, ionSymbol:
		return attr.S(v.text), nil
	case ionTimestamp:
		return attr.S(v.text), nil
	case ionBlob:
		return attr.B(v.b), nil
	case ionList:
		l := make([]attr.Value, 0, len(v.list))
		for _, e := range v.list {
			a, err := ionToAttr(e)
			if err != nil {
				return attr.Value{}, err
			}
			l = append(l, a)
		}
		return attr.L(l), nil
	case ionStruct:
		m, err := ionStructToItem(v)
		return attr.M(m), err
	}
	return attr.Value{}, errors.New("unsupported Ion value")
}

func ionStructToItem(v ionValue) (attr.Item, error) {
	if v.kind != ionStruct {
		return nil, errors.New("a struct is expected")
	}
	m := make(attr.Item, len(v.fields))
	for _, f := range v.fields {
		a, err := ionToAttr(f.v)
		if err != nil {
			return nil, err
		}
		m[f.name] = a
	}
	return m, nil
}

func ionNumber(v ionValue) (attr.Value, error) {
	switch v.kind {
	case ionInt, ionDecimal, ionFloat:
	default:
		return attr.Value{}, errors.New("a number is expected")
	}
	if v.text == "nan" || v.text == "inf" {
		return attr.Value{}, errors.New("NaN and infinity are not DynamoDB numbers")
	}
	t := strings.NewReplacer("d", "E", "D", "E").Replace(v.text)
	t = strings.TrimSuffix(t, ".")
	t = strings.Replace(t, ".E", "E", 1)
	n, err := attr.ParseNumber(t)
	if err != nil {
		return attr.Value{}, err
	}
	return attr.NumberValue(n), nil
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func checkSet(v attr.Value) (attr.Value, error) {
	if v.SetLen() == 0 {
		return attr.Value{}, errors.New("an empty set is not allowed")
	}
	return v, nil
}
