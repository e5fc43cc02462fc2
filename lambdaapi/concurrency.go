package lambdaapi

import (
	"net/http"
)

// Reserved concurrency lives under older API versions' paths, as Lambda
// routes it (Lambda API reference: PutFunctionConcurrency and
// DeleteFunctionConcurrency under /2017-10-31/, GetFunctionConcurrency
// under /2019-09-30/). The server mounts these prefixes on this handler too.
const (
	ConcurrencyPrefix2017 = "/2017-10-31/"
	ConcurrencyPrefix2019 = "/2019-09-30/"
)

func (h *handler) routeConcurrency() {
	m := h.mux
	m.HandleFunc("PUT /2017-10-31/functions/{name}/concurrency", h.putConcurrency)
	m.HandleFunc("DELETE /2017-10-31/functions/{name}/concurrency", h.deleteConcurrency)
	m.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", h.getConcurrency)
}

// concurrency is Lambda's Concurrency shape: empty when the function has
// no reservation.
type concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

func (h *handler) putConcurrency(w http.ResponseWriter, r *http.Request) {
	var in struct{ ReservedConcurrentExecutions *int }
	name, q, err := h.target(r)
	if err == nil && q != "" {
		err = invalidParam("This operation does not support qualified function names: the reservation applies to every version")
	}
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil && in.ReservedConcurrentExecutions == nil {
		err = validation("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	if err == nil {
		var n int
		if n, err = h.host.PutFunctionConcurrency(name, *in.ReservedConcurrentExecutions); err == nil {
			writeJSON(w, http.StatusOK, concurrency{&n})
			return
		}
	}
	writeError(w, err)
}

func (h *handler) getConcurrency(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	if err == nil {
		var n int
		var ok bool
		if n, ok, err = h.host.GetFunctionConcurrency(name); err == nil {
			out := concurrency{}
			if ok {
				out.ReservedConcurrentExecutions = &n
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	writeError(w, err)
}

func (h *handler) deleteConcurrency(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	if err == nil {
		if err = h.host.DeleteFunctionConcurrency(name); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, err)
}
