package lambdaapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/eddydb/eddy/triggers"
)

// apiError is one Lambda error response.
type apiError struct {
	status int
	typ    string // X-Amzn-Errortype and the SDK's error code
	user   bool   // Type "User" vs "Service"
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func invalidParam(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValueException", true, msg}
}

func validation(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException", true, msg}
}

func invalidContent(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidRequestContentException", true, msg}
}

func invalidZip(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidZipFileException", true, msg}
}

// fromHost maps a control-plane error (of the trigger host or the mapping
// manager: they share triggers' kinds) onto Lambda's error types.
func fromHost(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	switch {
	case errors.Is(err, triggers.ErrNotFound):
		return &apiError{http.StatusNotFound, "ResourceNotFoundException", true, msg}
	case errors.Is(err, triggers.ErrInvalidParameter):
		return invalidParam(msg)
	case errors.Is(err, triggers.ErrValidation):
		return &apiError{http.StatusBadRequest, "ValidationException", true, msg}
	case errors.Is(err, triggers.ErrConflict):
		return &apiError{http.StatusConflict, "ResourceConflictException", true, msg}
	case errors.Is(err, triggers.ErrPrecondition):
		return &apiError{http.StatusPreconditionFailed, "PreconditionFailedException", true, msg}
	case errors.Is(err, triggers.ErrInvalidPayload):
		return invalidContent(msg)
	case errors.Is(err, triggers.ErrTooLarge):
		return &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", true, msg}
	case errors.Is(err, triggers.ErrThrottled):
		// Lambda's TooManyRequestsException: 429, members Type, message,
		// Reason (one of the model's ThrottleReason values) and
		// retryAfterSeconds, which eddy leaves out (Lambda API reference,
		// TooManyRequestsException; the SDKs' shapes).
		// writeError adds the Reason.
		return &apiError{http.StatusTooManyRequests, "TooManyRequestsException", true, msg}
	case errors.Is(err, triggers.ErrClosed):
		return &apiError{http.StatusServiceUnavailable, "ServiceException", false, msg}
	}
	return &apiError{http.StatusInternalServerError, "ServiceException", false, msg}
}

func writeError(w http.ResponseWriter, err error) {
	ae := fromHost(err)
	typ := "User"
	if !ae.user {
		typ = "Service"
	}
	// Lambda's error shapes model "Type" and a message member whose case
	// differs by shape (the Lambda Smithy model, as aws-sdk-go-v2's schemas
	// carry it): "Message" for these, "message" for the others.
	key := "message"
	switch ae.typ {
	case "ResourceNotFoundException", "ServiceException", "InvalidZipFileException", "AccessDeniedException":
		key = "Message"
	}
	fields := map[string]string{"Type": typ, key: ae.msg}
	if ae.typ == "TooManyRequestsException" {
		fields["Reason"] = triggers.ReasonConcurrentLimit
		var te *triggers.ThrottleError
		if errors.As(err, &te) {
			fields["Reason"] = te.Reason
		}
	}
	body, _ := json.Marshal(fields)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", ae.typ)
	w.WriteHeader(ae.status)
	_, _ = w.Write(body)
}
