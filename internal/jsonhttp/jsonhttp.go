// Package jsonhttp holds the JSON plumbing of eddy's own HTTP APIs
// (/eddy/relays, /eddy/sinks, /eddy/dlq, /eddy/replications,
// /eddy/backup): a response as indented JSON, an error as
// {"message": ...}, a request body read within a bound. The AWS protocols
// (api, lambdaapi, cwlogs, ...) have their own wire rules and do not use
// it.
package jsonhttp

import (
	"encoding/json"
	"io"
	"net/http"
)

// Write sends v with status code as indented JSON
// (Content-Type: application/json). An error encoding it, once the header
// is out, means the client went away: there is no one left to tell.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return // the client went away
	}
}

// Error sends {"message": msg} with status code.
func Error(w http.ResponseWriter, code int, msg string) {
	Write(w, code, map[string]string{"message": msg})
}

// Read decodes the request's JSON body, which may be at most limit bytes,
// into v. A longer body is an error (and the connection is closed after
// the response, as http.MaxBytesReader does).
func Read(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
