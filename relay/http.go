package relay

import (
	"errors"
	"net/http"

	"github.com/eddydb/eddy/internal/jsonhttp"
)

// NewHandler serves the relays API, mounted by the server under
// /eddy/relays on eddy's port:
//
//	GET    /eddy/relays            {"Relays":[Status...]}
//	POST   /eddy/relays            {"Table","StartingPosition"} → 201 Status (200 when already enabled)
//	GET    /eddy/relays/{table}    Status
//	DELETE /eddy/relays/{table}    {"Disabled":"table"}
//
// Errors are {"message":...} with 400 (a bad request), 404 (no such table
// or relay).
func NewHandler(r *Relay) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eddy/relays", func(w http.ResponseWriter, req *http.Request) {
		l := r.List()
		if l == nil {
			l = []Status{}
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Relays": l})
	})
	mux.HandleFunc("POST /eddy/relays", func(w http.ResponseWriter, req *http.Request) {
		var cfg Config
		if err := jsonhttp.Read(w, req, 1<<20, &cfg); err != nil {
			jsonhttp.Error(w, http.StatusBadRequest, "the body must be a relay: "+err.Error())
			return
		}
		st, created, err := r.Enable(req.Context(), cfg)
		if err != nil {
			writeErr(w, err)
			return
		}
		code := http.StatusOK
		if created {
			code = http.StatusCreated
		}
		jsonhttp.Write(w, code, st)
	})
	mux.HandleFunc("GET /eddy/relays/{table}", func(w http.ResponseWriter, req *http.Request) {
		st, err := r.Describe(req.PathValue("table"))
		if err != nil {
			writeErr(w, err)
			return
		}
		jsonhttp.Write(w, http.StatusOK, st)
	})
	mux.HandleFunc("DELETE /eddy/relays/{table}", func(w http.ResponseWriter, req *http.Request) {
		if err := r.Disable(req.PathValue("table")); err != nil {
			writeErr(w, err)
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Disabled": req.PathValue("table")})
	})
	return mux
}

func writeErr(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoTable):
		code = http.StatusNotFound
	}
	jsonhttp.Error(w, code, err.Error())
}
