package api

import (
	"context"
	"fmt"

	"github.com/eddydb/eddy/api/lambdaapi"
	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers"
)

// guestTableOps are the DynamoDB operations a trigger function may call
// through eddy.table_call (see triggers/ABI.md).
var guestTableOps = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true,
}

// guestTables runs a guest's table calls through the same handlers as the
// HTTP API, so a function sees exactly DynamoDB's validation and errors.
type guestTables struct{ s *Server }

func (g guestTables) Call(ctx context.Context, op string, req []byte) ([]byte, error) {
	if !guestTableOps[op] {
		return nil, guestError{ddberr.New(ddberr.KindUnknownOperation, "eddy: %s is not available to trigger functions", op)}
	}
	out, err := g.s.Call(ctx, op, req, "")
	if err != nil {
		return nil, guestError{ddberr.As(err)}
	}
	return out, nil
}

// guestError hands a DynamoDB error to the guest as DynamoDB's error JSON.
type guestError struct{ e *ddberr.Error }

func (g guestError) Error() string             { return g.e.Error() }
func (g guestError) Unwrap() error             { return g.e }
func (g guestError) DynamoDBErrorJSON() []byte { return errorBody(g.e) }

// noSinks is the sink set when none is configured: every emit fails with a
// clear message instead of vanishing.
type noSinks struct{}

func (noSinks) Emit(ctx context.Context, sink string, doc []byte) error {
	return fmt.Errorf("eddy: no sink named %q is configured (eddy serve --sink %s=URL)", sink, sink)
}

// startTriggers builds the trigger host on its key space of the store and mounts
// the Lambda API.
func (s *Server) startTriggers() error {
	sinks := s.opts.Sinks
	if sinks == nil {
		sinks = noSinks{}
	}
	dataDir := s.opts.DataDir
	if s.opts.InMemory {
		dataDir = ""
	}
	host, err := triggers.New(triggers.Options{
		DB:          s.db.KeySpace(store.SpaceFunctions),
		DataDir:     dataDir,
		Tables:      guestTables{s},
		Sinks:       sinks,
		Region:      s.opts.Region,
		Account:     s.opts.AccountID,
		TrustedCode: s.opts.TrustedFunctions,
	})
	if err != nil {
		return err
	}
	s.triggers = host
	do := s.opts.DLQ
	if do.Region == "" {
		do.Region, do.Account = s.opts.Region, s.opts.AccountID
	}
	dq, err := dlq.Open(s.db, do)
	if err != nil {
		host.Close()
		return err
	}
	mo := s.opts.Mappings
	mo.DB, mo.Log, mo.Host, mo.Render, mo.DLQ = s.db, s.log, host, s.appendRecord, dq
	mgr, err := mappings.New(mo)
	if err != nil {
		host.Close()
		return err
	}
	s.mappings = mgr
	dq.SetRedriver(mgr)
	dq.Start()
	s.dlq = dq
	s.mux.Handle("/eddy/dlq/", dq.Handler())
	s.mux.Handle("/2015-03-31/", lambdaapi.NewHandler(host, lambdaapi.WithMappings(mgr)))
	s.mux.Handle("GET /metrics", mgr.MetricsHandler())
	return nil
}

// Mappings returns the event source mapping manager.
func (s *Server) Mappings() *mappings.Manager { return s.mappings }

// DLQ returns the dead-letter store.
func (s *Server) DLQ() *dlq.Store { return s.dlq }

// Triggers returns the trigger host.
func (s *Server) Triggers() *triggers.Host { return s.triggers }
