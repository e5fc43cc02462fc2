package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/jsonhttp"
	"github.com/eddydb/eddy/store"
)

// openGlobal opens the replication of global tables when Options.GlobalRegions
// names peers: over the NATS server the relays use (the embedded one unless
// --nats names one), after the relays, so it closes before them.
func (s *Server) openGlobal(sub func(string) *slog.Logger) error {
	if len(s.opts.GlobalRegions) == 0 {
		return nil
	}
	o := s.opts.Global
	o.Region, o.Regions, o.Logger = s.opts.Region, s.opts.GlobalRegions, sub("global")
	if o.OnApplied == nil {
		// CloudWatch's ReplicationLatency: in the source region's namespace
		// with this region as ReceivingRegion, as DynamoDB publishes it
		// (docs: "Monitoring global tables"), kept by this server.
		o.OnApplied = func(table, origin string, lat time.Duration) {
			s.cwm.Set(cwmetrics.Key{Region: origin, Metric: cwmetrics.ReplicationLatency, Table: table, Receiving: s.opts.Region},
				float64(lat.Microseconds())/1000)
		}
	}
	// Gaps repaired by a re-backfill (a region behind the stream's retention).
	resyncs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eddy_global_resyncs_total",
		Help: "Gaps found by a global table's consumer (changes of the origin region trimmed from the stream before they were applied here), each repaired by a re-backfill from the origin."},
		[]string{"table", "origin"})
	s.metrics.MustRegister(resyncs)
	if next := o.OnResync; next != nil {
		o.OnResync = func(table, origin string) { resyncs.WithLabelValues(table, origin).Inc(); next(table, origin) }
	} else {
		o.OnResync = func(table, origin string) { resyncs.WithLabelValues(table, origin).Inc() }
	}
	o.Call = func(ctx context.Context, region, op string, req []byte) ([]byte, error) {
		return s.api.CallIn(ctx, region, op, req, "")
	}
	switch s.opts.NATS {
	case NATSEmbedded, "":
		o.Connect = func() (string, error) { return s.startNATS(sub("nats")) }
	default:
		o.URL = s.opts.NATS
	}
	g, err := global.Open(s.db, o)
	if err != nil {
		return err
	}
	s.global.m = g
	s.opened("global", g.Close)
	return nil
}

// Global returns the replication of global tables, nil when not configured.
func (s *Server) Global() *global.Manager { return s.global.m }

// globalTables is api.GlobalTables over the manager, which is opened after
// the api (it runs DynamoDB operations through it): nil until then.
type globalTables struct{ m *global.Manager }

func (g *globalTables) Replicas(region, table string) ([]api.Replica, bool) {
	if g.m == nil {
		return nil, false
	}
	reps, ok := g.m.Replicas(region, table)
	out := make([]api.Replica, len(reps))
	for i, r := range reps {
		out[i] = api.Replica{Region: r.Region, Status: r.Status,
			Settings: api.ReplicaSettings{ReadCapacityUnits: r.Settings.ReadCapacityUnits, TableClass: r.Settings.TableClass, Indexes: r.Settings.Indexes}}
	}
	return out, ok
}

func (g *globalTables) UpdateReplica(ctx context.Context, region, table string, create bool, target string) error {
	return g.m.UpdateReplica(ctx, region, table, create, target)
}

func (g *globalTables) UpdateReplicaSettings(ctx context.Context, region, table, target string, s api.ReplicaSettings) error {
	return g.m.UpdateReplicaSettings(ctx, region, table, target, global.Settings{ReadCapacityUnits: s.ReadCapacityUnits, TableClass: s.TableClass, Indexes: s.Indexes})
}

// globalDeps is api.Deps.Global: nil when no global regions are configured.
func globalDeps(opts Options, g *globalTables) api.GlobalTables {
	if len(opts.GlobalRegions) == 0 {
		return nil
	}
	return g
}

// globalHandler serves GET /eddy/global/tables/NAME: the table's replicas,
// their status and the replication lag from each other region
// (global.Status; eddy tables replicas NAME); and GET
// /eddy/global/tables/NAME/items?key=KEY, KEY an item's key in DynamoDB
// JSON: the item with the identity of its last write in this region
// (global.ItemState: under MREC the winning timestamp and region).
func (s *Server) globalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/eddy/global/tables/")
		name, items := strings.CutSuffix(name, "/items") // table names hold no '/'
		if r.Method != http.MethodGet {
			jsonhttp.Error(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if s.global.m == nil {
			jsonhttp.Error(w, http.StatusNotFound, "global tables are not configured (eddy serve --global-regions)")
			return
		}
		// Per region like eddy's other admin APIs: global tables are those of
		// the server's region; a request signed for another finds none.
		sc, _ := arn.ParseScope(r) // an unreadable scope was refused before the mux
		region := cmp.Or(sc.Region, s.opts.Region)
		if items && region == s.opts.Region {
			s.globalItem(w, r, name)
			return
		}
		st, ok := s.global.m.Status(name)
		if !ok || region != s.opts.Region {
			jsonhttp.Error(w, http.StatusNotFound, "table "+name+" is not a global table in region "+region)
			return
		}
		jsonhttp.Write(w, http.StatusOK, st)
	})
}

// globalItem answers GET /eddy/global/tables/NAME/items?key=KEY.
func (s *Server) globalItem(w http.ResponseWriter, r *http.Request, name string) {
	var key attr.Item
	if err := json.Unmarshal([]byte(r.URL.Query().Get("key")), &key); err != nil || len(key) == 0 {
		jsonhttp.Error(w, http.StatusBadRequest, `key: an item's key in DynamoDB JSON, such as {"pk":{"S":"a"}}`)
		return
	}
	st, err := s.global.m.Item(r.Context(), name, key)
	switch {
	case errors.Is(err, global.ErrNotGlobal):
		jsonhttp.Error(w, http.StatusNotFound, "table "+name+" is not a global table in region "+s.opts.Region)
	case errors.Is(err, global.ErrBadKey):
		jsonhttp.Error(w, http.StatusBadRequest, err.Error())
	case err != nil:
		// The caller gets the failure (a store error, logged by the store).
		jsonhttp.Error(w, http.StatusInternalServerError, err.Error())
	default:
		jsonhttp.Write(w, http.StatusOK, st)
	}
}

// The MRSC side of api.StrongTables.

func (g *globalTables) Consistency(region, table string) string {
	if g.m == nil {
		return ""
	}
	return g.m.Consistency(region, table)
}

func (g *globalTables) ReadBarrier(ctx context.Context, region, table string, t *store.Table, keys attr.Item) error {
	if g.m == nil {
		return nil
	}
	return g.m.ReadBarrier(ctx, region, table, t, keys)
}

func (g *globalTables) CreateStrong(ctx context.Context, region, table string, replicas, witnesses []string) error {
	return g.m.CreateStrong(ctx, region, table, replicas, witnesses)
}

func (g *globalTables) BeginTTL(ctx context.Context, region, table string) (func(bool), error) {
	if g.m == nil {
		return func(bool) {}, nil
	}
	return g.m.BeginTTL(ctx, region, table)
}

func (g *globalTables) BeginDeleteTable(ctx context.Context, region, table string) (func(bool), error) {
	if g.m == nil {
		return func(bool) {}, nil
	}
	return g.m.BeginDeleteTable(ctx, region, table)
}

func (g *globalTables) DeleteStrong(ctx context.Context, region, table string, replicas, witnesses []string) error {
	return g.m.DeleteStrong(ctx, region, table, replicas, witnesses)
}

func (g *globalTables) Witnesses(region, table string) []api.Replica {
	if g.m == nil {
		return nil
	}
	var out []api.Replica
	for _, w := range g.m.Witnesses(region, table) {
		out = append(out, api.Replica{Region: w.Region, Status: w.Status})
	}
	return out
}
