package dlq_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestHTTPRedriveAll: POST /eddy/dlq/redrive with ?mapping= redrives only
// that mapping's entries; without it, every entry that still holds
// records (entries already done are skipped); GET and DELETE honour
// ?mapping= too.
func TestHTTPRedriveAll(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	uuids := map[string]string{}
	for _, fn := range []string{"fa", "fb"} {
		e.function(fn, "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
		uuids[fn] = e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
			MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1)})
	}
	for _, k := range []string{"k0", "k1"} {
		e.put("src", k, "bad")
	}
	e.entries("", 4)
	e.caughtUp(uuids["fa"])
	e.caughtUp(uuids["fb"])
	base := e.srv.URL()

	var list struct{ Entries []dlq.Summary }
	if code := httpDo(t, base, "GET", "/eddy/dlq/entries?mapping="+uuids["fa"], &list); code != 200 || len(list.Entries) != 2 {
		t.Fatalf("list ?mapping=fa: %d %+v", code, list)
	}
	for _, s := range list.Entries {
		if s.Mapping != uuids["fa"] || s.Records != 1 || s.Redrive != "" {
			t.Fatalf("list ?mapping=fa: %+v", s)
		}
	}
	if code := httpDo(t, base, "GET", "/eddy/dlq/entries?mapping=nosuch", &list); code != 200 || len(list.Entries) != 0 {
		t.Fatalf("list ?mapping=nosuch: %d %+v", code, list)
	}

	fixed, err := triggerstest.Build("dlqfixed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.lam.UpdateFunctionCode(e.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fa"), ZipFile: fixed}); err != nil {
		t.Fatal(err)
	}
	before := len(e.sink.vs())
	var all struct{ Entries []dlq.Entry }
	if code := httpDo(t, base, "POST", "/eddy/dlq/redrive?mapping="+uuids["fa"], &all); code != 200 || len(all.Entries) != 2 {
		t.Fatalf("redrive ?mapping=fa: %d, %d entries", code, len(all.Entries))
	}
	for _, x := range all.Entries {
		if x.Mapping != uuids["fa"] || x.Redrive == nil || x.Redrive.State != dlq.RedriveDone || len(x.Records) != 0 {
			t.Fatalf("redrive ?mapping=fa returned %+v", x)
		}
	}
	if d := e.sink.vs()[before:]; !slices.Equal(d, []string{"bad", "bad"}) {
		t.Fatalf("redrive ?mapping=fa delivered %v", d)
	}
	es, _ := e.srv.DLQ().Entries(uuids["fb"])
	for _, x := range es {
		if x.Redrive != nil || len(x.Records) != 1 {
			t.Fatalf("fb's entry %d touched by a redrive of fa: %+v", x.ID, x.Redrive)
		}
	}

	// All: fa's entries are done (skipped); fb's are redriven and fail
	// again (200, state "failed", records kept).
	all.Entries = nil
	if code := httpDo(t, base, "POST", "/eddy/dlq/redrive", &all); code != 200 || len(all.Entries) != 2 {
		t.Fatalf("redrive all: %d, %d entries", code, len(all.Entries))
	}
	for _, x := range all.Entries {
		if x.Mapping != uuids["fb"] || x.Redrive.State != dlq.RedriveFailed || len(x.Records) != 1 || x.Redrive.Count != 1 {
			t.Fatalf("redrive all returned %+v", x)
		}
	}

	var del struct{ Deleted int }
	if code := httpDo(t, base, "DELETE", "/eddy/dlq/entries?mapping="+uuids["fb"], &del); code != 200 || del.Deleted != 2 {
		t.Fatalf("purge ?mapping=fb: %d %+v", code, del)
	}
	if es, _ := e.srv.DLQ().Entries(""); len(es) != 2 || es[0].Mapping != uuids["fa"] || es[1].Mapping != uuids["fa"] {
		t.Fatalf("after purging fb: %d entries", len(es))
	}
	all.Entries = nil
	if code := httpDo(t, base, "POST", "/eddy/dlq/redrive", &all); code != 200 || len(all.Entries) != 0 {
		t.Fatalf("redrive all with nothing to redrive: %d %+v", code, all.Entries)
	}
}
