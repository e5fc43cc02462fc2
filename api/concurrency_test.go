package api_test

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestConcurrentConditionalWrites races optimistic increments (read the
// counter, UpdateItem with a condition on the value read) against
// transactions that bump two counters at once with the same kind of
// condition. Lost updates would show as final values above or below the
// number of successful calls; a transaction applied halfway would show as
// a difference between the two counters it moves together.
func TestConcurrentConditionalWrites(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	// Its own transport, closed before the server stops: connections dialed
	// but never used would hold http.Server.Shutdown for its 5 s grace.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	t.Cleanup(tr.CloseIdleConnections)
	c := dynamodb.NewFromConfig(s.Config(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: tr} })
	createTable(t, c, "cnt", false)
	for _, k := range []string{"a", "b"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("cnt"), Item: item{"pk": S(k), "n": N("0"), "tx": N("0")}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(k string) (n, tx int) {
		it := getItem(t, c, "cnt", item{"pk": S(k)})
		n, _ = strconv.Atoi(it["n"].(*types.AttributeValueMemberN).Value)
		tx, _ = strconv.Atoi(it["tx"].(*types.AttributeValueMemberN).Value)
		return
	}
	const workers, rounds = 8, 25
	var incA, incB, txOK atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				k := []string{"a", "b"}[(w+r)%2]
				if w%2 == 0 {
					// Transaction: both counters' n and tx move by one, if
					// a's n is still what we read.
					na, _ := read("a")
					_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
						{Update: &types.Update{TableName: aws.String("cnt"), Key: item{"pk": S("a")}, UpdateExpression: aws.String("SET n = n + :one, tx = tx + :one"),
							ConditionExpression: aws.String("n = :seen"), ExpressionAttributeValues: item{":one": N("1"), ":seen": N(strconv.Itoa(na))}}},
						{Update: &types.Update{TableName: aws.String("cnt"), Key: item{"pk": S("b")}, UpdateExpression: aws.String("SET n = n + :one, tx = tx + :one"),
							ExpressionAttributeValues: item{":one": N("1")}}},
					}})
					var tce *types.TransactionCanceledException
					switch {
					case err == nil:
						txOK.Add(1)
					case errors.As(err, &tce):
					default:
						t.Error(err)
						return
					}
					continue
				}
				n, _ := read(k)
				_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("cnt"), Key: item{"pk": S(k)},
					UpdateExpression: aws.String("SET n = :next"), ConditionExpression: aws.String("n = :seen"),
					ExpressionAttributeValues: item{":next": N(strconv.Itoa(n + 1)), ":seen": N(strconv.Itoa(n))}})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil && k == "a":
					incA.Add(1)
				case err == nil:
					incB.Add(1)
				case errors.As(err, &ccf):
				default:
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	na, txa := read("a")
	nb, txb := read("b")
	if txa != int(txOK.Load()) || txb != txa {
		t.Fatalf("transactions: %d succeeded, counters show %d and %d", txOK.Load(), txa, txb)
	}
	if na != int(incA.Load())+txa || nb != int(incB.Load())+txb {
		t.Fatalf("a=%d (want %d+%d), b=%d (want %d+%d)", na, incA.Load(), txa, nb, incB.Load(), txb)
	}
	if incA.Load() == 0 || txOK.Load() == 0 {
		t.Fatalf("no progress: %d increments of a, %d transactions", incA.Load(), txOK.Load())
	}
	t.Logf("a: %d increments + %d tx; b: %d increments + %d tx", incA.Load(), txa, incB.Load(), txb)
}
