package mappings_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
)

// frozenClock moves only when told (the capacity limiter's clock).
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestHandlerWritesThrottled: a handler's table writes are charged to the
// table they write when the mapping commits them. A table without write
// capacity refuses the commit (nothing of it is written), the delivery
// engine retries the batch, and once capacity is back every record's
// write is there: throttled, never lost.
func TestHandlerWritesThrottled(t *testing.T) {
	clk := &frozenClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var srv *eddytest.Server
	copyTo := func(ctx context.Context, _, _ string, payload []byte) ([]byte, error) {
		var ev struct {
			Records []struct {
				Dynamodb struct {
					Keys map[string]map[string]string
				} `json:"dynamodb"`
			}
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		for _, r := range ev.Records {
			req, _ := json.Marshal(map[string]any{"TableName": "dst", "Item": map[string]any{"pk": map[string]string{"S": r.Dynamodb.Keys["pk"]["S"]}}})
			if _, err := srv.Call(ctx, "PutItem", req, "handler"); err != nil {
				return nil, err
			}
		}
		return []byte("{}"), nil
	}
	srv = eddytest.Start(t, server.Options{Mappings: fastOptions(),
		Capacity: capacity.Options{Mode: capacity.Enforce, Now: clk.Now, BurstSeconds: 10},
		Builtins: func(name string) (mappings.Builtin, bool) { return copyTo, name == "eddy.copy-to-dst" }})
	ctx := context.Background()
	arn := srv.StreamTable(t, "src")
	// dst: 1 write unit a second, 10 of burst.
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("dst"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1000), WriteCapacityUnits: aws.Int64(1)}}); err != nil {
		t.Fatal(err)
	}
	srv.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("eddy.copy-to-dst"), EventSourceArn: aws.String(arn)})
	put := func(from, n int) {
		for i := from; i < from+n; i++ {
			if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"),
				Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() int32 {
		out, err := srv.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("dst"), Select: ddbtypes.SelectCount})
		if err != nil {
			t.Fatal(err)
		}
		return out.Count
	}
	report := func() capacity.TableReport {
		resp, err := http.Get(srv.URL() + "/eddy/capacity/tables/dst")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r capacity.TableReport
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	throttles := func() int64 {
		n := int64(0)
		for _, p := range report().Partitions {
			n += p.WriteThrottles
		}
		return n
	}

	// 20 writes spend the burst's 10 units (a commit is admitted while
	// the bucket holds any, and may leave it in debt); 5 more find it
	// empty, however the records were batched.
	put(0, 20)
	eddytest.WaitFor(t, "the first writes", 20*time.Second, func() bool { return count() == 20 || throttles() > 0 })
	put(20, 5)
	eddytest.WaitFor(t, "a throttled commit of the handler's writes", 20*time.Second, func() bool { return throttles() > 0 })
	n := count()
	if n >= 25 {
		t.Fatalf("dst holds %d items with its capacity spent", n)
	}
	if w := report().Write.Available; w > 0 {
		t.Fatalf("dst's write bucket holds %v units, want none left", w)
	}
	if got := count(); got != n {
		t.Fatalf("dst went from %d to %d items with no capacity: a throttled commit wrote", n, got)
	}
	// Time passes (a second each poll): the bucket refills one unit a
	// second and the retried commits get every write through.
	eddytest.WaitFor(t, "the throttled writes, retried", 20*time.Second, func() bool {
		clk.Advance(time.Second)
		return count() == 25
	})
	if w := report().Write; w.Available > 10 || w.Rate != 1 {
		t.Fatalf("dst's write side %+v", w)
	}
	// CloudWatch counts each write once, when it was committed, however
	// often its batch was retried.
	sum := 0.0
	now := time.Now()
	for _, p := range srv.Metrics().Query(cwmetrics.Key{Region: "us-east-1", Metric: cwmetrics.ConsumedWrite, Table: "dst"},
		now.Add(-time.Hour), now.Add(time.Hour), time.Minute) {
		sum += p.Sum
	}
	if sum != 25 {
		t.Fatalf("ConsumedWriteCapacityUnits of dst: %v, want 25 (one unit a write)", sum)
	}
}
