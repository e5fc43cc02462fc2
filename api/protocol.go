package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/ddberr"
)

// The DynamoDB JSON 1.0 protocol: POST / with X-Amz-Target naming the
// operation, a JSON body in, a JSON body out with x-amzn-RequestId and
// x-amz-crc32 (CRC-32/IEEE of the body, which the SDKs verify).
const (
	targetDynamoDB = "DynamoDB_20120810."
	targetStreams  = "DynamoDBStreams_20120810."
	contentType    = "application/x-amz-json-1.0"
	maxRequestBody = 16 << 20 // DynamoDB's 16 MB request limit
)

// call is one decoded request on its way through a handler.
type call struct {
	op        string
	body      []byte
	principal string // access key ID from the SigV4 Authorization header
	// identity is who sent the request over HTTP (auth.FromContext of the
	// request): verified when the server has credentials, anonymous when
	// it runs open; zero for in-process calls.
	identity auth.Identity
	// principalARN is the IAM principal the call acts as (Deps.Principal
	// of the access key ID over HTTP; arn.PrincipalFrom in process): its
	// policies authorize the call. "" is anonymous, allowed.
	principalARN string
	sourceIP     string // the peer's address (aws:SourceIp); "" in process
	// region is the request's region (its SigV4 credential scope, or the
	// server's default for an unsigned one): the namespace its tables are
	// looked up and created in.
	region string
	host   string // the request's Host (DescribeEndpoints); "" in process
	// pooled is the respPool buffer the handler took (respBuffer) for its
	// response; serveRPC recycles it once the response is written.
	pooled *[]byte
	// metered is set when Deps.Usage is: handlers then add what they
	// consumed to usage (usage.go).
	metered bool
	// buffered is set when a write went to a mapping invocation's
	// store.WriteBuffer (writeItem): its units are not usage here, they
	// are counted when the mapping commits them (the limiter's Observer).
	buffered bool
	usage    []Usage
	one      [1]Usage // usage's room for the usual single table
}

// respPool recycles the response buffers of Query and Scan (tens of KB
// each): serveRPC puts a buffer back after writing the response, so a
// handler must not keep its response anywhere else.
var respPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// respBuffer returns an empty buffer from respPool for this call's
// response.
func (c *call) respBuffer() []byte {
	p := respPool.Get().(*[]byte)
	c.pooled = p
	return (*p)[:0]
}

// recycle returns the call's pooled buffer, now grown into body (the
// response, written), to respPool; a page-sized buffer is let go.
func (c *call) recycle(body []byte) {
	if c.pooled == nil || cap(body) > 256<<10 {
		return
	}
	*c.pooled = body[:0]
	respPool.Put(c.pooled)
	c.pooled = nil
}

// decode unmarshals the body into v with DynamoDB's error kinds: malformed
// JSON or wrong member types are SerializationException; attribute value
// validation errors surface as the ValidationException attr returns.
func (c *call) decode(v any) error {
	trimmed := bytes.TrimSpace(c.body)
	if len(trimmed) == 0 {
		c.body = []byte("{}")
	}
	if string(trimmed) == "null" {
		// encoding/json leaves v untouched for null; the body is a JSON
		// value where a structure belongs, answered as the other
		// non-object bodies are.
		return ddberr.New(ddberr.KindSerialization, "Unexpected field type")
	}
	err := json.Unmarshal(c.body, v)
	if err == nil {
		return nil
	}
	var de *ddberr.Error
	if errors.As(err, &de) {
		return de
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ddberr.New(ddberr.KindSerialization, "%s", typeErrorMessage(te, c.body))
	}
	// A body that is not JSON: DynamoDB sends the bare __type, no message.
	return &ddberr.Error{Kind: ddberr.KindSerialization}
}

// typeErrorMessage words a member of the wrong JSON type the way the
// DynamoDB front end does (dynalite's test/helpers.js assertType recorded
// them): "NUMBER_VALUE cannot be converted to String", "Unexpected field
// type" for a scalar where a list, map or structure belongs, "Unrecognized
// collection type ..." for a list where a scalar or map belongs.
func typeErrorMessage(te *json.UnmarshalTypeError, body []byte) string {
	kind := te.Type.Kind()
	if kind == reflect.Pointer {
		kind = te.Type.Elem().Kind()
	}
	var to string
	switch kind {
	case reflect.String:
		to = "String"
	case reflect.Int, reflect.Int64:
		to = "Long"
	case reflect.Int32:
		to = "Integer"
	case reflect.Bool:
		to = "Boolean"
	case reflect.Float64, reflect.Float32:
		to = "Double"
	}
	switch value, _, _ := strings.Cut(te.Value, " "); value {
	case "object":
		return "Start of structure or map found where not expected"
	case "array":
		switch {
		case to != "":
			return "Unrecognized collection type class java.lang." + to
		case kind == reflect.Map:
			return "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
		}
		return "Unexpected field type"
	case "number", "string", "bool":
		if to == "" { // a scalar where a list, map or structure belongs
			return "Unexpected field type"
		}
		tok := literalBefore(body, te.Offset)
		switch {
		case value == "string":
			if to == "Boolean" {
				return "Unexpected token received from parser"
			}
			return "STRING_VALUE cannot be converted to " + to
		case value == "bool" && strings.HasPrefix(tok, "f"):
			return "FALSE_VALUE cannot be converted to " + to
		case value == "bool":
			return "TRUE_VALUE cannot be converted to " + to
		case strings.ContainsAny(tok, ".eE"):
			return "DECIMAL_VALUE cannot be converted to " + to
		}
		return "NUMBER_VALUE cannot be converted to " + to
	}
	return "Unexpected field type"
}

// literalBefore returns the JSON literal that ends at offset off of body.
func literalBefore(body []byte, off int64) string {
	if off < 0 || off > int64(len(body)) {
		return ""
	}
	b := bytes.TrimRight(body[:off], " \t\r\n")
	i := len(b)
	for i > 0 && strings.IndexByte("0123456789+-.eEtrufalsn", b[i-1]) >= 0 {
		i--
	}
	return string(b[i:])
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeJSON sends a 200 response with body, as DynamoDB does.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	v := make([]string, 3) // one allocation for the three values
	v[0] = contentType
	v[1] = strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	v[2] = strconv.Itoa(len(body))
	h["Content-Type"] = v[0:1:1]
	h["X-Amz-Crc32"] = v[1:2:2]
	h["Content-Length"] = v[2:3:3]
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError renders a DynamoDB error from the one error table.
func writeError(w http.ResponseWriter, err error) {
	e := ddberr.As(err)
	writeJSON(w, e.Status(), errorBody(e))
}

// errorBody is the JSON body of a DynamoDB error: __type, message, and the
// members some kinds carry (Item, CancellationReasons).
func errorBody(e *ddberr.Error) []byte {
	buf := []byte(`{"__type":`)
	buf = attr.AppendJSONString(buf, e.WireType())
	// DynamoDB omits an empty message (UnknownOperationException, a body
	// that is not JSON) and capitalises it for some kinds.
	if e.Message != "" {
		if e.Kind == ddberr.KindTransactionCanceled || e.Kind == ddberr.KindSerialization {
			buf = append(buf, `,"Message":`...)
		} else {
			buf = append(buf, `,"message":`...)
		}
		buf = attr.AppendJSONString(buf, e.Message)
	}
	if it, ok := e.Item.(attr.Item); ok && it != nil {
		buf = append(buf, `,"Item":`...)
		buf = attr.AppendItemJSON(buf, it)
	}
	if len(e.CancellationReasons) > 0 {
		buf = append(buf, `,"CancellationReasons":[`...)
		for i, r := range e.CancellationReasons {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"Code":`...)
			buf = attr.AppendJSONString(buf, r.Code)
			if r.Message != "" {
				buf = append(buf, `,"Message":`...)
				buf = attr.AppendJSONString(buf, r.Message)
			}
			if it, ok := r.Item.(attr.Item); ok && it != nil {
				buf = append(buf, `,"Item":`...)
				buf = attr.AppendItemJSON(buf, it)
			}
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

const requestIDChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newRequestID returns a 52-character ID like DynamoDB's. It needs to be
// unpredictable only as much as math/rand/v2's ChaCha8 source makes it
// (crypto/rand cost a system call per request).
func newRequestID() string {
	var b [56]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	for i := range b {
		b[i] = requestIDChars[int(b[i])%len(requestIDChars)]
	}
	return string(b[:52])
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := readAll(io.LimitReader(r.Body, maxRequestBody+1), r.ContentLength)
	if err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Unable to read request body")
	}
	if len(body) > maxRequestBody {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// errBodyTooLarge is a request body over 16 MB (after inflating): DynamoDB
// answers 413 with no body (dynalite's index.js, which recorded it).
var errBodyTooLarge = errors.New("api: request body over 16 MB")

// decodePutItem is c.decode for PutItem's common, well-formed requests
// without encoding/json's reflection (and its validity pass over the whole
// body): the members TableName, Item, ConditionExpression,
// ExpressionAttributeNames/Values and the Return* strings, each at most
// once, spelled exactly, none null. Any other input goes through c.decode,
// so every error and its precedence are as before. scanned reports the
// fast path, whose values are known to be within the nesting limit.
func (c *call) decodePutItem(in *putItemInput) (scanned bool, err error) {
	if decodePutItemFast(c.body, in) {
		return true, nil
	}
	*in = putItemInput{}
	return false, c.decode(in)
}

func decodePutItemFast(body []byte, in *putItemInput) bool {
	s := attr.NewRequestScanner(body)
	return scanRequest(&s, func(name []byte) (bit uint16, ok bool) {
		switch string(name) {
		case "TableName":
			return 1 << 0, optString(&s, &in.TableName)
		case "Item":
			in.Item, ok = s.Item()
			return 1 << 1, ok
		case "ConditionExpression":
			return 1 << 2, optString(&s, &in.ConditionExpression)
		case "ExpressionAttributeNames":
			in.ExpressionAttributeNames, ok = s.StringMap()
			return 1 << 3, ok
		case "ExpressionAttributeValues":
			var it attr.Item
			if it, ok = s.Item(); ok {
				in.ExpressionAttributeValues = exprValues(it)
			}
			return 1 << 4, ok
		case "ReturnValues":
			in.ReturnValues, ok = s.String()
			return 1 << 5, ok
		case "ReturnConsumedCapacity":
			in.ReturnConsumedCapacity, ok = s.String()
			return 1 << 6, ok
		case "ReturnItemCollectionMetrics":
			in.ReturnItemCollectionMetrics, ok = s.String()
			return 1 << 7, ok
		case "ReturnValuesOnConditionCheckFailure":
			in.ReturnValuesOnConditionCheckFailure, ok = s.String()
			return 1 << 8, ok
		}
		return 0, false
	})
}

// decodeUpdateItem decodes an UpdateItem request: the common shape with
// an UpdateExpression by hand (decodeUpdateItemFast: a view's handler
// sends one per record), anything else the generic way, errors included.
func (c *call) decodeUpdateItem(in *updateItemInput) error {
	if decodeUpdateItemFast(c.body, in) {
		return nil
	}
	*in = updateItemInput{}
	return c.decode(in)
}

// decodeUpdateItemFast decodes TableName, Key, the Update and Condition
// expressions, their ExpressionAttributeNames/Values and the Return*
// strings, each at most once, spelled exactly, none null; it reports
// false for anything else (the legacy AttributeUpdates and Expected too).
func decodeUpdateItemFast(body []byte, in *updateItemInput) bool {
	s := attr.NewRequestScanner(body)
	return scanRequest(&s, func(name []byte) (bit uint16, ok bool) {
		switch string(name) {
		case "TableName":
			return 1 << 0, optString(&s, &in.TableName)
		case "Key":
			in.Key, ok = s.Item()
			return 1 << 1, ok
		case "UpdateExpression":
			return 1 << 2, optString(&s, &in.UpdateExpression)
		case "ConditionExpression":
			return 1 << 3, optString(&s, &in.ConditionExpression)
		case "ExpressionAttributeNames":
			in.ExpressionAttributeNames, ok = s.StringMap()
			return 1 << 4, ok
		case "ExpressionAttributeValues":
			var it attr.Item
			if it, ok = s.Item(); ok {
				in.ExpressionAttributeValues = exprValues(it)
			}
			return 1 << 5, ok
		case "ReturnValues":
			in.ReturnValues, ok = s.String()
			return 1 << 6, ok
		case "ReturnConsumedCapacity":
			in.ReturnConsumedCapacity, ok = s.String()
			return 1 << 7, ok
		case "ReturnItemCollectionMetrics":
			in.ReturnItemCollectionMetrics, ok = s.String()
			return 1 << 8, ok
		case "ReturnValuesOnConditionCheckFailure":
			in.ReturnValuesOnConditionCheckFailure, ok = s.String()
			return 1 << 9, ok
		}
		return 0, false
	})
}

// optString reads a string member into *dst.
func optString(s *attr.RequestScanner, dst **string) bool {
	v, ok := s.String()
	if ok {
		*dst = &v
	}
	return ok
}

// scanRequest runs member on each top-level member of the body s scans,
// for the hand-written decoders: member reads the value with s and returns
// the member's bit (to refuse duplicates) and whether all went well. It
// reports false for anything else (an unknown member, a duplicate,
// malformed JSON), so that the caller decodes the body the generic way
// instead. (member uses the caller's s rather than receiving it, so that
// neither escapes to the heap.)
func scanRequest(s *attr.RequestScanner, member func(name []byte) (bit uint16, ok bool)) bool {
	if !s.Open() {
		return false
	}
	var seen uint16
	for {
		name, done, ok := s.Member()
		if !ok {
			return false
		}
		if done {
			return s.End()
		}
		bit, ok := member(name)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

// decodeGetItem decodes a GetItem request: the common shape by hand
// (decodeGetItemFast), anything else the generic way.
func (c *call) decodeGetItem(in *getItemInput) error {
	if decodeGetItemFast(c.body, in) {
		return nil
	}
	*in = getItemInput{}
	return c.decode(in)
}

// decodeGetItemFast decodes the members a GetItem usually has; it reports
// false for anything else (AttributesToGet, ExpressionAttributeValues,
// nulls, duplicates, malformed input) so that the generic decoder handles
// it, errors included.
func decodeGetItemFast(body []byte, in *getItemInput) bool {
	s := attr.NewRequestScanner(body)
	return scanRequest(&s, func(name []byte) (bit uint16, ok bool) {
		switch string(name) {
		case "TableName":
			return 1 << 0, optString(&s, &in.TableName)
		case "Key":
			in.Key, ok = s.Item()
			return 1 << 1, ok
		case "ConsistentRead":
			var v bool
			if v, ok = s.Bool(); ok {
				in.ConsistentRead = &v
			}
			return 1 << 2, ok
		case "ProjectionExpression":
			return 1 << 3, optString(&s, &in.ProjectionExpression)
		case "ExpressionAttributeNames":
			in.ExpressionAttributeNames, ok = s.StringMap()
			return 1 << 4, ok
		case "ReturnConsumedCapacity":
			in.ReturnConsumedCapacity, ok = s.String()
			return 1 << 5, ok
		}
		return 0, false
	})
}

// readAll is io.ReadAll into a buffer sized from the request's
// Content-Length (when given and within the limit), so a body is read
// without regrowing. The buffer is allocated as bytes arrive, not as
// declared: it starts at most readAllFirst bytes and at least doubles
// (up to the declared size) each time it fills, so a client that declares
// 16 MB and sends one byte holds 64 KiB, not 16 MB, while its body times
// out.
func readAll(rd io.Reader, size int64) ([]byte, error) {
	want := 512
	if size > 0 && size <= maxRequestBody {
		want = int(size) + 1 // room to see EOF without growing
	}
	b := make([]byte, 0, min(want, readAllFirst))
	for {
		m, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			next := 2 * cap(b)
			if want > cap(b) {
				next = min(next, want)
			}
			nb := make([]byte, len(b), next)
			copy(nb, b)
			b = nb
		}
	}
}

// readAllFirst is the most readAll allocates before the bytes arrive.
const readAllFirst = 64 << 10
