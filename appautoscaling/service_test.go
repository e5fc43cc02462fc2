package appautoscaling

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/cwmetrics"
)

// fakeTables is one table's capacity; SetCapacity fails with err when set.
type fakeTables struct {
	read, write int64
	err         error
	sets        []int64 // the write units asked for
}

func (f *fakeTables) Capacity(region, table, index string) (int64, int64, error) {
	return f.read, f.write, nil
}

func (f *fakeTables) SetCapacity(_ context.Context, _, _, _ string, read, write int64) error {
	f.sets = append(f.sets, write)
	if f.err != nil {
		return f.err
	}
	f.read, f.write = read, write
	return nil
}

type rig struct {
	t      *testing.T
	now    time.Time
	tables *fakeTables
	m      *cwmetrics.Store
	s      *Service
}

func newRig(t *testing.T, write, minCap, maxCap int64, cfg string) *rig {
	r := &rig{t: t, now: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), tables: &fakeTables{read: 5, write: write}}
	clock := func() time.Time { return r.now }
	r.m = cwmetrics.New(cwmetrics.Options{Now: clock})
	var err error
	if r.s, err = New(r.tables, r.m, nil, Options{Now: clock}); err != nil {
		t.Fatal(err)
	}
	ns, id, dim := "dynamodb", "table/t", "dynamodb:table:WriteCapacityUnits"
	if _, err := r.s.register("us-east-1", &targetIn{ServiceNamespace: &ns, ResourceID: &id, ScalableDimension: &dim, MinCapacity: &minCap, MaxCapacity: &maxCap}); err != nil {
		t.Fatal(err)
	}
	in := &policyIn{ServiceNamespace: &ns, ResourceID: &id, ScalableDimension: &dim}
	name, typ := "p", "TargetTrackingScaling"
	in.PolicyName, in.PolicyType = &name, &typ
	in.TargetTracking = &TargetTracking{}
	if err := jsonUnmarshal(cfg, in.TargetTracking); err != nil {
		t.Fatal(err)
	}
	if _, err := r.s.putPolicy("us-east-1", in); err != nil {
		t.Fatal(err)
	}
	return r
}

// minute writes units in the current minute, moves to the next and
// evaluates.
func (r *rig) minute(units float64) {
	if units > 0 {
		r.m.Record(&cwmetrics.Usage{Region: "us-east-1", Table: "t", Op: "PutItem", Write: units})
	}
	r.now = r.now.Add(time.Minute)
	r.s.Evaluate(context.Background())
}

// TestCooldownDelaysTheNextScaleOut: after a scale-out, utilization over
// the target does not scale out again until ScaleOutCooldown has passed.
func TestCooldownDelaysTheNextScaleOut(t *testing.T) {
	r := newRig(t, 5, 5, 100, `{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"},"ScaleOutCooldown":300}`)
	r.minute(600) // 200% of 5 units
	r.minute(600)
	if r.tables.write != 20 {
		t.Fatalf("after 2 minutes at 200%%: %d units (sets %v), want 20", r.tables.write, r.tables.sets)
	}
	for i := range 4 { // 100% of 20 units, within the 5-minute cooldown
		r.minute(1200)
		if r.tables.write != 20 {
			t.Fatalf("minute %d of the cooldown: %d units", i+1, r.tables.write)
		}
	}
	r.minute(1200) // the cooldown is over: 2 minutes over the target
	if r.tables.write != 40 {
		t.Fatalf("after the cooldown: %d units (sets %v), want 40", r.tables.write, r.tables.sets)
	}
}

// TestDisableScaleIn: a policy with DisableScaleIn never lowers capacity.
func TestDisableScaleIn(t *testing.T) {
	r := newRig(t, 10, 5, 100, `{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"},"DisableScaleIn":true}`)
	for range 30 {
		r.minute(0)
	}
	if len(r.tables.sets) != 0 {
		t.Fatalf("sets %v, want none", r.tables.sets)
	}
}

// TestRefusedScaleInIsAFailedActivity: when UpdateTable refuses a decrease
// (DynamoDB's limit on decreases per day), the activity is Failed with the
// reason, capacity stays, and the scaler tries again at its next
// evaluation.
func TestRefusedScaleInIsAFailedActivity(t *testing.T) {
	r := newRig(t, 10, 5, 100, `{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"}}`)
	r.tables.err = errors.New("LimitExceededException: Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day.")
	for range 14 {
		r.minute(10) // 10 units a minute: 1.7% of 10 units/s
	}
	if len(r.tables.sets) != 0 {
		t.Fatalf("scaled in after 14 minutes: %v", r.tables.sets)
	}
	r.minute(10)
	r.minute(10)
	if len(r.tables.sets) != 2 || r.tables.sets[0] != 5 || r.tables.write != 10 {
		t.Fatalf("sets %v, capacity %d: want two refused attempts to set 5", r.tables.sets, r.tables.write)
	}
	ns := "dynamodb"
	out, err := r.s.describeActivities("us-east-1", &listIn{ServiceNamespace: &ns})
	if err != nil {
		t.Fatal(err)
	}
	acts := out.(struct {
		ScalingActivities []activityOut `json:"ScalingActivities"`
		NextToken         *string       `json:"NextToken,omitempty"`
	}).ScalingActivities
	if len(acts) != 2 || acts[0].StatusCode != "Failed" || acts[0].Description != "Setting write capacity units to 5." ||
		!strings.HasPrefix(acts[0].StatusMessage, "Failed to set write capacity units to 5. Reason: LimitExceededException: ") {
		t.Fatalf("activities %+v", acts)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
