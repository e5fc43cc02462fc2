package mappings_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/mappings"
)

// TestStatusSurvivesRestart: a mapping's LastProcessingResult, the text
// of its last failure and its Totals are what they were before a restart,
// not "No records processed", nothing and zeros.
func TestStatusSurvivesRestart(t *testing.T) {
	e := start(t, t.TempDir())
	arn := e.table("src")
	e.function("f", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("f"), EventSourceArn: aws.String(arn), StartingPosition: ltypes.EventSourcePositionTrimHorizon,
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(0),
	})
	e.put("src", "k", "bad", nil)
	e.caughtUp(uuid, 20*time.Second)
	result := func() string {
		t.Helper()
		out, err := e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.LastProcessingResult)
	}
	e.waitFor("the failure to show", 10*time.Second, func() bool { return strings.HasPrefix(result(), "PROBLEM") })
	before := result()
	lastErr, err := e.srv.Mappings().LastError(uuid)
	if err != nil || lastErr == "" {
		t.Fatalf("LastError before the restart: %q %v", lastErr, err)
	}
	e.restart()
	if got := result(); got != before {
		t.Fatalf("LastProcessingResult after the restart %q, was %q", got, before)
	}
	if got, err := e.srv.Mappings().LastError(uuid); err != nil || got != lastErr {
		t.Fatalf("LastError after the restart %q (%v), was %q", got, err, lastErr)
	}
	totals := func(want mappings.Totals) {
		t.Helper()
		got, err := e.srv.Mappings().Totals(uuid)
		if err != nil || got != want {
			t.Fatalf("Totals %+v (%v), want %+v", got, err, want)
		}
	}
	totals(mappings.Totals{RecordsDelivered: 0, RecordsDeadLettered: 1})
	// A success after the restart replaces the result, and that survives
	// the next restart too; the failure's text is kept.
	e.put("src", "k2", "good", nil)
	e.caughtUp(uuid, 20*time.Second)
	e.waitFor("OK", 10*time.Second, func() bool { return result() == "OK" })
	e.restart()
	if got := result(); got != "OK" {
		t.Fatalf("LastProcessingResult after the second restart %q, want OK", got)
	}
	if got, _ := e.srv.Mappings().LastError(uuid); got != lastErr {
		t.Fatalf("LastError after the second restart %q, want %q", got, lastErr)
	}
	totals(mappings.Totals{RecordsDelivered: 1, RecordsDeadLettered: 1})
	if _, err := e.lam.DeleteEventSourceMapping(e.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Mappings().Totals(uuid); err == nil {
		t.Fatal("Totals of a deleted mapping answered")
	}
}
