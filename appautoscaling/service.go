package appautoscaling

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// Tables is what the scaler reads and changes of DynamoDB's tables;
// internal/server implements it over api (UpdateTable in process).
type Tables interface {
	// Capacity is the provisioned read and write units of table, or of
	// its global index when index is not empty; an error when either does
	// not exist.
	Capacity(region, table, index string) (read, write int64, err error)
	// SetCapacity changes them with UpdateTable (DynamoDB's rules apply:
	// its error, e.g. a decrease over the day's allowance, is returned).
	SetCapacity(ctx context.Context, region, table, index string, read, write int64) error
}

// Options configure a Service. Zero values mean the defaults.
type Options struct {
	// Region and AccountID appear in ARNs; Region is also the region of
	// unsigned requests. Defaults arn's.
	Region, AccountID string
	// Now is the clock the alarms evaluate on (tests compress time).
	// Default time.Now; it must be the metric store's clock.
	Now func() time.Time
	// MaxActivities bounds the scaling activities kept (the oldest go
	// first). Default 1000 (AWS keeps six weeks of them).
	MaxActivities int
}

// Service is the Application Auto Scaling API for DynamoDB over a metric
// store, and the scaler that evaluates its target tracking policies.
// Targets, policies and activities persist in their key space (KV). Safe
// for concurrent use.
type Service struct {
	opts    Options
	tables  Tables
	metrics *cwmetrics.Store
	kv      KV // nil: in memory only

	evalMu     sync.Mutex // one Evaluate at a time
	mu         sync.Mutex
	targets    map[resource]*target
	policies   map[policyKey]*policy
	activities []*activity
	seq        uint64 // the latest activity's
}

type target struct {
	resource
	min, max  int64
	role, arn string
	created   time.Time
	suspended SuspendedState
	// lastOut and lastIn are the ends of the latest scale-out and scale-in
	// (cooldowns), lastScale the latest of either: the alarms start their
	// evaluation periods afresh after a change of capacity.
	lastOut, lastIn, lastScale time.Time
}

type policyKey struct {
	resource
	name string
}

type policy struct {
	resource
	name, arn string
	created   time.Time
	cfg       TargetTracking
	alarms    []alarm // AlarmHigh, AlarmLow, ProvisionedCapacityHigh, ProvisionedCapacityLow
}

type activity struct {
	resource
	seq                                     uint64 // its key (persist.go)
	id, description, cause, status, message string
	start, end                              time.Time
}

// New returns a Service with the targets, policies and activities store
// holds (nil: none, kept in memory only).
func New(tables Tables, metrics *cwmetrics.Store, store KV, opts Options) (*Service, error) {
	opts.Region, opts.AccountID = cmp.Or(opts.Region, arn.DefaultRegion), cmp.Or(opts.AccountID, arn.DefaultAccount)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxActivities <= 0 {
		opts.MaxActivities = 1000
	}
	s := &Service{opts: opts, tables: tables, metrics: metrics, kv: store,
		targets: map[resource]*target{}, policies: map[policyKey]*policy{}}
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("appautoscaling: load: %w", err)
	}
	return s, nil
}

func (s *Service) sortedTargets() []*target {
	out := make([]*target, 0, len(s.targets))
	for _, t := range s.targets {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *target) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.Dimension, b.Dimension))
	})
	return out
}

func (s *Service) sortedPolicies() []*policy {
	out := make([]*policy, 0, len(s.policies))
	for _, p := range s.policies {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *policy) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.name, b.name))
	})
	return out
}

// The alarms Application Auto Scaling creates for a DynamoDB target
// tracking policy (DynamoDB developer guide, "How DynamoDB auto scaling
// works"): the high alarm fires when consumed capacity exceeds the target
// utilization for 2 consecutive minutes; the low alarm when it stays below
// the target minus 20 percent for 15 consecutive minutes.
const (
	highPeriods = 2
	lowPeriods  = 15
	lowFactor   = 0.8
)

// decision is one policy's verdict for its target.
type decision struct {
	p        *policy
	t        *target
	cur, to  int64
	alarm    string
	read     bool
	out      bool
	table    string
	index    string
	otherCap int64 // the other dimension's units, left as they are
}

// Evaluate runs every target tracking policy's alarms once on the
// metrics' complete minutes and changes capacity where one fires, each
// change recorded as a scaling activity. The server calls it every minute;
// tests call it after advancing their clock.
func (s *Service) Evaluate(ctx context.Context) {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	now := s.opts.Now()
	var todo []decision
	s.mu.Lock()
	for _, p := range s.sortedPolicies() {
		t := s.targets[p.resource]
		if t == nil {
			continue
		}
		if d, ok := s.decide(p, t, now); ok {
			todo = append(todo, d)
		}
	}
	s.mu.Unlock()
	for _, d := range todo {
		s.apply(ctx, d, now)
	}
}

// decide evaluates p's alarms for t at now. Called with mu held.
func (s *Service) decide(p *policy, t *target, now time.Time) (decision, bool) {
	table, index, write := t.parsed()
	read, wr, err := s.tables.Capacity(t.Region, table, index)
	if err != nil {
		return decision{}, false // the table is gone: nothing to scale
	}
	cur, other := read, wr
	metric := cwmetrics.ConsumedRead
	if write {
		cur, other, metric = wr, read, cwmetrics.ConsumedWrite
	}
	if cur <= 0 {
		return decision{}, false // on-demand
	}
	target := *p.cfg.TargetValue
	key := cwmetrics.Key{Region: t.Region, Metric: metric, Table: table, Index: index}
	// Whole minutes only, and only those after the latest change of
	// capacity and the policy's creation (the alarms are recreated then).
	since := p.created
	if t.lastScale.After(since) {
		since = t.lastScale
	}
	first := since.Truncate(time.Minute)
	if first.Before(since) {
		first = first.Add(time.Minute)
	}
	last := now.Truncate(time.Minute).Add(-time.Minute) // the latest complete minute
	util := func(m time.Time) float64 {
		return s.metrics.Sum(key, m) / 60 / float64(cur) * 100
	}
	// enough reports whether the n minutes ending at last are all complete
	// and after first.
	enough := func(n int) bool { return !last.Add(-time.Duration(n-1) * time.Minute).Before(first) }
	d := decision{p: p, t: t, cur: cur, read: !write, table: table, index: index, otherCap: other}

	if enough(highPeriods) {
		high := true
		for i := range highPeriods {
			high = high && util(last.Add(-time.Duration(i)*time.Minute)) > target
		}
		if high && !t.suspended.DynamicScalingOutSuspended && !inCooldown(t.lastOut, p.cfg.ScaleOutCooldown, now) {
			to := min(int64(math.Ceil(float64(cur)*util(last)/target)), t.max)
			if to > cur {
				d.to, d.out, d.alarm = to, true, p.alarms[0].AlarmName
				return d, true
			}
		}
	}
	if enough(lowPeriods) && !(p.cfg.DisableScaleIn != nil && *p.cfg.DisableScaleIn) && !t.suspended.DynamicScalingInSuspended &&
		!inCooldown(t.lastIn, p.cfg.ScaleInCooldown, now) && !inCooldown(t.lastOut, p.cfg.ScaleOutCooldown, now) {
		low, peak := true, 0.0
		for i := range lowPeriods {
			u := util(last.Add(-time.Duration(i) * time.Minute))
			low = low && u < target*lowFactor
			peak = max(peak, u)
		}
		if low {
			to := max(int64(math.Ceil(float64(cur)*peak/target)), t.min, 1)
			if to < cur {
				d.to, d.alarm = to, p.alarms[1].AlarmName
				return d, true
			}
		}
	}
	return decision{}, false
}

func inCooldown(last time.Time, secs *int64, now time.Time) bool {
	if last.IsZero() || secs == nil {
		return false
	}
	return now.Before(last.Add(time.Duration(*secs) * time.Second))
}

// apply changes the capacity through UpdateTable and records the
// activity as DynamoDB's auto scaling reports it.
func (s *Service) apply(ctx context.Context, d decision, now time.Time) {
	what := "write"
	read, write := d.otherCap, d.to
	if d.read {
		what = "read"
		read, write = d.to, d.otherCap
	}
	a := &activity{resource: d.t.resource, id: uuid.New(), start: now,
		description: fmt.Sprintf("Setting %s capacity units to %d.", what, d.to),
		cause:       fmt.Sprintf("monitor alarm %s in state ALARM triggered policy %s", d.alarm, d.p.name)}
	err := s.tables.SetCapacity(ctx, d.t.Region, d.table, d.index, read, write)
	a.end = s.opts.Now()
	if err != nil {
		a.status, a.message = "Failed", fmt.Sprintf("Failed to set %s capacity units to %d. Reason: %s", what, d.to, strings.TrimSpace(err.Error()))
	} else {
		a.status, a.message = "Successful", fmt.Sprintf("Successfully set %s capacity units to %d. Change successfully fulfilled by dynamodb.", what, d.to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := *d.t
	if err == nil {
		t.lastScale = a.end
		if d.out {
			t.lastOut = a.end
		} else {
			t.lastIn = a.end
		}
	}
	s.seq++
	a.seq = s.seq
	sets := map[string]any{string(activityKey(a.seq)): a.rec()}
	if s.targets[d.t.resource] == d.t { // not deregistered meanwhile
		sets[string(targetKey(t.resource))] = t.rec()
	}
	var del [][]byte
	over := len(s.activities) + 1 - s.opts.MaxActivities
	for i := 0; i < over; i++ {
		del = append(del, activityKey(s.activities[i].seq))
	}
	if err := s.save(sets, del...); err != nil {
		return // not recorded: the capacity changed, the next evaluation starts from it
	}
	*d.t = t
	s.activities = append(s.activities, a)
	if over > 0 {
		s.activities = slices.Delete(s.activities, 0, over)
	}
}
