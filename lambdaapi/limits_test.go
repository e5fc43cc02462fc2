package lambdaapi_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/eddydb/eddy/triggers/triggerstest"
)

// tinyZip is a zip holding a tiny valid eddy-abi-v1 module.
func tinyCode() string {
	return base64.StdEncoding.EncodeToString(triggerstest.Module{MemoryMin: 1}.Bytes())
}

// TestTimeoutOutOfRange: a Timeout that overflowed time.Duration
// (18446744075 s wrapped to about 1 s) and one past Lambda's 900 s are
// refused with Lambda's ValidationException (issue 13, finding 8), by
// CreateFunction and UpdateFunctionConfiguration alike.
//
// AWS's message, as CloudFormation relayed it for Timeout 3000
// (covidatlas/li#575): "1 validation error detected: Value '3000' at
// 'timeout' failed to satisfy constraint: Member must have value less than
// or equal to 900".
func TestTimeoutOutOfRange(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		timeout int64
		msg     string
	}{
		{18446744075, "1 validation error detected: Value '18446744075' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{901, "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{0, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	} {
		r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r", "Timeout": tc.timeout,
			"Code": map[string]any{"ZipFile": tinyCode()}})
		wantErr(t, "CreateFunction", r, http.StatusBadRequest, "ValidationException", tc.msg)
	}
	if r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r", "Timeout": 900,
		"Code": map[string]any{"ZipFile": tinyCode()}}); r.status != http.StatusCreated {
		t.Fatalf("Timeout 900: %d %s", r.status, r.raw)
	}
	r := e.raw(t, http.MethodPut, "/f/configuration", map[string]any{"Timeout": int64(18446744075)})
	wantErr(t, "UpdateFunctionConfiguration", r, http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value '18446744075' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900")
}
