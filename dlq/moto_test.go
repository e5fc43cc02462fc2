package dlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/mototest"
)

// forward accepts connections on addr and relays each to target until the
// test ends. Opening it is what brings the destinations "up" for eddy.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
}

// TestAWSDestinationsOutage: SQS, SNS and S3 destinations are down (moto
// not started) while failures arrive; the entries wait in the outbox; once
// the destinations are up every entry is delivered exactly once.
//
// eddy reaches moto through a forwarder that opens only after the queues,
// topic, subscription and bucket exist: with moto reachable during setup,
// a publish between CreateTopic and Subscribe reaches a topic with no
// subscribers, which SNS accepts and drops.
func TestAWSDestinationsOutage(t *testing.T) {
	mototest.Require(t)
	eddyPort, port := mototest.FreePort(t), mototest.FreePort(t)
	for port == eddyPort {
		port = mototest.FreePort(t)
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := start(t, dlq.Options{AWSEndpoint: fmt.Sprintf("http://127.0.0.1:%d", eddyPort)})
	arn := e.table("src")
	dests := map[string]string{
		"fsqs": "arn:aws:sqs:us-east-1:123456789012:dlq",
		"fsns": "arn:aws:sns:us-east-1:123456789012:topic",
		"fs3":  "arn:aws:s3:::failures",
	}
	uuids := map[string]string{}
	for fn, d := range dests {
		e.function(fn, "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
		uuids[fn] = e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
			MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1),
			DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(d)}}})
	}
	const n = 3
	for i := range n {
		e.put("src", fmt.Sprintf("k%d", i), "bad")
	}
	// Every entry is in the store, none delivered, and each destination
	// has been tried (only its oldest entry: the outbox keeps order).
	waitFor(t, "failed delivery attempts", 20*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries("")
		if len(es) != 3*n {
			return false
		}
		tried := map[string]bool{}
		for _, x := range es {
			if x.Delivery == nil || !x.Delivery.Delivered.IsZero() {
				t.Fatalf("entry %d delivered during the outage: %+v", x.ID, x.Delivery)
			}
			if x.Delivery.Attempts > 0 {
				tried[x.Destination] = true
			}
		}
		return len(tried) == 3
	})

	mototest.StartOn(t, port)
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String(endpoint)}
	sq := sqs.NewFromConfig(cfg)
	sn := sns.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
	if err != nil {
		t.Fatal(err)
	}
	sq2, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fromsns")})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("topic")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(topic.TopicArn) != dests["fsns"] {
		t.Logf("moto topic ARN %s", aws.ToString(topic.TopicArn))
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:fromsns"), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("failures")}); err != nil {
		t.Fatal(err)
	}
	forward(t, fmt.Sprintf("127.0.0.1:%d", eddyPort), fmt.Sprintf("127.0.0.1:%d", port))
	waitFor(t, "every entry delivered", 30*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries("")
		for _, x := range es {
			if x.Delivery.Delivered.IsZero() {
				return false
			}
		}
		return true
	})

	want := func(fn string) []string {
		es, _ := e.srv.DLQ().Entries(uuids[fn])
		var ids []string
		for _, x := range es {
			ids = append(ids, x.Record.RequestContext.RequestID)
		}
		sort.Strings(ids)
		return ids
	}
	// drain receives until n messages arrived (long polling: SNS fan-out to
	// SQS and short polling may both lag) and then once more, to catch
	// duplicates, or until a deadline.
	drain := func(url *string) []string {
		var ids []string
		deadline := time.Now().Add(15 * time.Second)
		extra := 0
		for extra < 1 && time.Now().Before(deadline) {
			out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				if len(ids) >= n {
					extra++
				}
				continue
			}
			for _, m := range out.Messages {
				var r dlq.Record
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil {
					t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
				}
				if r.DDBStreamBatchInfo.StreamArn != arn || r.RequestContext.Condition != dlq.RetryAttemptsExhausted {
					t.Fatalf("message %+v", r)
				}
				ids = append(ids, r.RequestContext.RequestID)
			}
		}
		sort.Strings(ids)
		return ids
	}
	if got, w := drain(q.QueueUrl), want("fsqs"); strings.Join(got, ",") != strings.Join(w, ",") || len(got) != n {
		t.Fatalf("SQS got %v, want %v", got, w)
	}
	if got, w := drain(sq2.QueueUrl), want("fsns"); strings.Join(got, ",") != strings.Join(w, ",") || len(got) != n {
		t.Fatalf("SNS (through SQS) got %v, want %v", got, w)
	}
	objs, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("failures"), Prefix: aws.String("aws/lambda/" + uuids["fs3"] + "/")})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := e.srv.DLQ().Entries(uuids["fs3"])
	if len(objs.Contents) != n || len(es) != n {
		t.Fatalf("%d S3 objects, %d entries; want %d", len(objs.Contents), len(es), n)
	}
	key := dlq.S3Key(es[0])
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("failures"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	var withPayload struct {
		dlq.Record
		Payload struct {
			Records []json.RawMessage `json:"Records"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &withPayload); err != nil || len(withPayload.Payload.Records) != 1 ||
		withPayload.RequestContext.RequestID != es[0].Record.RequestContext.RequestID {
		t.Fatalf("S3 object %s: %v %s", key, err, body)
	}
}
