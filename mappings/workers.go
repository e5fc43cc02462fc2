package mappings

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"

	"github.com/eddydb/eddy/dlq"
)

// Mappings run by trigger workers (`eddy worker`, package worker).
//
// A mapping whose function Options.OnWorkers names (eddy serve
// --worker-functions) gets no runner in eddy: remote workers read its
// records from the relay's JetStream subjects and run the function. eddy
// keeps what must stay exact in one place: each worker lane's checkpoint
// (one lane per shard; the key of lane 0 of the in-process layout,
// store.go) and the handler's table writes commit in ONE synced
// store.DB.Write, guarded by the checkpoint the worker started from
// (CommitWorker), so a batch's effects apply once whatever the workers,
// NATS or the network do. The worker routes (WorkerHandler):
//
//	GET  /eddy/workers/mappings                      the enabled mappings marked for workers (WorkerMapping)
//	GET  /eddy/workers/functions/{name}/code?qualifier=Q   the function's module (application/wasm)
//	GET  /eddy/workers/checkpoints/{uuid}/{shard}    {"Checkpoint":"<seq>","Exists":bool}
//	POST /eddy/workers/commit                        WorkerCommit: writes + checkpoint (+ dead letter) in one batch
//
// A commit whose Prev is not the lane's checkpoint (another worker moved
// it: a redelivery, a worker thought dead) answers 409 with the current
// checkpoint and changes nothing.

// WorkerMapping is one mapping as a worker needs it.
type WorkerMapping struct {
	Configuration
	Function  string `json:"Function"`
	Qualifier string `json:"Qualifier,omitempty"`
	Region    string `json:"Region"`
	Table     string `json:"Table"`
	// The function's configuration, and its code's hash (hex sha256):
	// a worker fetches the code again when it changes.
	Handler     string            `json:"Handler"`
	TimeoutMs   int64             `json:"TimeoutMs"`
	MemoryMB    int               `json:"MemoryMB"`
	Environment map[string]string `json:"Environment,omitempty"`
	CodeHash    string            `json:"CodeHash"`
}

// WorkerWrite is one table write a handler made on a worker: a PutItem,
// UpdateItem or DeleteItem request as on the wire.
type WorkerWrite struct {
	Op      string          `json:"Op"`
	Request json.RawMessage `json:"Request"`
}

// WorkerCommit is a worker lane's outcome (delivery.Outcome on the wire).
type WorkerCommit struct {
	Mapping string `json:"Mapping"`
	Shard   string `json:"Shard"`
	// Prev is the checkpoint the worker's batch starts after; the commit
	// applies only when it is still the lane's checkpoint (0 with IfAbsent:
	// only when the lane has none yet, whatever the records' predecessor).
	Prev     streams.Seq `json:"Prev,string"`
	IfAbsent bool        `json:"IfAbsent,omitempty"`
	// Next is the new checkpoint (0: unchanged).
	Next      streams.Seq   `json:"Next,string"`
	Writes    []WorkerWrite `json:"Writes,omitempty"`
	Failure   *dlq.Entry    `json:"Failure,omitempty"`
	Delivered int           `json:"Delivered,omitempty"`
}

// ErrCheckpointMoved: a WorkerCommit's Prev is not the lane's checkpoint.
var ErrCheckpointMoved = errors.New("mappings: the lane's checkpoint moved")

// WorkerApply applies one handler write in ctx's region into the
// store.WriteBuffer ctx carries (internal/server: api.Server.CallIn); a
// DynamoDB error implements DynamoDBErrorJSON.
type WorkerApply func(ctx context.Context, op string, req []byte) error

// onWorkers reports whether c runs on workers.
func (m *Manager) onWorkers(c *Configuration) bool {
	return m.opts.OnWorkers != nil && m.opts.OnWorkers(c.FunctionName)
}

// WorkerMappings lists the enabled mappings that run on workers.
func (m *Manager) WorkerMappings() ([]WorkerMapping, error) {
	m.mu.Lock()
	var cs []Configuration
	for _, e := range m.maps {
		if e.cfg.Enabled && m.onWorkers(&e.cfg) {
			cs = append(cs, m.view(e))
		}
	}
	m.mu.Unlock()
	out := make([]WorkerMapping, 0, len(cs))
	for _, c := range cs {
		region := arn.RegionOf(c.EventSourceArn)
		fc, err := m.deps.Host.GetFunction(m.deps.Host.FunctionKey(region, c.FunctionName), c.Qualifier)
		if err != nil {
			continue // the function is gone: nothing a worker could run
		}
		out = append(out, WorkerMapping{Configuration: c, Function: c.FunctionName, Qualifier: c.Qualifier, Region: region,
			Table: streamTableName(c.EventSourceArn), Handler: fc.Handler, TimeoutMs: fc.Timeout.Milliseconds(),
			MemoryMB: fc.MemoryMB, Environment: fc.Environment, CodeHash: fc.CodeHash})
	}
	return out, nil
}

// streamTableName is the table of a stream ARN (…:table/NAME/stream/LABEL).
func streamTableName(s string) string {
	parts := strings.Split(s, "/")
	if len(parts) >= 2 {
		return parts[1]
	}
	return ""
}

// WorkerCheckpoint returns a worker lane's checkpoint; ok is false when
// the lane has none.
func (m *Manager) WorkerCheckpoint(uuid, shard string) (streams.Seq, bool, error) {
	v, ok, err := m.ks.checkpoints.Get(ckptKey(uuid, shard, 0))
	if err != nil || !ok || len(v) != 8 {
		return 0, false, err
	}
	return streams.Seq(binary.BigEndian.Uint64(v)), true, nil
}

// workerLocks serializes the commits of one lane, so that checking Prev
// and writing Next are one step (one eddy process owns the store).
var workerLocks sync.Map // uuid/shard → *sync.Mutex

// CommitWorker applies c in one synced store.DB.Write: the handler's
// writes (evaluated in order into a store.WriteBuffer through apply, as
// a mapping invocation's are, as the function's execution role), the
// lane's checkpoint, the mapping's totals
// and the dead-letter entry. It fails with ErrCheckpointMoved (and the
// current checkpoint) when Prev is not the lane's checkpoint, and with the
// write's error when a write is refused (nothing is written).
func (m *Manager) CommitWorker(ctx context.Context, c *WorkerCommit, apply WorkerApply) (streams.Seq, error) {
	m.mu.Lock()
	e := m.maps[c.Mapping]
	var cfg Configuration
	if e != nil {
		cfg = e.cfg
	}
	m.mu.Unlock()
	if e == nil || !m.onWorkers(&cfg) {
		return 0, newErr(ErrNotFound, "The resource you requested does not exist.")
	}
	mu, _ := workerLocks.LoadOrStore(c.Mapping+"/"+c.Shard, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	cur, exists, err := m.WorkerCheckpoint(c.Mapping, c.Shard)
	if err != nil {
		return 0, err
	}
	if (c.IfAbsent && exists) || (!c.IfAbsent && cur != c.Prev) {
		return cur, ErrCheckpointMoved
	}
	if c.Next != 0 && exists && c.Next <= cur {
		return cur, newErr(ErrInvalidParameter, "Next %s is not past the checkpoint %s", c.Next, cur)
	}
	buf := store.NewWriteBuffer(m.deps.DB)
	region := arn.RegionOf(cfg.EventSourceArn)
	wctx := store.WithBuffer(arn.WithRegion(ctx, region), buf)
	if fc, err := m.deps.Host.GetFunction(m.deps.Host.FunctionKey(region, cfg.FunctionName), cfg.Qualifier); err == nil && fc.Role != "" {
		wctx = arn.WithPrincipal(wctx, fc.Role) // as a function's table calls in eddy: its execution role
	}
	for i, w := range c.Writes {
		switch w.Op {
		case "PutItem", "UpdateItem", "DeleteItem":
		default:
			return cur, newErr(ErrInvalidParameter, "write %d: %s is not a table write", i, w.Op)
		}
		if err := apply(wctx, w.Op, w.Request); err != nil {
			return cur, fmt.Errorf("write %d (%s): %w", i, w.Op, err)
		}
	}
	ws := &handlerWrites{tables: buf, emits: outbox.NewBuffer()}
	err = m.commit(ctx, ws, nil, func(b *store.Batch) error {
		if c.Next != 0 {
			if err := m.ks.checkpoints.Set(b, ckptKey(c.Mapping, c.Shard, 0), seqBytes(c.Next)); err != nil {
				return err
			}
		}
		failed := 0
		if c.Failure != nil {
			failed = len(c.Failure.Records)
		}
		if c.Delivered > 0 || failed > 0 {
			if err := m.ks.mappings.AddCounts(b, totalsKey(c.Mapping), int64(c.Delivered), int64(failed)); err != nil {
				return err
			}
		}
		if c.Failure != nil {
			c.Failure.Mapping = c.Mapping
			return m.deps.DLQ.Append(b, c.Failure)
		}
		return nil
	})
	if err != nil {
		return cur, err
	}
	if c.Failure != nil {
		m.deps.DLQ.Notify()
	}
	return max(cur, c.Next), nil
}

// WorkerHandler serves the worker routes (above) under /eddy/workers/.
func WorkerHandler(m *Manager, apply WorkerApply) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, ErrInvalidParameter):
			code = http.StatusBadRequest
		}
		var dj interface{ DynamoDBErrorJSON() []byte }
		if errors.As(err, &dj) {
			var body map[string]any
			_ = json.Unmarshal(dj.DynamoDBErrorJSON(), &body)
			reply(w, http.StatusBadRequest, map[string]any{"message": err.Error(), "DynamoDBError": body})
			return
		}
		reply(w, code, map[string]string{"message": err.Error()})
	}
	mux.HandleFunc("GET /eddy/workers/mappings", func(w http.ResponseWriter, r *http.Request) {
		ms, err := m.WorkerMappings()
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, map[string]any{"Mappings": ms})
	})
	mux.HandleFunc("GET /eddy/workers/functions/{name}/code", func(w http.ResponseWriter, r *http.Request) {
		region := r.URL.Query().Get("region")
		code, err := m.deps.Host.Code(m.deps.Host.FunctionKey(region, r.PathValue("name")), r.URL.Query().Get("qualifier"))
		if err != nil {
			if errors.Is(err, triggers.ErrNotFound) {
				err = newErr(ErrNotFound, "Function not found: %s", r.PathValue("name"))
			}
			fail(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/wasm")
		_, _ = w.Write(code)
	})
	mux.HandleFunc("GET /eddy/workers/checkpoints/{uuid}/{shard}", func(w http.ResponseWriter, r *http.Request) {
		seq, ok, err := m.WorkerCheckpoint(r.PathValue("uuid"), r.PathValue("shard"))
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, map[string]any{"Checkpoint": seq.String(), "Exists": ok})
	})
	mux.HandleFunc("POST /eddy/workers/commit", func(w http.ResponseWriter, r *http.Request) {
		var c WorkerCommit
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&c); err != nil {
			fail(w, newErr(ErrInvalidParameter, "bad commit: %v", err))
			return
		}
		cur, err := m.CommitWorker(r.Context(), &c, apply)
		if errors.Is(err, ErrCheckpointMoved) {
			reply(w, http.StatusConflict, map[string]any{"message": err.Error(), "Checkpoint": cur.String()})
			return
		}
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, map[string]any{"Checkpoint": cur.String()})
	})
	return mux
}
