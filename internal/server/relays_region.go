package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/eddydb/eddy/internal/arn"
)

// relaysInRegion serves the relays API (h) to requests of the server's
// region (def) only. A relay carries the tables of the region eddy runs in
// (its subjects name that region, relay.Options.Region); a request signed
// for another region, where those tables do not exist, lists no relay, finds
// none, and cannot enable one: 400, saying so, rather than acting on another
// region's table of the same name.
func relaysInRegion(h http.Handler, def string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := arn.ParseScope(r) // an unreadable scope was refused before the mux
		region := cmp.Or(sc.Region, def)
		if region == def {
			h.ServeHTTP(w, r)
			return
		}
		code, body := http.StatusNotFound, any(map[string]string{"message": "relay: no such relay in " + region})
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/eddy/relays":
			code, body = http.StatusOK, map[string]any{"Relays": []any{}}
		case r.Method == http.MethodPost && r.URL.Path == "/eddy/relays":
			code, body = http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("relay: relays carry the tables of eddy's region (%s), not %s", def, region)}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
}
