package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/numeric"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/eddydb/eddy/outbox"
)

// kind is the set of value kinds a field path has held, persisted as the
// index's mapping.
type kind uint8

const (
	kText kind = 1 << iota
	kNumber
	kDate
	kBool
	kObject
)

// Field indexing options (see the package doc's table).
const (
	optText    = index.IndexField | index.IncludeTermVectors
	optKeyword = index.IndexField | index.DocValues | index.SkipFreqNorm
	optValue   = index.IndexField | index.DocValues | index.SkipFreqNorm
	optMeta    = index.IndexField | index.StoreField | index.DocValues
	optTomb    = index.IndexField | index.StoreField
	optPath    = index.IndexField | index.SkipFreqNorm
	optSource  = index.StoreField
)

// built is one document ready for a bleve batch.
type built struct {
	doc *document.Document
}

// errRejected marks a body the index refuses for good.
var errRejected = errors.New("mapper_parsing_exception")

func reject(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRejected, fmt.Sprintf(format, args...))
}

// build turns d into its bleve document. Paths new to the mapping are added
// to newFields (the batch's additions), unless they would exceed the field
// limit, which rejects d.
func (x *Index) build(d *outbox.Doc, newFields map[string]kind) (*built, error) {
	if d.ID == "" {
		return nil, reject("the document has no ID")
	}
	doc := document.NewDocument(d.ID)
	doc.AddField(document.NewTextFieldCustom(fieldVer, nil, []byte(formatVer(d.Version)), optMeta, x.keyword))
	switch d.Op {
	case outbox.OpDelete:
		doc.AddField(document.NewTextFieldCustom(fieldTomb, nil, []byte("T"), optTomb, x.keyword))
		return &built{doc: doc}, nil
	case outbox.OpIndex:
	default:
		return nil, reject("unknown op %q", d.Op)
	}
	if !json.Valid(d.Body) {
		return nil, reject("the body is not valid JSON")
	}
	w := walker{x: x, src: d.Body, doc: doc, paths: map[string]kind{}}
	w.ws()
	if w.pos >= len(w.src) || w.src[w.pos] != '{' {
		return nil, reject("the body is not a JSON object")
	}
	if err := w.object("", nil, 1); err != nil {
		return nil, err
	}

	x.fmu.RLock()
	total := len(x.fields) // distinct paths with this document
	for p := range newFields {
		if _, ok := x.fields[p]; !ok {
			total++
		}
	}
	for p := range w.paths {
		if _, ok := x.fields[p]; ok {
			continue
		}
		if _, ok := newFields[p]; !ok {
			total++
		}
	}
	var add map[string]kind
	for p, k := range w.paths {
		if x.fields[p]&k != k {
			if add == nil {
				add = map[string]kind{}
			}
			add[p] = k
		}
	}
	x.fmu.RUnlock()
	if total > x.maxFields {
		return nil, reject("Limit of total fields [%d] has been exceeded", x.maxFields)
	}
	for p, k := range add {
		newFields[p] |= k
	}

	doc.AddField(document.NewTextFieldCustom(fieldSource, nil, d.Body, optSource, x.keyword))
	for p := range w.paths {
		doc.AddField(document.NewTextFieldCustom(fieldPaths, nil, []byte(p), optPath, x.keyword))
	}
	return &built{doc: doc}, nil
}

// walker adds the fields of a JSON body (already validated) to doc.
type walker struct {
	x     *Index
	src   []byte
	pos   int
	doc   *document.Document
	paths map[string]kind
}

func (w *walker) ws() {
	for w.pos < len(w.src) {
		switch w.src[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object reads {...} at w.pos.
func (w *walker) object(path string, ap []uint64, depth int) error {
	if depth > maxDepth {
		return reject("the body is nested deeper than %d levels", maxDepth)
	}
	w.pos++ // {
	for {
		w.ws()
		if w.src[w.pos] == '}' {
			w.pos++
			return nil
		}
		if w.src[w.pos] == ',' {
			w.pos++
			w.ws()
		}
		key, err := w.str()
		if err != nil {
			return err
		}
		if key == "" {
			return reject("field name cannot be an empty string")
		}
		if path == "" && (key == "_id" || key == "_eddy" || strings.HasPrefix(key, "_eddy.")) {
			return reject("field [%s] is a metadata field and cannot be added inside a document", key)
		}
		w.ws()
		w.pos++ // :
		w.ws()
		if err := w.value(join(path, key), ap, depth); err != nil {
			return err
		}
	}
}

// value reads one value at w.pos and indexes it under path.
func (w *walker) value(path string, ap []uint64, depth int) error {
	switch c := w.src[w.pos]; {
	case c == '{':
		w.paths[path] |= kObject
		return w.object(path, ap, depth+1)
	case c == '[':
		return w.array(path, ap, depth+1)
	case c == '"':
		s, err := w.strBytes()
		if err != nil {
			return err
		}
		w.text(path, ap, s)
	case c == 't':
		w.pos += 4
		w.paths[path] |= kBool
		w.doc.AddField(document.NewBooleanFieldWithIndexingOptions(path, ap, true, optValue))
	case c == 'f':
		w.pos += 5
		w.paths[path] |= kBool
		w.doc.AddField(document.NewBooleanFieldWithIndexingOptions(path, ap, false, optValue))
	case c == 'n':
		w.pos += 4 // null: not indexed
	default:
		start := w.pos
		for w.pos < len(w.src) {
			c := w.src[w.pos]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				w.pos++
				continue
			}
			break
		}
		raw := w.src[start:w.pos:w.pos]
		w.paths[path] |= kNumber
		w.doc.AddField(document.NewTextFieldCustom(path+".keyword", ap, raw, optKeyword, w.x.keyword))
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && !math.IsInf(f, 0) {
			w.doc.AddField(newNumField(path, ap, numeric.Float64ToInt64(f), optValue))
		}
	}
	return nil
}

func (w *walker) array(path string, ap []uint64, depth int) error {
	if depth > maxDepth {
		return reject("the body is nested deeper than %d levels", maxDepth)
	}
	w.pos++ // [
	for i := uint64(0); ; i++ {
		w.ws()
		if w.src[w.pos] == ']' {
			w.pos++
			return nil
		}
		if w.src[w.pos] == ',' {
			w.pos++
			w.ws()
		}
		eap := make([]uint64, len(ap)+1)
		copy(eap, ap)
		eap[len(ap)] = i
		if err := w.value(path, eap, depth); err != nil {
			return err
		}
	}
}

// text indexes the string s under path: analyzed, as a keyword and, in
// RFC 3339 form, as a date.
func (w *walker) text(path string, ap []uint64, s []byte) {
	k := kText
	// The lowercase filter works in place: the text field gets its own
	// copy, so the keyword field and the stored body keep the original.
	w.doc.AddField(document.NewTextFieldCustom(path, ap, append([]byte(nil), s...), optText, w.x.text))
	if len(s) <= keywordMax {
		w.doc.AddField(document.NewTextFieldCustom(path+".keyword", ap, s, optKeyword, w.x.keyword))
	}
	if t, ok := parseRFC3339(s); ok {
		if v, ok := dateValue(t); ok {
			k |= kDate
			w.doc.AddField(newNumField(path, ap, v, optValue))
		}
	}
	w.paths[path] |= k
}

// parseRFC3339 recognises "2006-01-02T15:04:05[.frac](Z|±hh:mm)".
func parseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < 20 || len(s) > 35 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	return t, err == nil
}

// str reads a JSON string at w.pos as a Go string.
func (w *walker) str() (string, error) {
	b, err := w.strBytes()
	return string(b), err
}

// strBytes reads a JSON string at w.pos; without escapes it is a slice of
// the body, with them a decoded copy.
func (w *walker) strBytes() ([]byte, error) {
	start := w.pos
	w.pos++ // "
	escaped := false
	for w.pos < len(w.src) {
		switch w.src[w.pos] {
		case '\\':
			escaped = true
			w.pos += 2
			continue
		case '"':
			w.pos++
			if !escaped {
				return w.src[start+1 : w.pos-1 : w.pos-1], nil
			}
			var s string
			if err := json.Unmarshal(w.src[start:w.pos], &s); err != nil {
				return nil, reject("bad string at offset %d: %v", start, err)
			}
			return []byte(s), nil
		}
		w.pos++
	}
	return nil, reject("unterminated string at offset %d", start)
}
