package dlq

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/eddydb/eddy/internal/arn"
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
//
// With InRegion the API is per region, as the rest of eddy is.
func NewHandler(s *Store, rd Redriver, opts ...Option) http.Handler {
	if rd == nil {
		rd = noRedriver{}
	}
	var o handlerOpts
	for _, f := range opts {
		f(&o)
	}
	h := &regional{s: s, opts: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eddy/dlq/entries", func(w http.ResponseWriter, r *http.Request) {
		es, err := h.entries(r, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		l := make([]Summary, len(es))
		for i, e := range es {
			l[i] = e.summary()
		}
		jsonhttp.Write(w, http.StatusOK, map[string]any{"Entries": l})
	})
	mux.HandleFunc("GET /eddy/dlq/entries/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		e, err := h.get(r, id)
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
		if _, err := h.get(r, id); err != nil {
			writeErr(w, err, nil)
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
		es, err := h.redriveAll(r, rd, r.URL.Query().Get("mapping"))
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
		if _, err := h.get(r, id); err != nil {
			writeErr(w, err, nil)
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
		n, err := h.purge(r, r.URL.Query().Get("mapping"))
		if err != nil {
			writeErr(w, err, nil)
			return
		}
		jsonhttp.Write(w, http.StatusOK, map[string]int{"Deleted": n})
	})
	return mux
}

// Option configures NewHandler.
type Option func(*handlerOpts)

type handlerOpts struct {
	regional bool
	def      string
}

// InRegion makes the API per region, as eddy's DynamoDB and Lambda APIs
// are: a request sees, redrives and deletes only the dead letters of its
// region, the one in its SigV4 credential scope (def for an unsigned
// request); another region's entry is not found. An entry's region is its
// stream's (its record's DDBStreamBatchInfo.streamArn, else its function's).
func InRegion(def string) Option {
	return func(o *handlerOpts) { o.regional, o.def = true, def }
}

// regional applies handlerOpts to the store's reads.
type regional struct {
	s    *Store
	opts handlerOpts
}

// region is r's region ("" when the API is not per region).
func (h *regional) region(r *http.Request) string {
	if !h.opts.regional {
		return ""
	}
	sc, _ := arn.ParseScope(r) // an unreadable scope was refused before the mux
	return cmp.Or(sc.Region, h.opts.def)
}

// entryRegion is e's region: its stream's, else its function's, else def.
func (h *regional) entryRegion(e *Entry) string {
	return cmp.Or(arn.RegionOf(e.Record.DDBStreamBatchInfo.StreamArn), arn.RegionOf(e.Record.RequestContext.FunctionArn), h.opts.def)
}

// entries are the entries of mapping ("" for all) in r's region.
func (h *regional) entries(r *http.Request, mapping string) ([]*Entry, error) {
	es, err := h.s.Entries(mapping)
	if err != nil || !h.opts.regional {
		return es, err
	}
	region := h.region(r)
	out := es[:0]
	for _, e := range es {
		if h.entryRegion(e) == region {
			out = append(out, e)
		}
	}
	return out, nil
}

// get is entry id, ErrNotFound when it is another region's.
func (h *regional) get(r *http.Request, id uint64) (*Entry, error) {
	e, err := h.s.Get(id)
	if err == nil && h.opts.regional && h.entryRegion(e) != h.region(r) {
		return nil, ErrNotFound
	}
	return e, err
}

// redriveAll redrives every entry with records of mapping ("" for all) in
// r's region; a mapping with entries of another region is not found.
func (h *regional) redriveAll(r *http.Request, rd Redriver, mapping string) ([]*Entry, error) {
	if !h.opts.regional {
		return rd.RedriveAll(r.Context(), mapping)
	}
	if mapping != "" {
		all, err := h.s.Entries(mapping)
		if err != nil {
			return nil, err
		}
		for _, e := range all {
			if h.entryRegion(e) != h.region(r) {
				return nil, ErrNoMapping
			}
		}
		return rd.RedriveAll(r.Context(), mapping)
	}
	es, err := h.entries(r, "")
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, e := range es {
		if len(e.Records) == 0 {
			continue
		}
		d, err := rd.Redrive(r.Context(), e.ID, "")
		if d != nil {
			out = append(out, d)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// purge deletes the entries of mapping ("" for all) in r's region.
func (h *regional) purge(r *http.Request, mapping string) (int, error) {
	if !h.opts.regional {
		return h.s.Delete(0, mapping)
	}
	es, err := h.entries(r, mapping)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es {
		k, err := h.s.Delete(e.ID, "")
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
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
