package dlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/mototest"
)

// TestAWSDestinationsRestart: the destinations are up and receive one
// entry each; moto is killed; more failures arrive and wait in the outbox;
// moto starts again on the same port (with no state: the queue and bucket
// are created again) and every entry is delivered exactly once.
//
// Because moto forgets everything on restart, the assertion is split at
// the restart: before it, the queue holds exactly entry 1 (drained, so a
// duplicate of it would later show up in the new queue); after it, the
// new queue and bucket hold exactly entries 2..4, each once, and nothing
// of entry 1 (not re-sent after it was acknowledged).
func TestAWSDestinationsRestart(t *testing.T) {
	moto := mototest.Start(t)
	endpoint := moto.URL
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String(endpoint)}
	sq := sqs.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	setup := func() *string {
		t.Helper()
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("failures")}); err != nil {
			t.Fatal(err)
		}
		return q.QueueUrl
	}
	qurl := setup()

	e := start(t, dlq.Options{AWSEndpoint: endpoint})
	arn := e.table("src")
	uuids := map[string]string{}
	for fn, d := range map[string]string{"fsqs": "arn:aws:sqs:us-east-1:123456789012:dlq", "fs3": "arn:aws:s3:::failures"} {
		e.function(fn, "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
		uuids[fn] = e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
			MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1),
			DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(d)}}})
	}
	reqIDs := func(fn string) []string {
		es, err := e.srv.DLQ().Entries(uuids[fn])
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range es {
			ids = append(ids, x.Record.RequestContext.RequestID)
		}
		return ids
	}
	allDelivered := func(n int) func() bool {
		return func() bool {
			es, _ := e.srv.DLQ().Entries("")
			if len(es) != n {
				return false
			}
			for _, x := range es {
				if x.Delivery == nil || x.Delivery.Delivered.IsZero() {
					return false
				}
			}
			return true
		}
	}
	drain := func(url *string) []string {
		t.Helper()
		var ids []string
		for empty := 0; empty < 2; {
			out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				empty++
				continue
			}
			for _, m := range out.Messages {
				var r dlq.Record
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil {
					t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
				}
				ids = append(ids, r.RequestContext.RequestID)
			}
		}
		sort.Strings(ids)
		return ids
	}
	objects := func() []string {
		t.Helper()
		out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("failures"), Prefix: aws.String("aws/lambda/" + uuids["fs3"] + "/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		sort.Strings(keys)
		return keys
	}
	s3Keys := func(fn string) []string {
		es, _ := e.srv.DLQ().Entries(uuids[fn])
		var keys []string
		for _, x := range es {
			keys = append(keys, dlq.S3Key(x))
		}
		sort.Strings(keys)
		return keys
	}

	// 1. Destinations up: one failure, delivered once.
	e.put("src", "k0", "bad")
	waitFor(t, "the first entries delivered", 20*time.Second, allDelivered(2))
	first := reqIDs("fsqs")
	if got := drain(qurl); !slices.Equal(got, first) {
		t.Fatalf("before the outage SQS got %v, want %v", got, first)
	}
	firstKeys := s3Keys("fs3")
	if got := objects(); !slices.Equal(got, firstKeys) {
		t.Fatalf("before the outage S3 holds %v, want %v", got, firstKeys)
	}

	// 2. Destinations down: three more failures wait in the outbox.
	moto.Stop()
	for i := 1; i <= 3; i++ {
		e.put("src", fmt.Sprintf("k%d", i), "bad")
	}
	waitFor(t, "failed sends to both destinations", 20*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries("")
		if len(es) != 8 {
			return false
		}
		tried := 0
		for _, x := range es[2:] {
			if !x.Delivery.Delivered.IsZero() {
				t.Fatalf("entry %d delivered during the outage", x.ID)
			}
			if x.Delivery.Attempts > 0 {
				tried++
			}
		}
		return tried >= 2
	})

	// 3. Destinations back (empty): each pending entry arrives once.
	moto.Start()
	qurl = setup()
	waitFor(t, "every entry delivered", 30*time.Second, allDelivered(8))
	after := reqIDs("fsqs")[1:]
	sort.Strings(after)
	if got := drain(qurl); !slices.Equal(got, after) || len(got) != 3 {
		t.Fatalf("after the restart SQS got %v, want %v (entry 1 %v must not come again)", got, after, first)
	}
	afterKeys := s3Keys("fs3")
	afterKeys = slices.DeleteFunc(afterKeys, func(k string) bool { return slices.Contains(firstKeys, k) })
	if got := objects(); !slices.Equal(got, afterKeys) || len(got) != 3 {
		t.Fatalf("after the restart S3 holds %v, want %v", got, afterKeys)
	}
}

// TestRestartResumes: entries whose destination is down when eddy stops
// (cleanly) are still pending after a restart on the same data directory,
// and the outbox sends each of them once when the destination comes up.
func TestRestartResumes(t *testing.T) {
	mototest.Require(t)
	port := mototest.FreePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := startDir(t, dlq.Options{AWSEndpoint: endpoint}, t.TempDir())
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1),
		DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:123456789012:dlq")}}})
	for _, k := range []string{"k0", "k1"} {
		e.put("src", k, "bad")
	}
	waitFor(t, "a failed send", 20*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries(uuid)
		return len(es) == 2 && es[0].Delivery.Attempts > 0
	})
	e.caughtUp(uuid)
	var want []string
	for _, x := range e.entries(uuid, 2) {
		want = append(want, x.Record.RequestContext.RequestID)
	}
	sort.Strings(want)

	e.srv.Restart()
	es, err := e.srv.DLQ().Entries("")
	if err != nil || len(es) != 2 {
		t.Fatalf("after restart: %d entries, %v", len(es), err)
	}
	for _, x := range es {
		if !x.Delivery.Delivered.IsZero() {
			t.Fatalf("entry %d delivered with the destination down", x.ID)
		}
	}

	mototest.StartOn(t, port)
	ctx := context.Background()
	sq := sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String(endpoint)})
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both entries delivered after the restart", 30*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries("")
		for _, x := range es {
			if x.Delivery.Delivered.IsZero() {
				return false
			}
		}
		return len(es) == 2
	})
	var got []string
	for empty := 0; empty < 2; {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
		}
		for _, m := range out.Messages {
			var r dlq.Record
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil {
				t.Fatal(err)
			}
			got = append(got, r.RequestContext.RequestID)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("SQS got %v, want %v", got, want)
	}
	if es, _ := e.srv.DLQ().Entries(""); len(es) != 2 {
		t.Fatalf("%d entries after the restart, want 2", len(es))
	}
}
