package outbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/eddydb/eddy/internal/jsonhttp"
)

// MaxRequestBytes bounds a request body of the sinks API.
const MaxRequestBytes = 1 << 20

// NewHandler serves the sinks API, mounted by the server under /eddy/sinks
// on eddy's port:
//
//	GET    /eddy/sinks                       {"Sinks":[Status...]}
//	POST   /eddy/sinks                       Config → 201 Status
//	GET    /eddy/sinks/{name}                Status
//	DELETE /eddy/sinks/{name}                {"Deleted":"name"}
//	GET    /eddy/sinks/{name}/rejected       {"Rejected":[Rejection...]} (?limit=, default 100)
//	GET    /eddy/sinks/{name}/_search?q=...  an Elasticsearch _search response (search sinks)
//	POST   /eddy/sinks/{name}/_search        with an Elasticsearch _search body
//
// Errors are {"message":...} with 400 (a bad configuration), 404 (no such
// sink) or 409 (the name is taken); a bad search is Elasticsearch's
// {"error":{"type":..,"reason":..},"status":400}.
func NewHandler(o *Outbox) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eddy/sinks", func(w http.ResponseWriter, r *http.Request) {
		l := o.List()
		if l == nil {
			l = []Status{}
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Sinks": l})
	})
	mux.HandleFunc("POST /eddy/sinks", func(w http.ResponseWriter, r *http.Request) {
		var cfg Config
		if err := jsonhttp.Read(w, r, MaxRequestBytes, &cfg); err != nil {
			jsonhttp.Error(w, http.StatusBadRequest, "the body must be a sink configuration: "+err.Error())
			return
		}
		st, err := o.Create(cfg)
		if err != nil {
			writeErr(w, err)
			return
		}
		jsonhttp.Write(w, http.StatusCreated, st)
	})
	mux.HandleFunc("GET /eddy/sinks/{name}", func(w http.ResponseWriter, r *http.Request) {
		st, err := o.Describe(r.PathValue("name"))
		if err != nil {
			writeErr(w, err)
			return
		}
		jsonhttp.Write(w, http.StatusOK, st)
	})
	mux.HandleFunc("DELETE /eddy/sinks/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := o.Delete(r.PathValue("name")); err != nil {
			writeErr(w, err)
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Deleted": r.PathValue("name")})
	})
	mux.HandleFunc("GET /eddy/sinks/{name}/rejected", func(w http.ResponseWriter, r *http.Request) {
		limit := 100
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 10000 {
				jsonhttp.Error(w, http.StatusBadRequest, "limit must be 1 to 10000")
				return
			}
			limit = n
		}
		l, err := o.Rejected(r.PathValue("name"), limit)
		if err != nil {
			writeErr(w, err)
			return
		}
		if l == nil {
			l = []Rejection{}
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Rejected": l})
	})
	search := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		if err != nil {
			writeSearchErr(w, &SearchError{Status: http.StatusRequestEntityTooLarge, Type: "content_too_long_exception", Reason: err.Error()})
			return
		}
		if q := r.URL.Query().Get("q"); q != "" && len(body) == 0 {
			req := map[string]any{"query": map[string]any{"query_string": map[string]any{"query": q}}}
			for _, p := range []string{"size", "from"} {
				if v := r.URL.Query().Get(p); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil {
						writeSearchErr(w, &SearchError{Status: 400, Type: "illegal_argument_exception", Reason: "Failed to parse int parameter [" + p + "] with value [" + v + "]"})
						return
					}
					req[p] = n
				}
			}
			body, _ = json.Marshal(req)
		}
		resp, err := o.Search(r.Context(), r.PathValue("name"), body)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				writeSearchErr(w, &SearchError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + r.PathValue("name") + "]"})
				return
			}
			writeSearchErr(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(resp)
	}
	mux.HandleFunc("GET /eddy/sinks/{name}/_search", search)
	mux.HandleFunc("POST /eddy/sinks/{name}/_search", search)
	return mux
}

func writeErr(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrExists), errors.Is(err, ErrInUse):
		code = http.StatusConflict
	}
	jsonhttp.Error(w, code, err.Error())
}

func writeSearchErr(w http.ResponseWriter, err error) {
	var se *SearchError
	if !errors.As(err, &se) {
		se = &SearchError{Status: http.StatusInternalServerError, Type: "exception", Reason: err.Error()}
	}
	jsonhttp.Write(w, se.Status, map[string]any{
		"error":  map[string]any{"root_cause": []any{map[string]any{"type": se.Type, "reason": se.Reason}}, "type": se.Type, "reason": se.Reason},
		"status": se.Status,
	})
}
