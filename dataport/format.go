package dataport

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/eddydb/eddy/attr"
)

// Export and import formats (ExportFormat, InputFormat).
const (
	FormatDynamoDBJSON = "DYNAMODB_JSON"
	FormatIon          = "ION"
	FormatCSV          = "CSV"
)

// appendItemLine appends one data-file line holding a full export's item,
// from its stored encoding: {"Item":{...}} or, in Ion, {Item:{...}}.
func appendItemLine(dst []byte, format string, raw []byte) ([]byte, error) {
	if format == FormatIon {
		it, err := attr.DecodeBinary(raw)
		if err != nil {
			return dst, err
		}
		dst = append(dst, "{Item:"...)
		dst = appendIonStruct(dst, it)
		return append(dst, "}\n"...), nil
	}
	dst = append(dst, `{"Item":`...)
	dst, err := attr.AppendJSONFromStored(dst, raw)
	if err != nil {
		return dst, err
	}
	return append(dst, "}\n"...), nil
}

// Change is one item's change in an incremental export: its keys, its
// image after (nil when deleted) and before (nil when created or when the
// view type is NEW_IMAGE), and when it was written.
type Change struct {
	Keys, New, Old attr.Item
	WriteMicros    int64
}

// Incremental export view types (IncrementalExportSpecification.ExportViewType).
const (
	ViewNewAndOld = "NEW_AND_OLD_IMAGES"
	ViewNew       = "NEW_IMAGE"
)

// appendChangeLine appends one incremental export line, as the developer
// guide's "Incremental export output" shows:
//
//	{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000000"}},"Keys":{...},"NewImage":{...},"OldImage":{...}}
//
// NewImage is absent for a deletion; OldImage only with NEW_AND_OLD_IMAGES,
// and absent for a creation.
func appendChangeLine(dst []byte, format, view string, c Change) []byte {
	ts := fmt.Sprint(c.WriteMicros)
	if format == FormatIon {
		dst = append(dst, "{Metadata:{WriteTimestampMicros:"...)
		dst = append(dst, ionDecimalText(ts)...)
		dst = append(dst, "},Keys:"...)
		dst = appendIonStruct(dst, c.Keys)
		if c.New != nil {
			dst = append(dst, ",NewImage:"...)
			dst = appendIonStruct(dst, c.New)
		}
		if view == ViewNewAndOld && c.Old != nil {
			dst = append(dst, ",OldImage:"...)
			dst = appendIonStruct(dst, c.Old)
		}
		return append(dst, "}\n"...)
	}
	dst = append(dst, `{"Metadata":{"WriteTimestampMicros":{"N":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `"}},"Keys":`...)
	dst = attr.AppendItemJSON(dst, c.Keys)
	if c.New != nil {
		dst = append(dst, `,"NewImage":`...)
		dst = attr.AppendItemJSON(dst, c.New)
	}
	if view == ViewNewAndOld && c.Old != nil {
		dst = append(dst, `,"OldImage":`...)
		dst = attr.AppendItemJSON(dst, c.Old)
	}
	return append(dst, "}\n"...)
}

// decodeJSONLine decodes one DynamoDB JSON import line: {"Item":{...}}.
// The common well-formed line takes attr's request scanner (api's PutItem
// fast path); anything else is decoded by encoding/json, which words the
// error.
func decodeJSONLine(line []byte) (attr.Item, error) {
	if it := scanJSONLine(line); it != nil {
		return it, nil
	}
	var v struct {
		Item map[string]attr.Value `json:"Item"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("Unexpected token in the item: %v", err)
	}
	if dec.More() {
		return nil, errors.New("Unexpected content after the item")
	}
	if v.Item == nil {
		return nil, errors.New(`The item is not wrapped in {"Item": ...}`)
	}
	return v.Item, nil
}

// decodeIonLine decodes one Ion import line: {Item:{...}} (a leading
// $ion_1_0 is skipped). A line holding only the version marker or comments
// is no item (nil, nil).
func decodeIonLine(line []byte) (attr.Item, error) {
	vals, err := parseIonLine(string(line))
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, errors.New("more than one value on the line")
	}
	v := vals[0]
	if v.kind != ionStruct {
		return nil, errors.New("the line is not a struct")
	}
	for _, f := range v.fields {
		if f.name == "Item" {
			return ionStructToItem(f.v)
		}
	}
	return nil, errors.New("The item is not wrapped in {Item: ...}")
}

// csvReader reads CSV import rows into items: the header (the first row,
// or InputFormatOptions.Csv.HeaderList) names the attributes; every value
// is a String except the table's key attributes, which take the type of
// their attribute definition (developer guide, "Amazon S3 import formats
// for DynamoDB": CSV). An empty cell is no attribute.
type csvReader struct {
	r      *csv.Reader
	header []string
	keys   map[string]attr.Type
	line   int
}

func newCSVReader(r io.Reader, delim rune, header []string, keys map[string]attr.Type) (*csvReader, error) {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	c := &csvReader{r: cr, header: header, keys: keys}
	if c.header == nil {
		rec, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return c, nil
			}
			return nil, err
		}
		c.header = append([]string(nil), rec...)
		if len(c.header) > 0 {
			c.header[0] = strings.TrimPrefix(c.header[0], "\ufeff")
		}
	}
	return c, nil
}

// next returns the next row's item, or an error for that row alone, or
// io.EOF.
func (c *csvReader) next() (attr.Item, error) {
	rec, err := c.r.Read()
	if err != nil {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return nil, rowError{fmt.Sprintf("malformed CSV row: %v", perr.Err)}
		}
		return nil, err
	}
	if len(rec) != len(c.header) {
		return nil, rowError{fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(c.header))}
	}
	it := make(attr.Item, len(rec))
	for i, s := range rec {
		if s == "" {
			continue
		}
		name := c.header[i]
		switch c.keys[name] {
		case attr.TypeN:
			n, err := attr.ParseNumber(s)
			if err != nil {
				return nil, rowError{fmt.Sprintf("key %s: %v", name, err)}
			}
			it[name] = attr.NumberValue(n)
		case attr.TypeB:
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, rowError{fmt.Sprintf("key %s: not base64", name)}
			}
			it[name] = attr.B(b)
		default:
			it[name] = attr.S(s)
		}
	}
	return it, nil
}

// rowError is a CSV row that is no item: counted, and the import goes on.
type rowError struct{ msg string }

func (e rowError) Error() string { return e.msg }

func scanJSONLine(line []byte) attr.Item {
	s := attr.NewRequestScanner(line)
	if !s.Open() {
		return nil
	}
	name, done, ok := s.Member()
	if !ok || done || string(name) != "Item" {
		return nil
	}
	it, ok := s.Item()
	if !ok || it == nil {
		return nil
	}
	if _, done, ok = s.Member(); !ok || !done || len(bytes.TrimSpace(s.Rest())) != 0 {
		return nil
	}
	return it
}
