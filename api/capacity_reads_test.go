package api_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// startSmallBurst is startCapacity with 10 s of burst instead of 300, so a
// table at 1 read unit holds 10 units and a handful of reads spends them.
func startSmallBurst(t *testing.T) (*eddytest.Server, *stepClock) {
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := eddytest.Start(t, server.Options{Capacity: capacity.Options{Mode: capacity.Enforce, Now: clk.Now, BurstSeconds: 10}})
	return s, clk
}

// TestCapacityTransactGetItemsThrottled: TransactGetItems is charged to the
// limiter at twice the strongly consistent units of each item
// ("transactional read requests require two read capacity units to
// perform one read per second for items up to 4 KB", developer guide,
// read/write capacity mode), and refused with TransactionCanceledException
// naming the throttled read (TransactGetItems: "There is insufficient
// provisioned capacity for the transaction to be completed").
func TestCapacityTransactGetItemsThrottled(t *testing.T) {
	s, clk := startSmallBurst(t)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("txr")}, 1, 100)
	for _, k := range []string{"a", "b"} {
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("txr"), Item: map[string]types.AttributeValue{"pk": S(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func() error {
		_, err := s.DDB.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String("txr"), Key: map[string]types.AttributeValue{"pk": S("a")}}},
			{Get: &types.Get{TableName: aws.String("txr"), Key: map[string]types.AttributeValue{"pk": S("b")}}},
		}})
		return err
	}
	// 10 units: each call costs 4 (2 items × 2), so the third leaves the
	// bucket in debt (-2) and the fourth is refused. Charged once per item
	// instead of twice, five calls would pass.
	for i := 0; i < 3; i++ {
		if err := get(); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := get()
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [ProvisionedThroughputExceeded, None]")
	var tce *types.TransactionCanceledException
	if !asErr(err, &tce) || len(tce.CancellationReasons) != 2 || *tce.CancellationReasons[0].Code != "ProvisionedThroughputExceeded" ||
		*tce.CancellationReasons[0].Message != msgPTETable || *tce.CancellationReasons[1].Code != "None" {
		t.Fatalf("reasons: %+v", tce)
	}
	// The table's capacity is spent for every read.
	_, err = s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("txr"), Key: map[string]types.AttributeValue{"pk": S("a")}})
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
	clk.Advance(6 * time.Second) // -2 + 6
	if err := get(); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
}

// TestCapacityPartiQLReadsThrottled: PartiQL reads are admitted and charged
// as the operations they stand for: ExecuteStatement's SELECT as a Query
// (ProvisionedThroughputExceededException), each statement of
// BatchExecuteStatement as a GetItem (a throttled one is its entry's Error
// ProvisionedThroughputExceeded, the others are read), a read-only
// ExecuteTransaction as TransactGetItems (TransactionCanceledException).
func TestCapacityPartiQLReadsThrottled(t *testing.T) {
	s, clk := startSmallBurst(t)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("pqr")}, 1, 100)
	for _, k := range []string{"a", "b"} {
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pqr"), Item: map[string]types.AttributeValue{"pk": S(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	sel := func() error {
		_, err := s.DDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "pqr" WHERE pk = 'a'`), ConsistentRead: aws.Bool(true)})
		return err
	}
	for i := 0; i < 10; i++ { // 10 units, 1 a statement
		if err := sel(); err != nil {
			t.Fatalf("SELECT %d: %v", i+1, err)
		}
	}
	apiErr(t, sel(), "ProvisionedThroughputExceededException", msgPTETable)

	clk.Advance(time.Second) // 1 unit: the first statement is read, the second refused
	out, err := s.DDB.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`SELECT * FROM "pqr" WHERE pk = 'a'`), ConsistentRead: aws.Bool(true)},
		{Statement: aws.String(`SELECT * FROM "pqr" WHERE pk = 'b'`), ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Responses; len(r) != 2 || r[0].Error != nil || r[0].Item == nil || r[1].Error == nil ||
		r[1].Error.Code != types.BatchStatementErrorCodeEnumProvisionedThroughputExceeded || *r[1].Error.Message != msgPTETable {
		t.Fatalf("BatchExecuteStatement: %+v", out.Responses)
	}

	tx := func() error {
		_, err := s.DDB.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
			{Statement: aws.String(`SELECT * FROM "pqr" WHERE pk = 'a'`)},
			{Statement: aws.String(`SELECT * FROM "pqr" WHERE pk = 'b'`)},
		}})
		return err
	}
	apiErr(t, tx(), "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [ProvisionedThroughputExceeded, None]")
	clk.Advance(4 * time.Second) // 4 units: one transaction of two reads at 2 each
	if err := tx(); err != nil {
		t.Fatalf("ExecuteTransaction after the refill: %v", err)
	}
	apiErr(t, tx(), "TransactionCanceledException", "")
}
