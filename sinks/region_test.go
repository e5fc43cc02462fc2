package sinks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/outbox"
)

// TestReplicationOfAnotherRegion: a replication names its table's region
// (empty: the server's); its snapshot, its stream and its mapping are that
// region's table's, not the same name's in the default region.
func TestReplicationOfAnotherRegion(t *testing.T) {
	s := eddytest.Start(t, server.Options{SinkConfigs: []outbox.Config{{Name: "idx", Kind: "search"}}})
	cfg := s.Config()
	cfg.Region = "us-east-2"
	east2 := dynamodb.NewFromConfig(cfg)
	for _, c := range []*dynamodb.Client{s.DDB, east2} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("items"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, "items", map[string]ddbtypes.AttributeValue{"pk": str("east1")})
	putIn := func(pk string) {
		if _, err := east2.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]ddbtypes.AttributeValue{"pk": str(pk)}}); err != nil {
			t.Fatal(err)
		}
	}
	putIn("snap") // copied by the snapshot
	code, body := call(t, s, "POST", "/eddy/replications", map[string]any{"Table": "items", "Sink": "idx", "Region": "us-east-2"})
	if code != http.StatusCreated || !strings.Contains(string(body), "arn:aws:dynamodb:us-east-2:") {
		t.Fatalf("replicate: %d %s", code, body)
	}
	putIn("streamed") // delivered through the us-east-2 table's stream
	deadline := time.Now().Add(20 * time.Second)
	for {
		idx := indexState(t, s, "idx")
		_, snap := idx["pk=snap"]
		_, streamed := idx["pk=streamed"]
		if _, wrong := idx["pk=east1"]; wrong {
			t.Fatalf("the us-east-1 table was replicated: %v", idx)
		}
		if snap && streamed && len(idx) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %v, want pk=snap and pk=streamed", idx)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("items")})
	if err != nil || d.Table.StreamSpecification != nil {
		t.Fatalf("the us-east-1 table got a stream: %+v %v", d.Table.StreamSpecification, err)
	}
}
