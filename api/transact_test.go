package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func TestTransactWriteAndGet(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "acct", false)
	createTable(t, c, "ledger", true)
	for _, it := range []item{{"pk": S("alice"), "bal": N("100")}, {"pk": S("bob"), "bal": N("0")}, {"pk": S("carol"), "frozen": &types.AttributeValueMemberBOOL{Value: false}}} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("acct"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	transfer := func(amount, token string, extra ...types.TransactWriteItem) (*dynamodb.TransactWriteItemsOutput, error) {
		items := []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("acct"), Key: item{"pk": S("alice")},
				UpdateExpression: aws.String("SET bal = bal - :a"), ConditionExpression: aws.String("bal >= :a"),
				ExpressionAttributeValues: item{":a": N(amount)}, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			{Update: &types.Update{TableName: aws.String("acct"), Key: item{"pk": S("bob")},
				UpdateExpression: aws.String("ADD bal :a"), ExpressionAttributeValues: item{":a": N(amount)}}},
			{Put: &types.Put{TableName: aws.String("ledger"), Item: item{"pk": S("alice"), "sk": N(amount), "amount": N(amount)}}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("acct"), Key: item{"pk": S("carol")},
				ConditionExpression: aws.String("frozen = :f"), ExpressionAttributeValues: item{":f": &types.AttributeValueMemberBOOL{Value: false}}}},
		}
		items = append(items, extra...)
		in := &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
		if token != "" {
			in.ClientRequestToken = aws.String(token)
		}
		return c.TransactWriteItems(ctx, in)
	}
	out, err := transfer("30", "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]float64{}
	for _, cc := range out.ConsumedCapacity {
		caps[*cc.TableName] = *cc.CapacityUnits
	}
	if caps["acct"] != 6 || caps["ledger"] != 2 { // transactional writes cost double
		t.Fatalf("capacity %v", caps)
	}
	assertItem(t, getItem(t, c, "acct", item{"pk": S("alice")}), item{"pk": S("alice"), "bal": N("70")})

	// The same token and request again: not applied twice. As DynamoDB
	// documents, ConsumedCapacity now reports the read capacity of reading
	// the items (a transactional read: two units per small item), not the
	// write capacity.
	out, err = transfer("30", "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, cc := range out.ConsumedCapacity {
		want := map[string]float64{"acct": 6, "ledger": 2}[*cc.TableName]
		if *cc.CapacityUnits != want || cc.ReadCapacityUnits == nil || *cc.ReadCapacityUnits != want || cc.WriteCapacityUnits != nil {
			t.Fatalf("replayed capacity for %s: %+v, want %v read units", *cc.TableName, cc, want)
		}
	}
	if len(out.ConsumedCapacity) != 2 {
		t.Fatalf("replayed capacity %+v", out.ConsumedCapacity)
	}
	assertItem(t, getItem(t, c, "acct", item{"pk": S("alice")}), item{"pk": S("alice"), "bal": N("70")})
	assertItem(t, getItem(t, c, "acct", item{"pk": S("bob")}), item{"pk": S("bob"), "bal": N("30")})
	// The same token on a different request.
	_, err = transfer("31", "tok-1")
	apiErr(t, err, "IdempotentParameterMismatchException", "")

	// One failing condition cancels everything; reasons come in order, with
	// the item where ALL_OLD was asked.
	_, err = transfer("500", "")
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None, None]")
	var tce *types.TransactionCanceledException
	if !asErr(err, &tce) || len(tce.CancellationReasons) != 4 {
		t.Fatalf("reasons: %v", err)
	}
	r0 := tce.CancellationReasons[0]
	if *r0.Code != "ConditionalCheckFailed" || *r0.Message != "The conditional request failed" {
		t.Fatalf("reason 0: %+v", r0)
	}
	assertItem(t, r0.Item, item{"pk": S("alice"), "bal": N("70")})
	if *tce.CancellationReasons[1].Code != "None" {
		t.Fatalf("reason 1: %+v", tce.CancellationReasons[1])
	}
	assertItem(t, getItem(t, c, "acct", item{"pk": S("bob")}), item{"pk": S("bob"), "bal": N("30")})
	if it := getItem(t, c, "ledger", item{"pk": S("alice"), "sk": N("500")}); it != nil {
		t.Fatalf("cancelled transaction wrote %v", it)
	}

	// An update that fails at apply time is a ValidationError reason.
	_, err = transfer("1", "", types.TransactWriteItem{Update: &types.Update{TableName: aws.String("ledger"), Key: item{"pk": S("x"), "sk": N("1")},
		UpdateExpression: aws.String("SET n = n + :one"), ExpressionAttributeValues: item{":one": N("1")}}})
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, None, None, ValidationError]")
	assertItem(t, getItem(t, c, "acct", item{"pk": S("alice")}), item{"pk": S("alice"), "bal": N("70")})

	// Two actions on one item.
	_, err = transfer("1", "", types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("acct"), Key: item{"pk": S("bob")}}})
	apiErr(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")
	// A missing table.
	_, err = transfer("1", "", types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("nope"), Key: item{"pk": S("bob")}}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")

	// TransactGetItems across tables, in order, {} for a missing item.
	g, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("acct"), Key: item{"pk": S("bob")}}},
		{Get: &types.Get{TableName: aws.String("ledger"), Key: item{"pk": S("alice"), "sk": N("30")}, ProjectionExpression: aws.String("amount")}},
		{Get: &types.Get{TableName: aws.String("acct"), Key: item{"pk": S("nobody")}}},
	}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Responses) != 3 || g.Responses[2].Item != nil {
		t.Fatalf("responses %+v", g.Responses)
	}
	assertItem(t, g.Responses[0].Item, item{"pk": S("bob"), "bal": N("30")})
	assertItem(t, g.Responses[1].Item, item{"amount": N("30")})
	if len(g.ConsumedCapacity) != 2 || *g.ConsumedCapacity[0].CapacityUnits != 4 {
		t.Fatalf("get capacity %+v", g.ConsumedCapacity)
	}
}

// TestTransactTokenSurvivesRestart: the token record commits with the
// transaction, so a retry after a restart is still recognised.
func TestTransactTokenSurvivesRestart(t *testing.T) {
	s := eddytest.Start(t, server.Options{DataDir: t.TempDir()})
	createTable(t, s.DDB, "ctr", false)
	in := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("restart-token"), TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("ctr"), Key: item{"pk": S("c")}, UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: item{":one": N("1")}}},
	}}
	if _, err := s.DDB.TransactWriteItems(ctx, in); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if _, err := s.DDB.TransactWriteItems(ctx, in); err != nil {
		t.Fatal(err)
	}
	assertItem(t, getItem(t, s.DDB, "ctr", item{"pk": S("c")}), item{"pk": S("c"), "n": N("1")})
}
