package dlq

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/eddydb/eddy/internal/jsonhttp"
)

// Redriver is the redrive operation the HTTP API serves: package mappings
// implements it (Manager.Redrive sends an entry's records through a
// mapping's function, on BeginRedrive's primitives). dlq cannot redrive by
// itself.
type Redriver interface {
	// Redrive redrives entry id through mapping ("" for its own); on
	// failure the entry, updated, may come back with the error.
	Redrive(ctx context.Context, id uint64, mapping string) (*Entry, error)
	// RedriveAll redrives every entry of mapping ("" for all) that holds
	// records, oldest first, and returns the entries it touched.
	RedriveAll(ctx context.Context, mapping string) ([]*Entry, error)
}

// NewHandler serves the store's JSON API, mounted by the server under
// /eddy/dlq/ on eddy's port; rd runs the redrives (nil: they answer 501):
//
//	GET    /eddy/dlq/entries[?mapping=UUID]            {"Entries":[Summary...]}
//	GET    /eddy/dlq/entries/{id}                      Entry
//	POST   /eddy/dlq/entries/{id}/redrive[?mapping=UUID]  Entry after the redrive
//	POST   /eddy/dlq/redrive[?mapping=UUID]            {"Entries":[Entry...]} (every entry with records)
//	DELETE /eddy/dlq/entries/{id}                      {"Deleted":1}
//	DELETE /eddy/dlq/entries[?mapping=UUID]            {"Deleted":n} (purge)
//
// Errors are {"message":...} with 404 (no such entry, mapping or
// function), 409 (already redriven, busy, or a function that cannot run),
// 400 (bad ID, or a mapping of another table's stream) or 500 (a redrive
// that failed: the entry, updated, is in "entry"). A 4xx redrive left the
// entry as it was.
func NewHandler(s *Store, rd Redriver) http.Handler {
	if rd == nil {
		rd = noRedriver{}
	}
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
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Entries": l})
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
		jsonhttp.Write(w, http.StatusOK, e)
	})
	mux.HandleFunc("POST /eddy/dlq/entries/{id}/redrive", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		e, err := rd.Redrive(r.Context(), id, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, e)
			return
		}
		jsonhttp.Write(w, http.StatusOK, e)
	})
	mux.HandleFunc("POST /eddy/dlq/redrive", func(w http.ResponseWriter, r *http.Request) {
		es, err := rd.RedriveAll(r.Context(), r.URL.Query().Get("mapping"))
		if es == nil {
			es = []*Entry{}
		}
		if err != nil {
			writeErr(w, err, es)
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Entries": es})
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
		jsonhttp.Write(w, http.StatusOK, map[string]int{"Deleted": n})
	})
	mux.HandleFunc("DELETE /eddy/dlq/entries", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.Delete(0, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]int{"Deleted": n})
	})
	return mux
}

type noRedriver struct{}

func (noRedriver) Redrive(context.Context, uint64, string) (*Entry, error) { return nil, ErrNoRedriver }
func (noRedriver) RedriveAll(context.Context, string) ([]*Entry, error)    { return nil, ErrNoRedriver }

func pathID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid entry ID "+strconv.Quote(r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func writeErr(w http.ResponseWriter, err error, entry any) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoMapping), errors.Is(err, ErrNoFunction):
		code = http.StatusNotFound
	case errors.Is(err, ErrWrongMapping):
		code = http.StatusBadRequest
	case errors.Is(err, ErrAlreadyDone), errors.Is(err, ErrBusy), errors.Is(err, ErrCannotRun):
		code = http.StatusConflict
	case errors.Is(err, ErrNoRedriver):
		code = http.StatusNotImplemented
	}
	body := map[string]any{"message": err.Error()}
	if entry != nil {
		body["entry"] = entry
	}
	jsonhttp.Write(w, code, body)
}
