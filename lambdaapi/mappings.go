package lambdaapi

import (
	"net/http"
	"strconv"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/mappings"
)

// WithMappings serves the event source mapping operations
// (/2015-03-31/event-source-mappings/) over m.
func WithMappings(m *mappings.Manager) Option { return func(h *handler) { h.esm = m } }

const esmPrefix = "/2015-03-31/event-source-mappings"

func (h *handler) routeMappings() {
	m := h.mux
	m.HandleFunc("POST "+esmPrefix+"/{$}", h.createMapping)
	m.HandleFunc("POST "+esmPrefix, h.createMapping)
	m.HandleFunc("GET "+esmPrefix+"/{$}", h.listMappings)
	m.HandleFunc("GET "+esmPrefix, h.listMappings)
	m.HandleFunc("GET "+esmPrefix+"/{uuid}", h.getMapping)
	m.HandleFunc("PUT "+esmPrefix+"/{uuid}", h.updateMapping)
	m.HandleFunc("DELETE "+esmPrefix+"/{uuid}", h.deleteMapping)
	// eddy extensions (not in Lambda's API): per-shard progress and the
	// failure records kept for the mapping.
	m.HandleFunc("GET "+esmPrefix+"/{uuid}/shards", h.mappingShards)
	m.HandleFunc("GET "+esmPrefix+"/{uuid}/failures", h.mappingFailures)
}

func (h *handler) createMapping(w http.ResponseWriter, r *http.Request) {
	var spec mappings.Spec
	if err := decode(r, &spec); err != nil {
		writeError(w, err)
		return
	}
	if spec.EventSourceArn != nil && arn.RegionOf(*spec.EventSourceArn) != arn.RegionFrom(r.Context()) {
		// A mapping reads a stream of its own region: from this region's
		// endpoint another region's stream does not exist.
		writeError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", true, "Stream not found: " + *spec.EventSourceArn})
		return
	}
	c, err := h.esm.Create(&spec)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, c)
}

// inRegion answers ResourceNotFoundException for a mapping of another
// region (of another region's stream), as for one that does not exist.
func (h *handler) inRegion(w http.ResponseWriter, r *http.Request) bool {
	c, err := h.esm.Get(r.PathValue("uuid"))
	if err == nil && arn.RegionOf(c.EventSourceArn) != arn.RegionFrom(r.Context()) {
		err = mappings.NotFound(c.UUID)
	}
	if err != nil {
		writeError(w, err)
		return false
	}
	return true
}

func (h *handler) getMapping(w http.ResponseWriter, r *http.Request) {
	if !h.inRegion(w, r) {
		return
	}
	c, err := h.esm.Get(r.PathValue("uuid"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *handler) listMappings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all, err := h.esm.List(arn.RegionFrom(r.Context()), q.Get("FunctionName"), q.Get("EventSourceArn"))
	if err != nil {
		writeError(w, err)
		return
	}
	maxItems := 100
	if s := q.Get("MaxItems"); s != "" {
		if maxItems, err = strconv.Atoi(s); err != nil || maxItems < 1 || maxItems > 10000 {
			writeError(w, &apiError{http.StatusBadRequest, "ValidationException", true,
				"1 validation error detected: Value '" + s + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"})
			return
		}
	}
	pageItems, next, err := mappings.Page(all, q.Get("Marker"), maxItems)
	if err != nil {
		writeError(w, err)
		return
	}
	out := struct {
		EventSourceMappings []mappings.Configuration
		NextMarker          string `json:"NextMarker,omitempty"`
	}{EventSourceMappings: append([]mappings.Configuration{}, pageItems...), NextMarker: next}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) updateMapping(w http.ResponseWriter, r *http.Request) {
	var spec mappings.Spec
	if err := decode(r, &spec); err != nil {
		writeError(w, err)
		return
	}
	if !h.inRegion(w, r) {
		return
	}
	c, err := h.esm.Update(r.PathValue("uuid"), &spec)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, c)
}

func (h *handler) deleteMapping(w http.ResponseWriter, r *http.Request) {
	if !h.inRegion(w, r) {
		return
	}
	c, err := h.esm.Delete(r.PathValue("uuid"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, c)
}

func (h *handler) mappingShards(w http.ResponseWriter, r *http.Request) {
	if !h.inRegion(w, r) {
		return
	}
	st, err := h.esm.Status(r.PathValue("uuid"))
	if err != nil {
		writeError(w, err)
		return
	}
	// LastError (eddy's): the text of the last delivery failure, which
	// LastProcessingResult's fixed values do not carry.
	lastErr, _ := h.esm.LastError(r.PathValue("uuid"))
	totals, err := h.esm.Totals(r.PathValue("uuid"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Shards    []mappings.ShardStatus
		LastError string `json:",omitempty"`
		mappings.Totals
	}{append([]mappings.ShardStatus{}, st...), lastErr, totals})
}

func (h *handler) mappingFailures(w http.ResponseWriter, r *http.Request) {
	if !h.inRegion(w, r) {
		return
	}
	fr, err := h.esm.Failures(r.PathValue("uuid"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{ Failures []mappings.FailureRecord }{append([]mappings.FailureRecord{}, fr...)})
}
