package mappings_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/mappings"
)

// TestSeriesEndpoint: GET /eddy/mappings/{uuid}/series counts what the
// mapping did this minute (invocations, errors, records delivered and
// dead-lettered, durations, lag per shard), and answers 404 for an unknown
// mapping.
func TestSeriesEndpoint(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("fn", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fn"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(0)})
	e.put("src", "a", "ok", nil)
	e.put("src", "b", "bad", nil)
	e.put("src", "c", "ok", nil)
	e.caughtUp(uuid, time.Minute)

	get := func(id string) (int, mappings.Series) {
		resp, err := http.Get(e.srv.URL() + "/eddy/mappings/" + id + "/series")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s mappings.Series
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, s
	}
	var s mappings.Series
	var code int
	// The checkpoint commits before Delivered is observed: wait for it.
	e.waitFor("the series to count 2 records", 30*time.Second, func() bool {
		code, s = get(uuid)
		return code == 200 && s.Hour.RecordsDelivered == 2 && s.Hour.RecordsDeadLettered == 1
	})
	if len(s.Samples) != 60 || s.PeriodSeconds != 60 || s.FunctionName != "fn" {
		t.Fatalf("series: %d samples, period %d, function %q", len(s.Samples), s.PeriodSeconds, s.FunctionName)
	}
	h := s.Hour
	if h.Invocations != 3 || h.Errors != 1 || h.DurationMillis == nil || h.DurationMillis.P50 <= 0 || len(h.LagMillis) == 0 {
		t.Fatalf("hour: %+v (durations %+v)", h, h.DurationMillis)
	}
	st, err := e.srv.Mappings().Status(uuid)
	if err != nil {
		t.Fatal(err)
	}
	shards := map[string]bool{}
	for _, sh := range st {
		shards[sh.ShardID] = true
	}
	for id := range h.LagMillis {
		if !shards[id] {
			t.Errorf("lag is keyed by %v, not by the stream's shards %v", h.LagMillis, shards)
		}
	}
	// Disabling stops the runner; the mapping's hour stays.
	if _, err := e.lam.UpdateEventSourceMapping(e.ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, s := get(uuid); s.Hour.Invocations != 3 || s.Hour.RecordsDelivered != 2 {
		t.Errorf("after a disable the hour is %+v, want the same 3 invocations and 2 records", s.Hour)
	}
	if code, _ := get("00000000-0000-0000-0000-000000000000"); code != http.StatusNotFound {
		t.Errorf("an unknown mapping: %d, want 404", code)
	}
}
