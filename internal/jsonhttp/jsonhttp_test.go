package jsonhttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/jsonhttp"
)

func TestWriteAndError(t *testing.T) {
	rec := httptest.NewRecorder()
	jsonhttp.Write(rec, http.StatusCreated, map[string]any{"Name": "a"})
	if rec.Code != http.StatusCreated || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != "{\n  \"Name\": \"a\"\n}\n" {
		t.Fatalf("Write: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	rec = httptest.NewRecorder()
	jsonhttp.Error(rec, http.StatusNotFound, `no "x"`)
	if rec.Code != http.StatusNotFound || rec.Body.String() != "{\n  \"message\": \"no \\\"x\\\"\"\n}\n" {
		t.Fatalf("Error: %d %q", rec.Code, rec.Body.String())
	}
}

func TestRead(t *testing.T) {
	var v struct{ A int }
	read := func(body string, limit int64) error {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		return jsonhttp.Read(httptest.NewRecorder(), r, limit, &v)
	}
	if err := read(`{"A":7}`, 100); err != nil || v.A != 7 {
		t.Fatalf("Read: %v %+v", err, v)
	}
	var tooLarge *http.MaxBytesError
	if err := read(`{"A":7}`, 3); err == nil || !errors.As(err, &tooLarge) {
		t.Fatalf("a body over the limit: %v, want *http.MaxBytesError", err)
	}
	for _, body := range []string{``, `{"A":`, `[1]`} {
		if err := read(body, 100); err == nil {
			t.Fatalf("Read(%q) = nil, want an error", body)
		}
	}
}
