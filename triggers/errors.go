package triggers

import (
	"errors"
	"fmt"
)

// Sentinel kinds of the errors the Lambda control plane returns (the
// function host's and the event source mappings'; package lambdaapi maps
// them onto Lambda's error types). Classify with
// errors.Is; the Error() text of a returned error is the user-facing message
// (the error body's message member) and never carries the sentinel's own
// text.
var (
	// ErrNotFound: the function, version or alias does not exist.
	ErrNotFound = errors.New("triggers: resource not found")
	// ErrInvalidParameter: a request field is out of range or malformed,
	// including code that is not a valid eddy-abi-v1 module.
	ErrInvalidParameter = errors.New("triggers: invalid parameter value")
	// ErrValidation: a member outside its declared range
	// (ValidationException, "1 validation error detected: ...").
	ErrValidation = errors.New("triggers: validation")
	// ErrConflict: the resource already exists, or the change conflicts
	// with the current state.
	ErrConflict = errors.New("triggers: resource conflict")
	// ErrPrecondition: a RevisionId that is not the current one
	// (PreconditionFailedException).
	ErrPrecondition = errors.New("triggers: precondition failed")
	// ErrInvalidPayload: the Invoke payload is not valid JSON.
	ErrInvalidPayload = errors.New("triggers: invalid request content")
	// ErrTooLarge: the code or payload exceeds a configured limit.
	ErrTooLarge = errors.New("triggers: request too large")
	// ErrThrottled: a concurrency limit is reached (see ThrottleError for
	// the reason; Lambda's TooManyRequestsException).
	ErrThrottled = errors.New("triggers: throttled")
	// ErrClosed: the Host was closed.
	ErrClosed = errors.New("triggers: host closed")
)

// Error is a classified control-plane error: Unwrap yields one of the
// sentinels above, Error yields the message for the caller.
type Error struct {
	kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.kind }

// Errorf returns a classified error of the given kind with a formatted
// message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func newErr(kind error, format string, args ...any) error { return Errorf(kind, format, args...) }

// TableError is the error a Tables implementation returns for a
// DynamoDB-level failure (ValidationException, ConditionalCheckFailed, ...).
// The host hands its JSON to the guest verbatim as the table_call response
// with status 1. Any other error from Tables.Call is reported to the guest
// as an InternalServerError carrying err.Error().
//
// Implementations may return their own type: any error with a method
// DynamoDBErrorJSON() []byte is treated the same way (checked with
// errors.As), so the server's DynamoDB error type can satisfy it directly.
type TableError struct {
	// Type is the wire __type, e.g.
	// "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException".
	Type    string
	Message string
}

func (e *TableError) Error() string { return e.Type + ": " + e.Message }

// DynamoDBErrorJSON renders {"__type":...,"message":...}.
func (e *TableError) DynamoDBErrorJSON() []byte {
	return mustJSON(map[string]string{"__type": e.Type, "message": e.Message})
}

// dynamoDBError is what the host looks for in errors from Tables.Call.
type dynamoDBError interface {
	error
	DynamoDBErrorJSON() []byte
}

// tableErrorJSON renders err as DynamoDB error JSON for the guest.
func tableErrorJSON(err error) []byte {
	var de dynamoDBError
	if errors.As(err, &de) {
		return de.DynamoDBErrorJSON()
	}
	return (&TableError{Type: "com.amazonaws.dynamodb.v20120810#InternalServerError", Message: err.Error()}).DynamoDBErrorJSON()
}
