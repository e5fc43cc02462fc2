package e2e

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/linearize"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
)

// strongCluster starts three regions on one nats-server (the MRSC stream
// is R1 there: the quorum is that server) with a short StrongTimeout; urls,
// when given, are the regions' NATS URLs (a proxy in front of it); hook is
// each region's BeforeStrongPublish.
func strongCluster(t testing.TB, hook func(region int) func(string, attr.Item), urls ...func(nats string) string) *cluster {
	ns := natstest.Start(t)
	var opts func(int, *global.Options)
	if hook != nil {
		opts = func(i int, o *global.Options) { o.BeforeStrongPublish = hook(i) }
	}
	c := strongClusterOn(t, opts, 1, func(i int) string {
		if i < len(urls) && urls[i] != nil {
			return urls[i](ns.ClientURL())
		}
		return ns.ClientURL()
	})
	c.nats = ns.ClientURL()
	return c
}

// strongClusterOn starts the three regions, region i on NATS URL url(i),
// the streams with replicas copies; opts, when set, adds to region i's
// options (test hooks).
func strongClusterOn(t testing.TB, opts func(region int, o *global.Options), replicas int, url func(i int) string) *cluster {
	c := &cluster{t: t, h: &history{}}
	for i, r := range regions {
		o := global.Options{RetryBackoff: 50 * time.Millisecond, AckTimeout: 2 * time.Second, StrongTimeout: 2 * time.Second, StreamReplicas: replicas}
		if opts != nil {
			opts(i, &o)
		}
		c.srvs = append(c.srvs, eddytest.Start(t, server.Options{Region: r, DataDir: t.TempDir(), NoSync: true,
			NATS: url(i), GlobalRegions: regions, TTLSweepInterval: -1, Logger: strongLogger(t, r), Global: o}))
	}
	return c
}

// jsCluster is a three-node JetStream cluster in the test's process, each
// node on random loopback ports, its store in the test's directory.
type jsCluster struct {
	t     testing.TB
	opts  []*natsserver.Options
	nodes []*natsserver.Server
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// natsCluster starts the three nodes, each on ports picked free on
// loopback, routed to each other; a node restarted comes back on its
// ports.
func natsCluster(t testing.TB) *jsCluster {
	c := &jsCluster{t: t}
	var routes []string
	var ports []int
	for range 3 {
		p := freePort(t)
		ports = append(ports, p)
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	for i := range 3 {
		c.opts = append(c.opts, &natsserver.Options{ServerName: "n" + strconv.Itoa(i), Host: "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "eddy", Host: "127.0.0.1", Port: ports[i]},
			Routes:  natsserver.RoutesFromStr(strings.Join(slices.Delete(slices.Clone(routes), i, i+1), ","))})
	}
	c.nodes = make([]*natsserver.Server, 3)
	for i := range 3 {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	nc, js := natstest.Connect(t, c.url(0))
	defer nc.Close()
	eddytest.WaitFor(t, "the JetStream cluster's meta leader", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	})
	return c
}

// waitLeader waits until stream has a leader and every replica is current.
func (c *jsCluster) waitLeader(stream string) {
	natstest.WaitStreamCurrent(c.t, c.url(0), stream, 30*time.Second)
}

func (c *jsCluster) url(i int) string { return "nats://127.0.0.1:" + strconv.Itoa(c.opts[i].Port) }

// start starts node i (again, on its ports and store).
func (c *jsCluster) start(i int) {
	ns, err := natsserver.NewServer(c.opts[i])
	if err != nil {
		c.t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		c.t.Fatal("nats-server not ready")
	}
	c.nodes[i] = ns
}

func (c *jsCluster) stop(i int) {
	if c.nodes[i] != nil {
		c.nodes[i].Shutdown()
		c.nodes[i].WaitForShutdown()
		c.nodes[i] = nil
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// createStrong creates the empty table glob.t in region 0 and makes it an
// MRSC global table with replicas in the two other regions.
func (c *cluster) createStrong() {
	c.t.Helper()
	ctx := context.Background()
	_, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		MultiRegionConsistency: types.MultiRegionConsistencyStrong,
		ReplicaUpdates: []types.ReplicationGroupUpdate{
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}},
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	if err != nil {
		c.t.Fatal(err)
	}
	if out.TableDescription.TableStatus != types.TableStatusUpdating || out.TableDescription.MultiRegionConsistency != types.MultiRegionConsistencyStrong {
		c.t.Errorf("UpdateTable answered %s, %q; want UPDATING, STRONG", out.TableDescription.TableStatus, out.TableDescription.MultiRegionConsistency)
	}
	eddytest.WaitFor(c.t, "the MRSC replicas ACTIVE", 30*time.Second, func() bool {
		for i := range c.srvs {
			out, err := c.srvs[i].DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("glob.t")})
			if err != nil || out.Table.TableStatus != types.TableStatusActive || len(out.Table.Replicas) != 2 {
				return false
			}
		}
		return true
	})
	c.checkReplicas()
	for i := range c.srvs {
		if got := c.describe(i).MultiRegionConsistency; got != types.MultiRegionConsistencyStrong {
			c.t.Errorf("%s: MultiRegionConsistency %q, want STRONG", regions[i], got)
		}
	}
}

// TestStrongConsistency: an MRSC global table made by UpdateTable
// (MultiRegionConsistency STRONG, two replica creations); a write in one
// region is seen at once by a strongly consistent read in every other; two
// regions writing one item concurrently: the second to reach the stream
// gets ReplicatedWriteConflictException; transactions, a non-empty table
// and a lone replica are refused.
func TestStrongConsistency(t *testing.T) {
	hold := make(chan struct{})
	var holding atomic.Bool
	entered := make(chan struct{}, 1)
	c := strongCluster(t, func(region int) func(string, attr.Item) {
		if region != 0 {
			return nil
		}
		return func(_ string, keys attr.Item) {
			if keys["pk"].Str() == "race" && holding.Load() {
				entered <- struct{}{}
				<-hold
			}
		}
	})
	ctx := context.Background()
	c.createStrong()

	for n := range 5 {
		w := c.srvs[n%3].DDB
		if _, err := w.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s(strconv.Itoa(n))}}); err != nil {
			t.Fatal(err)
		}
		for i := range c.srvs {
			out, err := c.srvs[i].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("a")}, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := out.Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != strconv.Itoa(n) {
				t.Errorf("write %d from %s: a strongly consistent read in %s got %v", n, regions[n%3], regions[i], out.Item)
			}
		}
		q, err := c.srvs[(n+1)%3].DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("glob.t"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		scanned := ""
		for _, it := range q.Items {
			if it["pk"].(*types.AttributeValueMemberS).Value == "a" {
				scanned = it["v"].(*types.AttributeValueMemberS).Value
			}
		}
		if scanned != strconv.Itoa(n) {
			t.Errorf("write %d: a strongly consistent Scan in %s got %v", n, regions[(n+1)%3], q.Items)
		}
		// BatchWriteItem in the next region, BatchGetItem in the one after.
		if _, err := c.srvs[(n+1)%3].DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"glob.t": {
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s("b"), "v": s(strconv.Itoa(n))}}}}}}); err != nil {
			t.Fatal(err)
		}
		bg, err := c.srvs[(n+2)%3].DDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"glob.t": {
			Keys: []map[string]types.AttributeValue{{"pk": s("b")}}, ConsistentRead: aws.Bool(true)}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := bg.Responses["glob.t"]; len(got) != 1 || got[0]["v"].(*types.AttributeValueMemberS).Value != strconv.Itoa(n) {
			t.Errorf("BatchWriteItem %d in %s: a strongly consistent BatchGetItem in %s got %v", n, regions[(n+1)%3], regions[(n+2)%3], got)
		}
	}
	if _, err := c.srvs[0].DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("b")}}); err != nil {
		t.Fatal(err)
	}

	// Region 0's write to "race" is held after its condition passed on the
	// local item; region 1 writes the item meanwhile; then region 0's
	// reaches the stream second.
	holding.Store(true)
	errc := make(chan error, 1)
	go func() {
		_, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("race"), "v": s("east")},
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		errc <- err
	}()
	<-entered
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("race"), "v": s("west")}}); err != nil {
		t.Fatal(err)
	}
	close(hold)
	err := <-errc
	var rwc *types.ReplicatedWriteConflictException
	if !errors.As(err, &rwc) || httpStatus(err) != http.StatusBadRequest {
		t.Errorf("the write that lost the race: %v (status %d), want ReplicatedWriteConflictException (400)", err, httpStatus(err))
	} else if got := rwc.ErrorMessage(); got != "The request was rejected because one or more items in the request are being modified by a request in another Region." {
		t.Errorf("message %q", got)
	}
	for i := range c.srvs {
		out, err := c.srvs[i].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("race")}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := out.Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "west" {
			t.Errorf("%s: race holds %v, want the winner's write (west)", regions[i], out.Item)
		}
	}

	// eddy tables replicas: the mode, and how far each region applied.
	for i := range c.srvs {
		st, ok := c.srvs[i].Global().Status("glob.t")
		if !ok || st.Consistency != "STRONG" || st.Applied == 0 {
			t.Errorf("%s: Status %+v, %v", regions[i], st, ok)
		}
	}
	// A strongly consistent PartiQL SELECT in another region sees a write.
	if _, err := c.srvs[2].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("pq"), "v": s("x")}}); err != nil {
		t.Fatal(err)
	}
	pq, err := c.srvs[0].DDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT v FROM "glob.t" WHERE pk = 'pq'`), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pq.Items) != 1 || pq.Items[0]["v"].(*types.AttributeValueMemberS).Value != "x" {
		t.Errorf("a strongly consistent SELECT in %s: %v", regions[0], pq.Items)
	}
	// One replica of an MRSC table is not deleted alone.
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("a replica deleted from an MRSC table: %v, want ValidationException", err)
	}
	// A replica's settings (ReplicaUpdates Update) leave the table MRSC.
	if _, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String(regions[1]),
			TableClassOverride: types.TableClassStandardInfrequentAccess}}}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitFor(t, "the replica settings applied", 30*time.Second, func() bool { return c.describe(0).TableStatus == types.TableStatusActive })
	for i := range c.srvs {
		if got := c.describe(i).MultiRegionConsistency; got != types.MultiRegionConsistencyStrong {
			t.Errorf("%s after ReplicaUpdates Update: MultiRegionConsistency %q", regions[i], got)
		}
	}
	// Transactions are refused on MRSC tables.
	_, err = c.srvs[1].DDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("tx")}}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("TransactWriteItems on an MRSC table: %v, want ValidationException", err)
	}
	_, err = c.srvs[2].DDB.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("a")}}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("TransactGetItems on an MRSC table: %v, want ValidationException", err)
	}
	_, err = c.srvs[0].DDB.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`INSERT INTO "glob.t" VALUE {'pk': 'ptx'}`)}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("ExecuteTransaction on an MRSC table: %v, want ValidationException", err)
	}

	// A table with items, and a single replica, are refused.
	if _, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("full"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	strong := func(replicas ...string) error {
		in := &dynamodb.UpdateTableInput{TableName: aws.String("full"), MultiRegionConsistency: types.MultiRegionConsistencyStrong}
		for _, r := range replicas {
			in.ReplicaUpdates = append(in.ReplicaUpdates, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(r)}})
		}
		_, err := c.srvs[0].DDB.UpdateTable(ctx, in)
		return err
	}
	if err := strong(regions[1]); apiCode(err) != "ValidationException" {
		t.Errorf("MRSC with one replica: %v, want ValidationException", err)
	}
	if _, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("full"), Item: map[string]types.AttributeValue{"pk": s("x")}}); err != nil {
		t.Fatal(err)
	}
	if err := strong(regions[1], regions[2]); apiCode(err) != "ValidationException" {
		t.Errorf("MRSC over a table with items: %v, want ValidationException", err)
	}
	if d := c.describe(0); d.MultiRegionConsistency != types.MultiRegionConsistencyStrong {
		t.Errorf("glob.t MultiRegionConsistency %q", d.MultiRegionConsistency)
	}
}

// TestStrongQuorumLost: a region whose link to NATS is cut refuses MRSC
// writes and strongly consistent reads with InternalServerError (500),
// serves eventually consistent reads, and works again once the link is
// back.
func TestStrongQuorumLost(t *testing.T) {
	t.Parallel() // mostly waiting (leases, MaxAge, StrongTimeout): beside the others
	var p *proxy
	c := strongCluster(t, nil, nil, nil, func(url string) string { p = startProxy(t, url); return p.URL() })
	ctx := context.Background()
	c.createStrong()
	key := map[string]types.AttributeValue{"pk": s("a")}
	if _, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.srvs[2].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: key, ConsistentRead: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	p.SetCut(true)
	_, err := c.srvs[2].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("b")}})
	if apiCode(err) != "InternalServerError" || httpStatus(err) != 500 {
		t.Errorf("a write in the cut-off region: %v, want InternalServerError (500)", err)
	}
	_, err = c.srvs[2].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: key, ConsistentRead: aws.Bool(true)})
	if apiCode(err) != "InternalServerError" {
		t.Errorf("a strongly consistent read in the cut-off region: %v, want InternalServerError", err)
	}
	out, err := c.srvs[2].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: key})
	if err != nil || out.Item["v"].(*types.AttributeValueMemberS).Value != "1" {
		t.Errorf("an eventually consistent read in the cut-off region: %v, %v", out, err)
	}
	// The others keep their quorum (the NATS server).
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("2")}}); err != nil {
		t.Fatal(err)
	}
	// Every strongly consistent read of the cut-off region is refused (it
	// would otherwise answer v = 1, stale), in parallel to keep it short.
	ddb := c.srvs[2].DDB
	reads := map[string]func() error{
		"Query": func() error {
			_, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("glob.t"), KeyConditionExpression: aws.String("pk = :a"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")}, ConsistentRead: aws.Bool(true)})
			return err
		},
		"Scan": func() error {
			_, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("glob.t"), ConsistentRead: aws.Bool(true)})
			return err
		},
		"BatchGetItem": func() error {
			_, err := ddb.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"glob.t": {Keys: []map[string]types.AttributeValue{key}, ConsistentRead: aws.Bool(true)}}})
			return err
		},
		"ExecuteStatement": func() error {
			_, err := ddb.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "glob.t" WHERE pk = 'a'`), ConsistentRead: aws.Bool(true)})
			return err
		},
	}
	var wg sync.WaitGroup
	for op, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := read(); apiCode(err) != "InternalServerError" {
				t.Errorf("a strongly consistent %s in the cut-off region: %v, want InternalServerError", op, err)
			}
		}()
	}
	wg.Wait()
	p.SetCut(false)
	eddytest.WaitFor(t, "the cut-off region to serve strongly consistent reads again", 30*time.Second, func() bool {
		out, err := c.srvs[2].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: key, ConsistentRead: aws.Bool(true)})
		return err == nil && out.Item["v"].(*types.AttributeValueMemberS).Value == "2"
	})
	if _, err := c.srvs[2].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("3")},
		ConditionExpression: aws.String("v = :two"), ExpressionAttributeValues: map[string]types.AttributeValue{":two": s("2")}}); err != nil {
		t.Fatal(err)
	}
}

// The linearizability model is internal/linearize's (shared with
// cmd/eddy's process tests): one register per key.
type (
	regInput  = linearize.Input
	regOutput = linearize.Output
)

var registerModel = linearize.Register

// TestStrongLinearizable: concurrent conditional writes, blind writes and
// strongly consistent reads on four keys from two clients in each of the
// three regions; region 2 is stopped mid-run (its clients' writes in flight
// become unknown) and restarted; the history must be linearizable
// (porcupine), and afterwards the three replicas hold the same items.
// The regions share one nats-server: TestStrongLinearizableR3 runs the same
// on a three-node JetStream cluster.
func TestStrongLinearizable(t *testing.T) {
	c := strongCluster(t, nil)
	c.linearizable(nil, func() { c.srvs[2].Stop() }, func() { c.srvs[2].Restart() })
}

// TestStrongLinearizableR3: TestStrongLinearizable with each region on its
// own node of a three-node JetStream cluster (in process), the streams R3:
// region 2 dies with its NATS node (the other two keep the quorum) and
// both come back.
func TestStrongLinearizableR3(t *testing.T) {
	nodes := natsCluster(t)
	c := strongClusterOn(t, nil, 3, func(i int) string { return nodes.url(i) })
	c.linearizable(func() { nodes.waitLeader("EDDY_GLOBAL_SC") }, func() { c.srvs[2].Stop(); nodes.stop(2) }, func() { nodes.start(2); c.srvs[2].Restart() })
	nc, js := natstest.Connect(t, nodes.url(0))
	defer nc.Close()
	st, err := js.Stream(context.Background(), "EDDY_GLOBAL_SC")
	if err != nil {
		t.Fatal(err)
	}
	if r := st.CachedInfo().Config.Replicas; r != 3 {
		t.Errorf("the MRSC stream has %d replicas, want 3", r)
	}
}

// linearizable runs the check: ready (when set) waits for the streams
// after the table is made, kill and restart act on region 2 mid-run.
func (c *cluster) linearizable(ready, kill, restart func()) {
	t := c.t
	c.createStrong()
	if ready != nil {
		ready()
	}
	const perClient = 45
	var (
		mu        sync.Mutex
		hist      []porcupine.Operation
		conflicts int
		unknown   int
		ddbMu     sync.RWMutex
	)
	ddbOf := func(i int) *dynamodb.Client {
		ddbMu.RLock()
		defer ddbMu.RUnlock()
		return c.srvs[i].DDB
	}
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var done atomic.Int64
	var down atomic.Bool
	var wg sync.WaitGroup
	for i := range c.srvs {
		for g := range 2 {
			client := i*2 + g
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(uint64(client), 99))
				ctx := context.Background()
				for j := 0; j < perClient; j++ {
					if i == 2 && down.Load() {
						time.Sleep(20 * time.Millisecond)
						j--
						continue
					}
					in := linearize.Pick(rnd, client, j, func(key string) string {
						mu.Lock()
						defer mu.Unlock()
						return linearize.LastRead(hist, -1, key)
					})
					ddb := ddbOf(i)
					call := now()
					out, err := linearize.Do(ctx, ddb, "glob.t", in)
					ret := now()
					var rwc *types.ReplicatedWriteConflictException
					switch {
					case errors.As(err, &rwc):
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue // no effect
					case err != nil && in.IsRead():
						continue
					case err != nil:
						out.Unknown, ret = true, linearize.Never
						mu.Lock()
						unknown++
						mu.Unlock()
					}
					mu.Lock()
					hist = append(hist, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
					mu.Unlock()
					done.Add(1)
				}
			}()
		}
	}
	// Region 2 dies a third of the way in and comes back.
	eddytest.WaitFor(t, "a third of the operations", time.Minute, func() bool { return done.Load() >= 6*perClient/3 })
	down.Store(true)
	ddbMu.Lock()
	kill()
	ddbMu.Unlock()
	eddytest.WaitFor(t, "operations while region 2 is down", time.Minute, func() bool { return done.Load() >= 6*perClient/2 })
	ddbMu.Lock()
	restart()
	ddbMu.Unlock()
	down.Store(false)
	wg.Wait()
	res, info := porcupine.CheckOperationsVerbose(registerModel, hist, 20*time.Second)
	t.Logf("%d operations, %d ReplicatedWriteConflictException, %d with an unknown outcome: %s", len(hist), conflicts, unknown, res)
	if res != porcupine.Ok {
		t.Log(linearize.Explain(hist))
		path := t.TempDir() + "/history.html"
		if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fatalf("the history is not linearizable: %s", res)
	}
	eddytest.WaitFor(t, "the replicas to hold the same items", 30*time.Second, func() bool {
		a := c.items(0)
		return same(a, c.items(1)) && same(a, c.items(2))
	})
}

func strongLogger(t testing.TB, region string) *slog.Logger {
	if os.Getenv("EDDY_DEBUG") == "" {
		return testLogger(t, region)
	}
	return slog.New(slog.NewTextHandler(tWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", region)
}

// TestStrongWitness: an MRSC global table of two replicas and a witness
// (UpdateTable ReplicaUpdates Create + GlobalTableWitnessUpdates Create):
// DescribeTable shows the witness in GlobalTableWitnesses, not in Replicas;
// no table is made in the witness region, whose eddy server is not needed
// (stopped here); writes in one replica are read strongly in the other.
func TestStrongWitness(t *testing.T) {
	c := strongCluster(t, nil)
	ctx := context.Background()
	c.srvs[2].Stop() // the witness region runs no eddy server
	_, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	update := func(witnesses ...string) error {
		in := &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"), MultiRegionConsistency: types.MultiRegionConsistencyStrong,
			ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}}}
		for _, w := range witnesses {
			in.GlobalTableWitnessUpdates = append(in.GlobalTableWitnessUpdates, types.GlobalTableWitnessGroupUpdate{Create: &types.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String(w)}})
		}
		_, err := c.srvs[0].DDB.UpdateTable(ctx, in)
		return err
	}
	if err := update(regions[1]); apiCode(err) != "ValidationException" {
		t.Errorf("the witness in the replica's region: %v, want ValidationException", err)
	}
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"), MultiRegionConsistency: "FOO",
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("MultiRegionConsistency FOO: %v, want ValidationException", err)
	}
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates:            []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}},
		GlobalTableWitnessUpdates: []types.GlobalTableWitnessGroupUpdate{{Create: &types.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("a witness without MultiRegionConsistency STRONG: %v, want ValidationException", err)
	}
	if err := update(regions[2], regions[1]); apiCode(err) != "ValidationException" {
		t.Errorf("two witnesses: %v, want ValidationException", err)
	}
	if err := update(regions[2]); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitFor(t, "the replica ACTIVE", 30*time.Second, func() bool {
		d := c.describe(0)
		return d.TableStatus == types.TableStatusActive && len(d.Replicas) == 1 && d.Replicas[0].ReplicaStatus == types.ReplicaStatusActive
	})
	for i := range 2 {
		d := c.describe(i)
		if d.MultiRegionConsistency != types.MultiRegionConsistencyStrong || len(d.Replicas) != 1 || aws.ToString(d.Replicas[0].RegionName) != regions[1-i] ||
			len(d.GlobalTableWitnesses) != 1 || aws.ToString(d.GlobalTableWitnesses[0].RegionName) != regions[2] || d.GlobalTableWitnesses[0].WitnessStatus != types.WitnessStatusActive {
			t.Errorf("%s: MultiRegionConsistency %q, Replicas %+v, GlobalTableWitnesses %+v", regions[i], d.MultiRegionConsistency, d.Replicas, d.GlobalTableWitnesses)
		}
	}
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String(regions[2]),
			TableClassOverride: types.TableClassStandardInfrequentAccess}}}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("ReplicaUpdates Update of the witness: %v, want ValidationException", err)
	}
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.srvs[0].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("a")}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item["v"] == nil || out.Item["v"].(*types.AttributeValueMemberS).Value != "1" {
		t.Errorf("a strongly consistent read in the other replica: %v, %v", out, err)
	}
	// Deleting: the replica and the witness go together (API reference,
	// DeleteGlobalTableWitnessGroupMemberAction), leaving a single-Region
	// table; neither alone: DynamoDB answers a witness Delete alone as no
	// change, and the replica alone with its own message (recorded from the
	// service, DDB-TABLE-260).
	wantValidation(t, "the witness deleted alone", c.deleteUpdate(0, nil, []string{regions[2]}), noChange)
	wantValidation(t, "the replica deleted without the witness", c.deleteUpdate(0, []string{regions[1]}, nil),
		"Update table delete operation does not include all witnesses.")
	if err := c.deleteUpdate(0, []string{regions[1]}, []string{regions[2]}); err != nil {
		t.Fatal(err)
	}
	c.singleRegion(0, 1)
}
