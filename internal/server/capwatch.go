package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/appautoscaling"
	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// openCapWatch builds the CloudWatch metric store and the Application Auto
// Scaling service (before api, which reports each request's usage to the
// store; the service's targets, policies and activities are read from
// their key space).
func (s *Server) openCapWatch() error {
	mo := s.opts.Metrics
	if mo.Now == nil {
		mo.Now = s.opts.Clock
	}
	s.cwm = cwmetrics.New(mo)
	// The last 3 hours of data points survive a restart: read back now,
	// written every MetricsInterval (Tick) and when the server closes.
	if err := s.cwm.Load(s.db.KeySpace(store.SpaceMetrics)); err != nil {
		return err
	}
	s.opened("metrics", s.cwm.Flush)
	var err error
	s.scaling, err = appautoscaling.New(capacityTables{s}, s.cwm, s.db.KeySpace(store.SpaceAutoScaling), appautoscaling.Options{
		Region: s.opts.Region, AccountID: s.opts.AccountID, Now: s.cwm.Now})
	return err
}

// startCapWatch runs Tick every MetricsInterval (default 1 minute).
func (s *Server) startCapWatch() {
	every := s.opts.MetricsInterval
	if every < 0 {
		return
	}
	if every == 0 {
		every = time.Minute
	}
	g := lifecycle.New(context.Background(), "capwatch", s.log)
	g.Go("metrics tick", func(ctx context.Context) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Tick(ctx)
			}
		}
	})
	s.opened("capwatch", func() error { g.Stop(); return nil })
}

// Tick samples every provisioned table's and global index's
// ProvisionedRead/WriteCapacityUnits into the metric store, evaluates
// the auto scaling policies, then writes the metric store's changed data
// points to its key space. The server calls it every MetricsInterval;
// tests with a compressed clock call it after advancing the clock.
func (s *Server) Tick(ctx context.Context) {
	for _, t := range s.db.Tables() {
		if t.BillingMode == "PAY_PER_REQUEST" {
			continue
		}
		k := cwmetrics.Key{Region: t.Region, Table: t.Name}
		s.setProvisioned(k, t.Throughput)
		for i := range t.Indexes {
			if ix := &t.Indexes[i]; ix.Global {
				k.Index = ix.Name
				s.setProvisioned(k, ix.Throughput)
			}
		}
	}
	s.scaling.Evaluate(ctx)
	if err := s.cwm.Flush(); err != nil {
		s.log.Warn("cloudwatch metrics: flush failed", "err", err)
	}
}

func (s *Server) setProvisioned(k cwmetrics.Key, tp store.Throughput) {
	k.Metric = cwmetrics.ProvisionedRead
	s.cwm.Set(k, float64(tp.Read))
	k.Metric = cwmetrics.ProvisionedWrite
	s.cwm.Set(k, float64(tp.Write))
}

// Metrics returns the CloudWatch metric store (the capacity limiter
// reports throttles to it: RecordThrottle).
func (s *Server) Metrics() *cwmetrics.Store { return s.cwm }

// recordUsage is api's Deps.Usage: a request's consumption into the
// metric store.
func (s *Server) recordUsage(u *api.Usage) {
	cu := cwmetrics.Usage{Region: u.Region, Table: u.Table, Op: u.Op, Read: u.Read, Write: u.Write,
		Items: u.Items, CountItems: u.CountItems, Latency: u.Latency}
	if len(u.Indexes) > 0 {
		cu.Indexes = make([]cwmetrics.IndexUsage, len(u.Indexes))
		for i, ix := range u.Indexes {
			cu.Indexes[i] = cwmetrics.IndexUsage{Name: ix.Name, Read: ix.Read, Write: ix.Write}
		}
	}
	s.cwm.Record(&cu)
}

// capacityTables is the scaler's view of the tables: read from the
// catalog, changed through UpdateTable in process, so DynamoDB's rules
// and errors apply to auto scaling as to any client.
type capacityTables struct{ s *Server }

var errNoTable = errors.New("no such table or index")

func (c capacityTables) Capacity(region, table, index string) (int64, int64, error) {
	t := c.s.db.TableIn(region, table)
	if t == nil {
		return 0, 0, errNoTable
	}
	if index == "" {
		return t.Throughput.Read, t.Throughput.Write, nil
	}
	ix := t.Index(index)
	if ix == nil || !ix.Global {
		return 0, 0, errNoTable
	}
	return ix.Throughput.Read, ix.Throughput.Write, nil
}

func (c capacityTables) SetCapacity(ctx context.Context, region, table, index string, read, write int64) error {
	pt := map[string]int64{"ReadCapacityUnits": read, "WriteCapacityUnits": write}
	req := map[string]any{"TableName": table}
	if index == "" {
		req["ProvisionedThroughput"] = pt
	} else {
		req["GlobalSecondaryIndexUpdates"] = []any{map[string]any{"Update": map[string]any{"IndexName": index, "ProvisionedThroughput": pt}}}
	}
	b, _ := json.Marshal(req)
	_, err := c.s.api.CallIn(ctx, region, "UpdateTable", b, "application-autoscaling")
	return err
}

// throttleMetrics is the capacity limiter's Observer: each throttle event
// becomes CloudWatch's ReadThrottleEvents or WriteThrottleEvents (of the
// table or the global index) and ThrottledRequests. Consumption is
// recorded from api's Usage hook (every admitted request), except a
// trigger handler's writes (no operation): api does not count them when
// the handler makes its calls, since they are written, and consume, only
// when the mapping commits them, once however often the batch is retried.
type throttleMetrics struct{ cwm *cwmetrics.Store }

func (t throttleMetrics) Throttled(region, table, index string, read bool, op string) {
	th := &cwmetrics.Throttle{Region: region, Table: table, Op: op}
	n := func(r bool) int {
		if r {
			return 1
		}
		return 0
	}
	if index == "" {
		th.Read, th.Write = n(read), n(!read)
	} else {
		th.Indexes = []cwmetrics.IndexThrottle{{Name: index, Read: n(read), Write: n(!read)}}
	}
	t.cwm.RecordThrottle(th)
}

func (t throttleMetrics) Consumed(region, table, index string, read bool, op string, units float64) {
	if op == "" {
		t.cwm.AddConsumed(region, table, index, read, units)
	}
}
