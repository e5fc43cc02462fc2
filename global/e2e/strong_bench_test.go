package e2e

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkStrongWrite measures, on this machine, the latency of one
// client's PutItem in region 0 (three regions on one nats-server, NoSync
// data directories): to the MRSC table glob.t (published to JetStream and
// acknowledged, the read barrier before it), and to a table of region 0
// alone, on the same server. It reports p50 and p99 of each in ms.
//
// go test ./global/e2e -run '^$' -bench StrongWrite -benchtime 500x
func BenchmarkStrongWrite(b *testing.B) {
	benchStrongWrite(b, strongCluster(b, nil), nil)
}

func benchStrongWrite(b *testing.B, c *cluster, ready func()) {
	c.createStrong()
	if ready != nil {
		ready()
	}
	ctx := context.Background()
	ddb := c.srvs[0].DDB
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("local"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		b.Fatal(err)
	}
	measure := func(table string) (p50, p99 float64) {
		lat := make([]float64, 0, b.N)
		for j := range b.N {
			start := time.Now()
			_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(j%100)}, "v": &types.AttributeValueMemberN{Value: strconv.Itoa(j)}}})
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	b.ResetTimer()
	sp50, sp99 := measure("glob.t")
	lp50, lp99 := measure("local")
	b.StopTimer()
	b.ReportMetric(sp50, "mrsc-p50-ms")
	b.ReportMetric(sp99, "mrsc-p99-ms")
	b.ReportMetric(lp50, "local-p50-ms")
	b.ReportMetric(lp99, "local-p99-ms")
}

// BenchmarkStrongWriteR3 is BenchmarkStrongWrite with each region on its
// own node of a three-node JetStream cluster in process, the streams R3
// (a write is acknowledged once two of the three nodes stored it).
//
// go test ./global/e2e -run '^$' -bench StrongWriteR3 -benchtime 500x
func BenchmarkStrongWriteR3(b *testing.B) {
	nodes := natsCluster(b)
	benchStrongWrite(b, strongClusterOn(b, nil, 3, func(i int) string { return nodes.url(i) }), func() { nodes.waitLeader("EDDY_GLOBAL_SC") })
}
