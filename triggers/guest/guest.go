// Package guest is the SDK for eddy functions written in Go and compiled to
// WebAssembly with the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o fn.wasm .
//
// A function registers its handler from init and has an empty main:
//
//	func init() {
//		guest.HandleStream(func(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
//			var resp guest.BatchResponse
//			for _, r := range ev.Records {
//				if err := process(r); err != nil {
//					resp.Fail(r.DynamoDB.SequenceNumber)
//				}
//			}
//			return &resp, nil
//		})
//	}
//
//	func main() {}
//
// The SDK exports "handle" (the default handler name) and "eddy_abi_v1";
// see triggers/ABI.md for the contract. A module with several handlers
// exports its own functions with //go:wasmexport and calls Run from each.
//
// Outside wasip1 the host functions are stubs that fail, so code using the
// SDK still builds and vets on the developer's machine.
package guest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
)

// Handler is a raw handler: payload in, JSON response out.
type Handler func(payload []byte) ([]byte, error)

var registered Handler

// reuseInput: the registered handler keeps nothing of its payload past the
// invocation, so one input buffer serves every invocation.
var reuseInput bool

// Handle registers the handler the "handle" export runs. The payload it
// gets is its own.
func Handle(h Handler) { registered, reuseInput = h, false }

// HandleStream registers a handler for DynamoDB stream events, every
// record decoded into typed values. HandleRecords is faster: it decodes
// only what the handler reads.
func HandleStream(h func(ev *StreamEvent) (*BatchResponse, error)) {
	HandleRecords(func(lazy *Event) (*BatchResponse, error) {
		ev := StreamEvent{Records: make([]StreamRecord, len(lazy.Records))}
		for i := range lazy.Records {
			var err error
			if ev.Records[i], err = lazy.Records[i].Legacy(); err != nil {
				return nil, fmt.Errorf("decode stream event: record %d: %w", i, err)
			}
		}
		return h(&ev)
	})
}

var (
	event  Event
	outBuf []byte
	idxBuf []byte
	// curInput is the invocation's input as run read it: the host's
	// event index describes it and nothing else.
	curInput []byte
)

// HandleRecords registers a handler for DynamoDB stream events read
// lazily (see Event): the event is scanned once without reflection, and
// only the members and attributes the handler asks for are decoded.
func HandleRecords(h func(ev *Event) (*BatchResponse, error)) {
	Handle(RecordsHandler(h))
	reuseInput = true
}

// RecordsHandler returns HandleRecords' raw handler, for a module that
// exports several handlers (//go:wasmexport name; return guest.Run(h)).
func RecordsHandler(h func(ev *Event) (*BatchResponse, error)) Handler {
	return func(payload []byte) ([]byte, error) {
		if !isInput(payload) || !event.loadIndex(payload, inputIndex(&idxBuf)) {
			if err := ParseEvent(payload, &event); err != nil {
				return nil, fmt.Errorf("decode stream event: %w", err)
			}
		}
		resp, err := h(&event)
		if err != nil {
			return nil, err
		}
		if resp == nil {
			resp = &BatchResponse{}
		}
		outBuf = appendBatchResponse(outBuf[:0], resp)
		return outBuf, nil
	}
}

// HandleJSON registers a handler for any JSON payload: the payload is decoded
// into In and the result encoded as the response.
func HandleJSON[In, Out any](h func(in In) (Out, error)) {
	Handle(func(payload []byte) ([]byte, error) {
		var in In
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out, err := h(in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	})
}

// Run executes h against the current invocation's input and reports its
// result to the host: it returns the status a handler export must return
// (0 success, 1 handler error). Use it from your own //go:wasmexport
// functions to have several handlers in one module.
func Run(h Handler) int32 {
	return run(h, false)
}

// RunRecords is Run for a handler that keeps nothing of its payload past
// the invocation, such as one RecordsHandler made: the input is read into
// one buffer kept across invocations, as HandleRecords' "handle" export
// does, instead of a new one each time (in wasm a fresh buffer the size
// of a batch is allocated, zeroed and later collected, for every batch).
func RunRecords(h Handler) int32 {
	return run(h, true)
}

// run is Run; reuse: the input buffer of the previous invocation may be
// reused (the handler keeps nothing of its payload).
func run(h Handler, reuse bool) int32 {
	if h == nil {
		return fail(errors.New("no handler registered: call guest.Handle from init"), "Runtime.NoHandler")
	}
	var in []byte
	if reuse {
		in = inputInto(&inBuf)
	} else {
		in = Input()
	}
	curInput = in
	out, err := h(in)
	curInput = nil
	if err != nil {
		return fail(err, errorType(err))
	}
	if out == nil {
		out = []byte("null")
	}
	outputWrite(out)
	return 0
}

func fail(err error, typ string) int32 {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{err.Error(), typ})
	outputWrite(b)
	return 1
}

// TypedError lets a handler choose the errorType Lambda reports.
type TypedError interface {
	error
	ErrorType() string
}

func errorType(err error) string {
	var te TypedError
	if errors.As(err, &te) {
		return te.ErrorType()
	}
	return "HandlerError"
}

var inBuf []byte

// isInput reports whether b is the invocation's input (the handler may be
// called with other bytes by the module's own code).
func isInput(b []byte) bool {
	return len(b) > 0 && len(b) == len(curInput) && &b[0] == &curInput[0]
}

// Input returns the current invocation's payload.
func Input() []byte { return inputInto(nil) }

// Log writes a line to the invocation log (Lambda's LogResult tail).
func Log(format string, args ...any) { hostLog(fmt.Sprintf(format, args...)) }

// Env returns an environment variable of the function configuration.
func Env(key string) string { return os.Getenv(key) }

// Emit sends doc (any JSON-encodable value, or json.RawMessage) to the
// named sink.
func Emit(sink string, doc any) error {
	if raw, ok := doc.(json.RawMessage); ok {
		return hostEmit(sink, raw)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return hostEmit(sink, b)
}

// TableError is a DynamoDB error from a table call, e.g. Type
// "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException".
type TableError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *TableError) Error() string { return e.Type + ": " + e.Message }

// Code returns the short error name after '#'.
func (e *TableError) Code() string {
	for i := len(e.Type) - 1; i >= 0; i-- {
		if e.Type[i] == '#' {
			return e.Type[i+1:]
		}
	}
	return e.Type
}

// Call performs a DynamoDB operation (GetItem, PutItem, UpdateItem,
// DeleteItem, Query) with req encoded as its JSON 1.0 request body and
// decodes the response into resp (if not nil). A DynamoDB error is returned
// as *TableError.
func Call(op string, req, resp any) error {
	b, ok := req.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(req); err != nil {
			return err
		}
	}
	out, err := tableCall(op, b)
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	if raw, ok := resp.(*[]byte); ok {
		*raw = out
		return nil
	}
	return json.Unmarshal(out, resp)
}

// Item is a DynamoDB item in DynamoDB JSON.
type Item = map[string]AttributeValue

// GetItem reads one item; nil if absent.
func GetItem(table string, key Item) (Item, error) {
	req, err := keyRequest(table, "Key", key)
	if err != nil {
		return nil, err
	}
	out, err := tableCall("GetItem", req)
	if err != nil {
		return nil, err
	}
	it := newObjIter(out)
	for it.next() {
		if it.keyIs("Item") && it.val[0] == '{' {
			return decodeItem(it.val)
		}
	}
	return nil, it.err
}

// PutItem writes one item.
func PutItem(table string, item Item) error {
	req, err := keyRequest(table, "Item", item)
	if err != nil {
		return err
	}
	_, err = tableCall("PutItem", req)
	return err
}

// DeleteItem deletes one item.
func DeleteItem(table string, key Item) error {
	req, err := keyRequest(table, "Key", key)
	if err != nil {
		return err
	}
	_, err = tableCall("DeleteItem", req)
	return err
}

// keyRequest builds {"TableName":table,"<member>":item}.
func keyRequest(table, member string, item Item) ([]byte, error) {
	b := AppendString(append(make([]byte, 0, 256), `{"TableName":`...), table)
	b = append(AppendString(append(b, ','), member), ':')
	b, err := AppendItem(b, item)
	return append(b, '}'), err
}

// UpdateItem runs an UpdateItem request (a DynamoDB JSON request body as a
// struct or map) and decodes the response into resp.
func UpdateItem(req, resp any) error { return Call("UpdateItem", req, resp) }

// QueryOutput is the useful part of a Query response.
type QueryOutput struct {
	Items            []Item
	Count            int
	LastEvaluatedKey Item
}

// Query runs a Query request.
func Query(req any) (*QueryOutput, error) {
	var out QueryOutput
	if err := Call("Query", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BuildInfo is the module's Go build information (for diagnostics).
func BuildInfo() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return ""
}

// Batch is a list of table writes (PutItem, UpdateItem, DeleteItem) and
// emits sent to the host in one crossing (eddy-abi-v2's call_many) when
// flushed: a handler that writes once per record pays one host call per
// batch instead of one per record. The calls run in order and stop at the
// first failure. Their responses are not returned: use Call for reads and
// for writes whose response (e.g. ReturnValues) is needed. A Batch may be
// reused after Flush.
type Batch struct {
	buf []byte
	n   int
}

// Call adds a table write with its JSON 1.0 request body.
func (b *Batch) Call(op string, req []byte) { b.add('T', op, req) }

// Emit adds an emit of doc (a JSON document) to the named sink.
func (b *Batch) Emit(sink string, doc []byte) { b.add('E', sink, doc) }

// Len is the number of calls added since the last Flush.
func (b *Batch) Len() int { return b.n }

// add frames one call: kind (1 byte), name length (4 bytes, little
// endian), name, body length (4 bytes), body. ABI.md draws the format.
func (b *Batch) add(kind byte, name string, body []byte) {
	b.buf = append(b.buf, kind)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(name)))
	b.buf = append(b.buf, name...)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(body)))
	b.buf = append(b.buf, body...)
	b.n++
}

// Flush runs the calls added since the last Flush in one host call, in
// order, and empties the batch. done is how many succeeded; when done <
// Len() err is the error of call number done (a *TableError: DynamoDB's
// error, or eddy#SinkError for an emit) and the calls after it did not
// run.
func (b *Batch) Flush() (done int, err error) {
	if b.n == 0 {
		return 0, nil
	}
	n := b.n
	done, err = hostCallMany(b.buf, n)
	b.buf, b.n = b.buf[:0], 0
	return done, err
}
