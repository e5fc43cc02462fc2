package dlq

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Handler serves the store's JSON API, mounted by the server under
// /eddy/dlq/ on eddy's port:
//
//	GET    /eddy/dlq/entries[?mapping=UUID]            {"Entries":[Summary...]}
//	GET    /eddy/dlq/entries/{id}                      Entry
//	POST   /eddy/dlq/entries/{id}/redrive[?mapping=UUID]  Entry after the redrive
//	POST   /eddy/dlq/redrive[?mapping=UUID]            {"Entries":[Entry...]} (every entry with records)
//	DELETE /eddy/dlq/entries/{id}                      {"Deleted":1}
//	DELETE /eddy/dlq/entries[?mapping=UUID]            {"Deleted":n} (purge)
//
// Errors are {"message":...} with 404 (no such entry), 409 (already
// redriven, or busy), 400 (bad ID) or 500 (a redrive that failed: the
// entry, updated, is in "entry").
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eddy/dlq/entries", func(w http.ResponseWriter, r *http.Request) {
		l, err := s.List(r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		if l == nil {
			l = []Summary{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"Entries": l})
	})
	mux.HandleFunc("GET /eddy/dlq/entries/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		e, err := s.Get(id)
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
	mux.HandleFunc("POST /eddy/dlq/entries/{id}/redrive", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		e, err := s.Redrive(r.Context(), id, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, e)
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
	mux.HandleFunc("POST /eddy/dlq/redrive", func(w http.ResponseWriter, r *http.Request) {
		es, err := s.RedriveAll(r.Context(), r.URL.Query().Get("mapping"))
		if es == nil {
			es = []*Entry{}
		}
		if err != nil {
			writeErr(w, err, es)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"Entries": es})
	})
	mux.HandleFunc("DELETE /eddy/dlq/entries/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		n, err := s.Delete(id, "")
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"Deleted": n})
	})
	mux.HandleFunc("DELETE /eddy/dlq/entries", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.Delete(0, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"Deleted": n})
	})
	return mux
}

func pathID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "invalid entry ID " + strconv.Quote(r.PathValue("id"))})
		return 0, false
	}
	return id, true
}

func writeErr(w http.ResponseWriter, err error, entry any) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrAlreadyDone), errors.Is(err, ErrBusy):
		code = http.StatusConflict
	case errors.Is(err, ErrNoRedriver):
		code = http.StatusNotImplemented
	}
	body := map[string]any{"message": err.Error()}
	if entry != nil {
		body["entry"] = entry
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
