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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
)

// Handler is a raw handler: payload in, JSON response out.
type Handler func(payload []byte) ([]byte, error)

var registered Handler

// Handle registers the handler the "handle" export runs.
func Handle(h Handler) { registered = h }

// HandleStream registers a handler for DynamoDB stream events.
func HandleStream(h func(ev *StreamEvent) (*BatchResponse, error)) {
	Handle(func(payload []byte) ([]byte, error) {
		var ev StreamEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode stream event: %w", err)
		}
		resp, err := h(&ev)
		if err != nil {
			return nil, err
		}
		if resp == nil {
			resp = &BatchResponse{}
		}
		return json.Marshal(resp)
	})
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
	if h == nil {
		return fail(errors.New("no handler registered: call guest.Handle from init"), "Runtime.NoHandler")
	}
	out, err := h(Input())
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

// Input returns the current invocation's payload.
func Input() []byte { return inputRead() }

// Log writes a line to the invocation log (Lambda's LogResult tail).
func Log(format string, args ...any) { hostLog(fmt.Sprintf(format, args...)) }

// Env returns an environment variable of the function configuration.
func Env(key string) string { return os.Getenv(key) }

// Emit sends doc (any JSON-encodable value, or json.RawMessage) to the
// named sink.
func Emit(sink string, doc any) error {
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
	var resp struct{ Item Item }
	err := Call("GetItem", map[string]any{"TableName": table, "Key": key}, &resp)
	return resp.Item, err
}

// PutItem writes one item.
func PutItem(table string, item Item) error {
	return Call("PutItem", map[string]any{"TableName": table, "Item": item}, nil)
}

// DeleteItem deletes one item.
func DeleteItem(table string, key Item) error {
	return Call("DeleteItem", map[string]any{"TableName": table, "Key": key}, nil)
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
