package api

import (
	"context"
	"time"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Time to Live: UpdateTimeToLive and DescribeTimeToLive set and show the
// table's store.TTLSpec; a background sweeper deletes expired items.
//
// Differences from DynamoDB (documented): a change takes effect at once
// (DynamoDB passes through ENABLING/DISABLING for up to an hour and refuses
// another change meanwhile), and expired items go within
// Options.TTLSweepInterval rather than within about 48 hours.

// ttlSweepBatch bounds the items one sweep pass reads per table; a larger
// table is swept over several passes, resuming where the last one stopped.
const ttlSweepBatch = 1000

func (s *Server) registerTTLOps() {
	s.ops["UpdateTimeToLive"] = s.updateTimeToLive
	s.ops["DescribeTimeToLive"] = s.describeTimeToLive
}

func (s *Server) updateTimeToLive(ctx context.Context, c *call) (any, error) {
	var in struct {
		TableName *string `json:"TableName"`
		Spec      *struct {
			Enabled       *bool   `json:"Enabled"`
			AttributeName *string `json:"AttributeName"`
		} `json:"TimeToLiveSpecification"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.tableName(in.TableName, "tableName")
	v.notNull(in.Spec != nil, "timeToLiveSpecification")
	if in.Spec != nil {
		v.notNull(in.Spec.AttributeName != nil, "timeToLiveSpecification.attributeName")
		v.notNull(in.Spec.Enabled != nil, "timeToLiveSpecification.enabled")
		if a := in.Spec.AttributeName; a != nil && len(*a) > 255 {
			v.fail(*a, "timeToLiveSpecification.attributeName", "Member must have length less than or equal to 255")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	name, enable := *in.Spec.AttributeName, *in.Spec.Enabled
	if name == "" {
		return nil, ddberr.Validationf("TimeToLiveSpecification.AttributeName must be non empty")
	}
	_, err := s.db.UpdateTable(*in.TableName, func(t *store.Table) error {
		switch {
		case enable && t.TTL.Enabled:
			return ddberr.Validationf("TimeToLive is already enabled")
		case !enable && !t.TTL.Enabled:
			return ddberr.Validationf("TimeToLive is already disabled")
		case !enable && t.TTL.AttributeName != name:
			return ddberr.Validationf("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.TTL.AttributeName)
		}
		t.TTL = store.TTLSpec{Enabled: enable}
		if enable {
			t.TTL.AttributeName = name
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	type spec struct {
		Enabled       bool   `json:"Enabled"`
		AttributeName string `json:"AttributeName"`
	}
	return struct {
		Spec spec `json:"TimeToLiveSpecification"`
	}{spec{enable, name}}, nil
}

func (s *Server) describeTimeToLive(ctx context.Context, c *call) (any, error) {
	var in struct {
		TableName *string `json:"TableName"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.tableName(in.TableName, "tableName")
	if err := v.err(); err != nil {
		return nil, err
	}
	t := s.db.Table(*in.TableName)
	if t == nil {
		return nil, ddberr.TableNotFound(*in.TableName)
	}
	type desc struct {
		Status        string `json:"TimeToLiveStatus"`
		AttributeName string `json:"AttributeName,omitempty"`
	}
	d := desc{Status: "DISABLED"}
	if t.TTL.Enabled {
		d = desc{Status: "ENABLED", AttributeName: t.TTL.AttributeName}
	}
	return struct {
		Desc desc `json:"TimeToLiveDescription"`
	}{d}, nil
}

// ttlSweeper deletes expired items of every table with TTL enabled, one
// bounded pass per interval, until stop is closed. It also drops expired
// transaction token records.
type ttlSweeper struct {
	db       *store.DB
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}
	cursor   map[uint32][]byte // per table ID: where the next pass resumes
}

func (s *Server) startTTLSweeper() {
	if s.opts.TTLSweepInterval < 0 {
		return
	}
	w := &ttlSweeper{db: s.db, interval: s.opts.TTLSweepInterval, stop: make(chan struct{}), done: make(chan struct{}), cursor: map[uint32][]byte{}}
	s.ttl = w
	go w.run()
}

// Stop ends the sweeper and waits for a pass in progress to finish.
func (w *ttlSweeper) Stop() {
	close(w.stop)
	<-w.done
}

func (w *ttlSweeper) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.pass(ctx)
		}
	}
}

// pass sweeps each TTL-enabled table once (at most ttlSweepBatch items of
// each). Errors end the pass; the next one retries.
func (w *ttlSweeper) pass(ctx context.Context) {
	now := time.Now()
	for _, name := range w.db.TableNames() {
		t := w.db.Table(name)
		if t == nil || !t.TTL.Enabled {
			continue
		}
		r, err := w.db.SweepExpired(ctx, t, w.cursor[t.ID], ttlSweepBatch, now)
		if err != nil {
			return
		}
		w.cursor[t.ID] = r.Next
	}
	// Token records: up to 20 batches a pass keeps up with ~4000
	// transactions a second at the default interval.
	for i := 0; i < 20; i++ {
		if n, err := w.db.PurgeTokens(now, ttlSweepBatch); err != nil || n < ttlSweepBatch {
			break
		}
	}
}
