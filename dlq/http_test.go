package dlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestHTTPRedriveRefused: a redrive that cannot run (no such mapping, the
// entry's own mapping deleted, a mapping that reads another table's stream,
// a function deleted or with reserved concurrency 0) is refused with a 4xx
// before it begins, and the stored entry is left exactly as it was (no
// redrive count, state or mapping saved). Each request has a deadline: a
// redrive of a deleted function used to retry forever.
func TestHTTPRedriveRefused(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	otherArn := e.table("other")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
	e.function("g", "esm", map[string]string{"QUIET": "1"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1)})
	otherUUID := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("g"), EventSourceArn: aws.String(otherArn)})
	e.put("src", "k0", "bad")
	en := e.entries(uuid, 1)
	e.caughtUp(uuid)
	id := en[0].ID
	want, err := e.srv.DLQ().Get(id)
	if err != nil {
		t.Fatal(err)
	}
	base := e.srv.URL()
	refused := func(what, method, path string, code int, words ...string) {
		t.Helper()
		var out struct {
			Message string `json:"message"`
		}
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_ = json.Unmarshal(b, &out)
		if resp.StatusCode != code {
			t.Errorf("%s: %d %s; want %d", what, resp.StatusCode, b, code)
		}
		for _, w := range words {
			if !strings.Contains(out.Message, w) {
				t.Errorf("%s: message %q does not name %q", what, out.Message, w)
			}
		}
		got, err := e.srv.DLQ().Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed the entry: redrive %+v, %d records; want redrive %+v, %d records",
				what, got.Redrive, len(got.Records), want.Redrive, len(want.Records))
			want = got
		}
	}
	one := fmt.Sprintf("/eddy/dlq/entries/%d/redrive", id)

	refused("unknown mapping", "POST", one+"?mapping=NOPE", 404, "NOPE")
	refused("redrive all of an unknown mapping", "POST", "/eddy/dlq/redrive?mapping=NOPE", 404, "NOPE")
	refused("a mapping of another table", "POST", one+"?mapping="+otherUUID, 400, otherUUID, "other")

	if _, err := e.lam.PutFunctionConcurrency(e.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"),
		ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	refused("a function with reserved concurrency 0", "POST", one, 409, "f")
	if _, err := e.lam.DeleteFunctionConcurrency(e.ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}

	if _, err := e.lam.DeleteFunction(e.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	refused("a deleted function", "POST", one, 404, "f")
	refused("redrive all with a deleted function", "POST", "/eddy/dlq/redrive", 404, "f")

	if _, err := e.lam.DeleteEventSourceMapping(e.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mapping to be deleted", 10*time.Second, func() bool {
		_, err := e.srv.Mappings().Get(uuid)
		return err != nil
	})
	refused("the entry's own mapping deleted", "POST", one, 404, uuid)
	refused("redrive all of a deleted mapping", "POST", "/eddy/dlq/redrive?mapping="+uuid, 404, uuid)
}

// TestRedriveFunctionDeletedMidway: a function deleted while a redrive
// runs stops the redrive with a 404 naming it (a mapping's runner would
// wait for the function to come back; the redrive used to retry until the
// client gave up). The records not processed stay in the entry.
func TestRedriveFunctionDeletedMidway(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad"})
	for _, v := range []string{"bad", "x1"} {
		e.put("src", "k", v)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(10)})
	en := e.entries(uuid, 1)[0]
	e.caughtUp(uuid)
	if len(en.Records) != 2 {
		t.Fatalf("entry holds %d records, want 2", len(en.Records))
	}
	if _, err := e.lam.UpdateEventSourceMapping(e.ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), BatchSize: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// Hold the redrive's first invocation until the function is deleted.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hold := func() { once.Do(func() { close(entered); <-release }) }
	e.sink.hook.Store(&hold)
	type answer struct {
		code int
		body []byte
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL()+fmt.Sprintf("/eddy/dlq/entries/%d/redrive", en.ID), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{code: resp.StatusCode, body: b}
	}()
	select {
	case <-entered:
	case <-time.After(15 * time.Second):
		t.Fatal("the redrive never invoked the function")
	}
	if _, err := e.lam.DeleteFunction(e.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	close(release)
	a := <-done
	if a.err != nil {
		t.Fatalf("redrive: %v", a.err)
	}
	var out struct {
		Message string     `json:"message"`
		Entry   *dlq.Entry `json:"entry"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatalf("redrive: %d %s", a.code, a.body)
	}
	if a.code != 404 || !strings.Contains(out.Message, "function:f") || out.Entry == nil {
		t.Fatalf("redrive: %d %s", a.code, a.body)
	}
	got, err := e.srv.DLQ().Get(en.ID)
	if err != nil {
		t.Fatal(err)
	}
	// "bad" failed again, "x1" never ran: both are kept.
	if got.Redrive == nil || got.Redrive.State != dlq.RedriveFailed || !slices.Equal(vs(t, got), []string{"bad", "x1"}) {
		t.Fatalf("entry after the redrive: %+v, records %v", got.Redrive, vs(t, got))
	}
}
