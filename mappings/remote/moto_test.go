package remote_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/mototest"
	"github.com/eddydb/eddy/mappings/remote"
)

// TestRemoteMotoStream: a mapping in eddy consumes moto_server's DynamoDB
// Streams (moto's account 123456789012): every record once, each item's
// changes in order, the view in eddy exact.
func TestRemoteMotoStream(t *testing.T) {
	url := mototest.Start(t).URL
	ddb := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDMOTO", "secret", "")})
	out, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	streamArn := aws.ToString(out.TableDescription.LatestStreamArn)
	t.Logf("moto stream %s", streamArn)
	a := startConsumer(t, remote.Endpoint{Region: "us-east-1", Account: "123456789012", URL: url})
	uuid := a.deploy(streamArn, &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(5)})
	w := newWorkload(t, ddb, "orders", 10)
	w.round()
	w.round()
	w.round()
	w.check(a, uuid, 30*time.Second)
}
