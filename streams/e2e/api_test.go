package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
)

// TestViewTypes: INSERT, MODIFY, a no-op put (no record) and REMOVE, in
// every view type, with exactly the images the view type calls for.
func TestViewTypes(t *testing.T) {
	e := start(t, server.Options{})
	for _, view := range []string{"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"} {
		t.Run(view, func(t *testing.T) {
			table := "t_" + view
			arn := e.createTable(t, table, view)
			if arn == "" {
				t.Fatal("no LatestStreamArn")
			}
			e.put(t, table, map[string]ddbtypes.AttributeValue{"pk": s("a"), "v": n("1")})
			e.put(t, table, map[string]ddbtypes.AttributeValue{"pk": s("a"), "v": n("2")})
			e.put(t, table, map[string]ddbtypes.AttributeValue{"pk": s("a"), "v": n("2")}) // no-op
			e.del(t, table, "a")
			recs := e.readAll(t, arn)
			if len(recs) != 3 {
				t.Fatalf("got %d records, want 3", len(recs))
			}
			wantEvents := []types.OperationType{"INSERT", "MODIFY", "REMOVE"}
			wantNew := []string{"1", "2", ""}
			wantOld := []string{"", "1", "2"}
			prev := ""
			for i, r := range recs {
				d := r.Dynamodb
				if r.EventName != wantEvents[i] || aws.ToString(r.EventVersion) != "1.1" ||
					aws.ToString(r.EventSource) != "aws:dynamodb" || aws.ToString(r.AwsRegion) != "us-east-1" ||
					len(aws.ToString(r.EventID)) != 32 || r.UserIdentity != nil {
					t.Errorf("record %d: envelope %+v", i, r)
				}
				if string(d.StreamViewType) != view || strAttr(d.Keys, "pk") != "a" || len(d.Keys) != 1 ||
					aws.ToInt64(d.SizeBytes) <= 0 || d.ApproximateCreationDateTime == nil ||
					time.Since(*d.ApproximateCreationDateTime) > time.Minute {
					t.Errorf("record %d: body %+v", i, d)
				}
				seq := aws.ToString(d.SequenceNumber)
				if len(seq) < 21 || seq <= prev {
					t.Errorf("record %d: sequence number %q after %q", i, seq, prev)
				}
				prev = seq
				hasNew := view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES"
				hasOld := view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES"
				if got, want := numAttr(d.NewImage, "v"), wantNew[i]; hasNew && got != want || !hasNew && d.NewImage != nil {
					t.Errorf("record %d: NewImage %v", i, d.NewImage)
				}
				if got, want := numAttr(d.OldImage, "v"), wantOld[i]; hasOld && got != want || !hasOld && d.OldImage != nil {
					t.Errorf("record %d: OldImage %v", i, d.OldImage)
				}
			}
		})
	}
}

// TestTTLDelete: a deletion by the TTL service carries userIdentity.
func TestTTLDelete(t *testing.T) {
	e := start(t, server.Options{})
	arn := e.createTable(t, "ttl", "NEW_AND_OLD_IMAGES")
	e.put(t, "ttl", map[string]ddbtypes.AttributeValue{"pk": s("x"), "exp": n("1")})
	tb := e.DB().Table("ttl")
	key := attr.Item{"pk": attr.S("x")}
	if _, err := e.DB().Write(ctx, store.WriteOptions{Principal: store.ServiceTTL}, store.Mutation{
		Table: tb, Key: key, Apply: func(attr.Item) (attr.Item, error) { return nil, nil },
	}); err != nil {
		t.Fatal(err)
	}
	recs := e.readAll(t, arn)
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if recs[0].UserIdentity != nil {
		t.Errorf("user write shows userIdentity %+v", recs[0].UserIdentity)
	}
	ui := recs[1].UserIdentity
	if recs[1].EventName != "REMOVE" || ui == nil || aws.ToString(ui.Type) != "Service" ||
		aws.ToString(ui.PrincipalId) != "dynamodb.amazonaws.com" {
		t.Fatalf("TTL record: %+v identity %+v", recs[1], ui)
	}
	// The writing principal of user writes is kept for audit.
	shs, _ := e.Streams().Shards(arn)
	found := false
	for _, sh := range shs {
		b, err := e.Streams().Read(sh.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Records {
			if r.EventName == "INSERT" && r.Principal.ID == "AKIDEDDYTEST" && r.Principal.Type == "User" {
				found = true
			}
		}
	}
	if !found {
		t.Error("user principal not stored in the record")
	}
}

func firstShard(t *testing.T, e *env, arn string) string {
	_, shs := e.shardsOf(t, arn, 0)
	return aws.ToString(shs[0].ShardId)
}

// oneShard makes every item land in the same shard.
func oneShard(o server.Options) server.Options { o.Streams.ShardCount = 1; return o }

func TestIteratorTypes(t *testing.T) {
	c := eddytest.NewClock()
	e := start(t, oneShard(manual(c)))
	arn := e.createTable(t, "iter", "KEYS_ONLY")
	shard := firstShard(t, e, arn)
	latest, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		e.put(t, "iter", map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i))})
	}
	all := e.readAll(t, arn)
	if len(all) != 5 {
		t.Fatalf("%d records", len(all))
	}
	get := func(typ types.ShardIteratorType, seq *string) ([]types.Record, error) {
		it, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: aws.String(shard), ShardIteratorType: typ, SequenceNumber: seq})
		if err != nil {
			return nil, err
		}
		r, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			return nil, err
		}
		return r.Records, nil
	}
	r, err := get(types.ShardIteratorTypeAtSequenceNumber, all[2].Dynamodb.SequenceNumber)
	if err != nil || len(r) != 3 || strAttr(r[0].Dynamodb.Keys, "pk") != "2" {
		t.Errorf("AT_SEQUENCE_NUMBER: %v %v", r, err)
	}
	r, err = get(types.ShardIteratorTypeAfterSequenceNumber, all[2].Dynamodb.SequenceNumber)
	if err != nil || len(r) != 2 || strAttr(r[0].Dynamodb.Keys, "pk") != "3" {
		t.Errorf("AFTER_SEQUENCE_NUMBER: %v %v", r, err)
	}
	r, err = get(types.ShardIteratorTypeLatest, nil)
	if err != nil || len(r) != 0 {
		t.Errorf("LATEST after writes: %v %v", r, err)
	}
	// The LATEST iterator taken before the writes sees them all, with
	// Limit paging.
	gr, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: latest.ShardIterator, Limit: aws.Int32(2)})
	if err != nil || len(gr.Records) != 2 || gr.NextShardIterator == nil {
		t.Fatalf("LATEST before writes: %v %v", gr, err)
	}
	gr, err = e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: gr.NextShardIterator})
	if err != nil || len(gr.Records) != 3 {
		t.Fatalf("page 2: %v %v", gr, err)
	}

	// Validation.
	if _, err := get(types.ShardIteratorTypeAtSequenceNumber, nil); errCode(err) != "ValidationException" {
		t.Errorf("AT without SequenceNumber: %v", err)
	}
	if _, err := get(types.ShardIteratorTypeAtSequenceNumber, aws.String("12x")); errCode(err) != "ValidationException" {
		t.Errorf("bad SequenceNumber: %v", err)
	}
	bad := []byte(aws.ToString(latest.ShardIterator))
	bad[10] ^= 1
	if _, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(string(bad))}); errCode(err) != "ValidationException" {
		t.Errorf("tampered iterator: %v", err)
	}
	for _, lim := range []int32{0, 1001} {
		if _, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: latest.ShardIterator, Limit: aws.Int32(lim)}); errCode(err) != "ValidationException" {
			t.Errorf("Limit %d: %v", lim, err)
		}
	}
	if _, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String("shardId-00000000000000000000-00000000"), ShardIteratorType: types.ShardIteratorTypeLatest}); errCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown shard: %v", err)
	}
	if _, err := e.S.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn + "x")}); errCode(err) != "ResourceNotFoundException" {
		t.Errorf("unknown stream: %v", err)
	}

	// Expiry: 15 minutes by the injected clock.
	c.Advance(16 * time.Minute)
	_, err = e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: latest.ShardIterator})
	var exp *types.ExpiredIteratorException
	if !asErr(err, &exp) {
		t.Errorf("expired iterator: %v", err)
	}
}

// TestTrimmed: records older than the retention are trimmed; reading
// before the trim point is TrimmedDataAccessException.
func TestTrimmed(t *testing.T) {
	c := eddytest.NewClock()
	o := oneShard(manual(c))
	o.Streams.Retention = time.Hour
	o.Streams.IteratorTTL = 24 * time.Hour
	e := start(t, o)
	arn := e.createTable(t, "trim", "NEW_IMAGE")
	shard := firstShard(t, e, arn)
	e.put(t, "trim", map[string]ddbtypes.AttributeValue{"pk": s("old")})
	old, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	first := e.readAll(t, arn)[0].Dynamodb.SequenceNumber
	c.Advance(2 * time.Hour)
	e.put(t, "trim", map[string]ddbtypes.AttributeValue{"pk": s("new")})
	if err := e.Streams().Maintain(time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old.ShardIterator})
	var tr *types.TrimmedDataAccessException
	if !asErr(err, &tr) {
		t.Fatalf("GetRecords before trim point: %v", err)
	}
	_, err = e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: first})
	if !asErr(err, &tr) {
		t.Fatalf("GetShardIterator before trim point: %v", err)
	}
	recs := e.readAll(t, arn)
	if len(recs) != 1 || strAttr(recs[0].Dynamodb.Keys, "pk") != "new" {
		t.Fatalf("after trim: %+v", recs)
	}
}

// TestDisableEnableDelete: disabling closes the shards, enabling makes a new
// stream, deleting the table disables its stream; all stay listed.
func TestDisableEnableDelete(t *testing.T) {
	e := start(t, server.Options{})
	arn1 := e.createTable(t, "dis", "KEYS_ONLY")
	e.put(t, "dis", map[string]ddbtypes.AttributeValue{"pk": s("1")})
	update := func(on bool, view string) string {
		spec := &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(on)}
		if view != "" {
			spec.StreamViewType = ddbtypes.StreamViewType(view)
		}
		out, err := e.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dis"), StreamSpecification: spec})
		if err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		return aws.ToString(out.TableDescription.LatestStreamArn)
	}
	update(false, "")
	desc, shs := e.shardsOf(t, arn1, 0)
	if desc.StreamStatus != types.StreamStatusDisabled {
		t.Errorf("status %s", desc.StreamStatus)
	}
	for _, sh := range shs {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Errorf("shard %s still open", aws.ToString(sh.ShardId))
		}
	}
	if recs := e.readAll(t, arn1); len(recs) != 1 {
		t.Errorf("disabled stream: %d records", len(recs))
	}
	e.put(t, "dis", map[string]ddbtypes.AttributeValue{"pk": s("2")}) // not streamed
	arn2 := update(true, "NEW_IMAGE")
	if arn2 == arn1 || arn2 == "" {
		t.Fatalf("new stream ARN %q (old %q)", arn2, arn1)
	}
	e.put(t, "dis", map[string]ddbtypes.AttributeValue{"pk": s("3")})
	if recs := e.readAll(t, arn2); len(recs) != 1 || strAttr(recs[0].Dynamodb.Keys, "pk") != "3" {
		t.Errorf("new stream: %+v", recs)
	}
	ls, err := e.S.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("dis")})
	if err != nil || len(ls.Streams) != 2 {
		t.Fatalf("ListStreams: %+v %v", ls, err)
	}
	// Paging.
	p1, err := e.S.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(1)})
	if err != nil || len(p1.Streams) != 1 || p1.LastEvaluatedStreamArn == nil {
		t.Fatalf("ListStreams page 1: %+v %v", p1, err)
	}
	p2, err := e.S.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(1), ExclusiveStartStreamArn: p1.LastEvaluatedStreamArn})
	if err != nil || len(p2.Streams) != 1 || p2.LastEvaluatedStreamArn != nil || aws.ToString(p2.Streams[0].StreamArn) == aws.ToString(p1.Streams[0].StreamArn) {
		t.Fatalf("ListStreams page 2: %+v %v", p2, err)
	}
	if _, err := e.DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("dis")}); err != nil {
		t.Fatal(err)
	}
	desc, _ = e.shardsOf(t, arn2, 0)
	if desc.StreamStatus != types.StreamStatusDisabled || desc.TableName == nil || len(desc.KeySchema) != 1 {
		t.Errorf("after DeleteTable: %+v", desc)
	}
	if recs := e.readAll(t, arn2); len(recs) != 1 {
		t.Errorf("deleted table's stream: %d records", len(recs))
	}
}

// TestRollover: shards roll over; a consumer walking parents before
// children sees every item's changes in order.
func TestRollover(t *testing.T) {
	c := eddytest.NewClock()
	o := manual(c)
	o.Streams.ShardCount = 2
	o.Streams.RolloverInterval = time.Hour
	e := start(t, o)
	arn := e.createTable(t, "roll", "NEW_AND_OLD_IMAGES")
	const items = 8
	for round := 1; round <= 3; round++ {
		for i := 0; i < items; i++ {
			e.put(t, "roll", map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i)), "v": n(fmt.Sprint(round))})
		}
		c.Advance(time.Hour)
		if err := e.Streams().Maintain(time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	_, shs := e.shardsOf(t, arn, 1) // paging one shard at a time
	if len(shs) != 8 {
		t.Fatalf("%d shards after 3 rollovers of 2, want 8", len(shs))
	}
	parents := 0
	for _, sh := range shs {
		if sh.ParentShardId != nil {
			parents++
			kids, err := e.S.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn),
				ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeChildShards, ShardId: sh.ParentShardId}})
			if err != nil || len(kids.StreamDescription.Shards) != 1 || aws.ToString(kids.StreamDescription.Shards[0].ShardId) != aws.ToString(sh.ShardId) {
				t.Errorf("CHILD_SHARDS of %s: %+v %v", aws.ToString(sh.ParentShardId), kids, err)
			}
		}
	}
	if parents != 6 {
		t.Errorf("%d shards with parents, want 6", parents)
	}
	last := map[string]string{}
	for _, r := range e.readAll(t, arn) {
		pk := strAttr(r.Dynamodb.Keys, "pk")
		if got := numAttr(r.Dynamodb.OldImage, "v"); got != last[pk] {
			t.Errorf("item %s: OldImage v=%q, previous NewImage v=%q", pk, got, last[pk])
		}
		last[pk] = numAttr(r.Dynamodb.NewImage, "v")
	}
	for i := 0; i < items; i++ {
		if last[fmt.Sprint(i)] != "3" {
			t.Errorf("item %d ends at %q", i, last[fmt.Sprint(i)])
		}
	}
}

// TestSplit: a hot shard splits in two children covering its halves.
func TestSplit(t *testing.T) {
	c := eddytest.NewClock()
	o := oneShard(manual(c))
	o.Streams.SplitWritesPerSecond = 1
	e := start(t, o)
	arn := e.createTable(t, "split", "KEYS_ONLY")
	for i := 0; i < 10; i++ {
		e.put(t, "split", map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i))})
	}
	if err := e.Streams().Maintain(time.Second); err != nil {
		t.Fatal(err)
	}
	_, shs := e.shardsOf(t, arn, 0)
	if len(shs) != 3 || aws.ToString(shs[1].ParentShardId) != aws.ToString(shs[0].ShardId) ||
		aws.ToString(shs[2].ParentShardId) != aws.ToString(shs[0].ShardId) {
		t.Fatalf("after split: %+v", shs)
	}
	for i := 10; i < 30; i++ {
		e.put(t, "split", map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i))})
	}
	if recs := e.readAll(t, arn); len(recs) != 30 {
		t.Fatalf("%d records", len(recs))
	}
}

// TestRestart: after a restart, iterators issued before it still work
// (persisted HMAC key), records are all there and sequence numbers go on
// increasing.
func TestRestart(t *testing.T) {
	e := start(t, oneShard(server.Options{DataDir: t.TempDir()}))
	arn := e.createTable(t, "restart", "NEW_IMAGE")
	e.put(t, "restart", map[string]ddbtypes.AttributeValue{"pk": s("1")})
	shard := firstShard(t, e, arn)
	it, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	e.Restart()
	e.S = dynamodbstreams.NewFromConfig(e.Config())
	e.put(t, "restart", map[string]ddbtypes.AttributeValue{"pk": s("2")})
	out, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 || aws.ToString(out.Records[0].Dynamodb.SequenceNumber) >= aws.ToString(out.Records[1].Dynamodb.SequenceNumber) {
		t.Fatalf("after restart: %+v", out.Records)
	}
}
