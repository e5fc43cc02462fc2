package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/jsonhttp"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/outbox"
)

// replicateFunction is the built-in handler of replications (see
// mappings.Deps.Builtins): a mapping naming "eddy.replicate:SINK" runs
// outbox.Replicate.
const replicateFunction = "eddy.replicate"

func (s *Server) builtins(name string) (mappings.Builtin, bool) {
	if name == replicateFunction {
		return s.outbox.Replicate, true
	}
	if s.opts.Builtins != nil {
		return s.opts.Builtins(name)
	}
	return nil, false
}

// replicationRequest is the body of POST /eddy/replications.
type replicationRequest struct {
	Table string `json:"Table"`
	// Region is the table's region; empty: the server's (--region).
	Region string   `json:"Region"`
	Sink   string   `json:"Sink"`
	Fields []string `json:"Fields"`
	// StartingPosition is SNAPSHOT (default: every item in the table now,
	// then every change), TRIM_HORIZON (the stream's last 24 hours, then
	// every change) or LATEST (changes from now on).
	StartingPosition string `json:"StartingPosition"`
	// BatchSize defaults to 1000.
	BatchSize int `json:"BatchSize"`
}

// replicationView is a replication with its mapping's state.
type replicationView struct {
	outbox.Replication
	State                string `json:"State"`
	LastProcessingResult string `json:"LastProcessingResult"`
	EventSourceArn       string `json:"EventSourceArn"`
}

// replicationsHandler serves zero-code replication:
//
//	POST   /eddy/replications          {"Table","Sink","Fields","StartingPosition"} → 201 replicationView
//	GET    /eddy/replications          {"Replications":[replicationView...]}
//	DELETE /eddy/replications/{uuid}   {"Deleted":"uuid"}
//
// A replication is an event source mapping on the table's stream (enabled
// with NEW_AND_OLD_IMAGES when the table has none) whose function is the
// built-in eddy.replicate: INSERT and MODIFY index the new image under the
// item's key, REMOVE deletes it, versions are sequence numbers.
func (s *Server) replicationsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /eddy/replications", func(w http.ResponseWriter, r *http.Request) {
		var req replicationRequest
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "the body must be a replication: "+err.Error())
			return
		}
		v, code, err := s.createReplication(r.Context(), req)
		if err != nil {
			writeMessage(w, code, err.Error())
			return
		}
		writeJSONBody(w, http.StatusCreated, v)
	})
	mux.HandleFunc("GET /eddy/replications", func(w http.ResponseWriter, r *http.Request) {
		reps, err := s.outbox.Replications()
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := []replicationView{}
		for _, rep := range reps {
			out = append(out, s.replicationView(rep))
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"Replications": out})
	})
	mux.HandleFunc("DELETE /eddy/replications/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("uuid")
		reps, err := s.outbox.Replications()
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		found := false
		for _, rep := range reps {
			found = found || rep.UUID == id
		}
		if !found {
			writeMessage(w, http.StatusNotFound, "no replication "+id)
			return
		}
		if _, err := s.mappings.Delete(id); err != nil && !errors.Is(err, mappings.ErrNotFound) {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		if err := s.outbox.DeleteReplication(id); err != nil {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"Deleted": id})
	})
	return mux
}

func (s *Server) replicationView(rep outbox.Replication) replicationView {
	v := replicationView{Replication: rep, State: "Deleted"}
	if c, err := s.mappings.Get(rep.UUID); err == nil {
		v.State, v.LastProcessingResult, v.EventSourceArn = c.State, c.LastProcessingResult, c.EventSourceArn
	}
	return v
}

// createReplication makes the mapping (disabled), stores the replication,
// then enables the mapping, so no invocation runs before its replication
// exists.
func (s *Server) createReplication(ctx context.Context, req replicationRequest) (replicationView, int, error) {
	if req.Table == "" || req.Sink == "" {
		return replicationView{}, http.StatusBadRequest, errors.New("a replication needs Table and Sink")
	}
	if _, err := s.outbox.Describe(req.Sink); err != nil {
		return replicationView{}, http.StatusNotFound, err
	}
	pos := strings.ToUpper(req.StartingPosition)
	snapshot := false
	switch pos {
	case "", "SNAPSHOT":
		pos, snapshot = "LATEST", true
	case "TRIM_HORIZON", "LATEST":
	default:
		return replicationView{}, http.StatusBadRequest, fmt.Errorf("StartingPosition must be SNAPSHOT, TRIM_HORIZON or LATEST, not %q", req.StartingPosition)
	}
	if req.BatchSize == 0 {
		req.BatchSize = 1000
	}
	streamArn, keyNames, err := s.replicationStream(ctx, req.Region, req.Table)
	if err != nil {
		return replicationView{}, http.StatusBadRequest, err
	}
	// A snapshot's documents have the version every change delivered from
	// now on exceeds (outbox.Snapshot).
	version := uint64(s.streams.HighWater())
	fn := replicateFunction + ":" + req.Sink
	off := false
	c, err := s.mappings.Create(&mappings.Spec{FunctionName: &fn, EventSourceArn: &streamArn, StartingPosition: &pos,
		BatchSize: &req.BatchSize, Enabled: &off})
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, mappings.ErrConflict) {
			code = http.StatusConflict
		}
		return replicationView{}, code, err
	}
	rep := outbox.Replication{UUID: c.UUID, Table: req.Table, Region: req.Region, Sink: req.Sink, Fields: req.Fields, Created: time.Now().UTC(), KeyNames: keyNames}
	if snapshot {
		rep.Snapshot = &outbox.Snapshot{Version: version}
	}
	if err := s.outbox.PutReplication(rep); err != nil {
		_, _ = s.mappings.Delete(c.UUID)
		return replicationView{}, http.StatusInternalServerError, err
	}
	on := true
	if _, err := s.mappings.Update(c.UUID, &mappings.Spec{Enabled: &on}); err != nil {
		return replicationView{}, http.StatusInternalServerError, err
	}
	s.outbox.StartSnapshot(rep.UUID)
	return s.replicationView(rep), 0, nil
}

// replicationStream returns the table's stream ARN, enabling a
// NEW_AND_OLD_IMAGES stream when the table has none; a stream without new
// images cannot feed a replication.
func (s *Server) replicationStream(ctx context.Context, region, table string) (string, []string, error) {
	req, _ := json.Marshal(map[string]string{"TableName": table})
	out, err := s.api.CallIn(ctx, region, "DescribeTable", req, "")
	if err != nil {
		return "", nil, err
	}
	var d struct {
		Table struct {
			LatestStreamArn     string
			KeySchema           []struct{ AttributeName string }
			StreamSpecification *struct {
				StreamEnabled  bool
				StreamViewType string
			}
		}
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return "", nil, err
	}
	var keys []string
	for _, k := range d.Table.KeySchema {
		keys = append(keys, k.AttributeName)
	}
	if spec := d.Table.StreamSpecification; spec != nil && spec.StreamEnabled {
		if spec.StreamViewType != "NEW_IMAGE" && spec.StreamViewType != "NEW_AND_OLD_IMAGES" {
			return "", nil, fmt.Errorf("table %s's stream is %s: a replication needs NEW_IMAGE or NEW_AND_OLD_IMAGES", table, spec.StreamViewType)
		}
		return d.Table.LatestStreamArn, keys, nil
	}
	req, _ = json.Marshal(map[string]any{"TableName": table,
		"StreamSpecification": map[string]any{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
	if out, err = s.api.CallIn(ctx, region, "UpdateTable", req, ""); err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal([]byte(strings.Replace(string(out), `"TableDescription"`, `"Table"`, 1)), &d); err != nil {
		return "", nil, err
	}
	if d.Table.LatestStreamArn == "" {
		return "", nil, fmt.Errorf("table %s: enabling its stream returned no stream ARN", table)
	}
	s.log.Info("enabled a stream for a replication", "table", table)
	return d.Table.LatestStreamArn, keys, nil
}

// writeMessage and writeJSONBody answer the server's own routes
// (/eddy/replications, /eddy/backup) as relay, outbox and dlq answer
// theirs.
func writeMessage(w http.ResponseWriter, code int, msg string) { jsonhttp.Error(w, code, msg) }

func writeJSONBody(w http.ResponseWriter, code int, v any) { jsonhttp.Write(w, code, v) }

// scanTable reads one page of a table for a replication's snapshot: a
// consistent Scan through the DynamoDB API.
func (s *Server) scanTable(ctx context.Context, region, table string, start json.RawMessage) (outbox.ScanPage, error) {
	req := map[string]any{"TableName": table, "ConsistentRead": true, "Limit": 500}
	if len(start) > 0 && string(start) != "null" {
		req["ExclusiveStartKey"] = start
	}
	b, _ := json.Marshal(req)
	out, err := s.api.CallIn(ctx, region, "Scan", b, "")
	if err != nil {
		return outbox.ScanPage{}, err
	}
	var page struct {
		Items            []map[string]json.RawMessage
		LastEvaluatedKey json.RawMessage
	}
	if err := json.Unmarshal(out, &page); err != nil {
		return outbox.ScanPage{}, err
	}
	return outbox.ScanPage{Items: page.Items, Next: page.LastEvaluatedKey}, nil
}
