package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

const (
	table  = "torture"
	view   = "torture-view"
	poison = "POISON"
)

// worker writes to its own keys, one write at a time, so the order of an
// item's writes is known. A write whose answer is lost (the kill) is kept
// as pending: the worker stops until the next restart resolves it.
type worker struct {
	id      int
	rng     *rand.Rand
	keys    []string
	m       *model
	n       int    // writes issued (for identifiers)
	pending *write // in doubt, resolved after the restart

	ops, acked, refused int
	violations          []string
}

func newWorker(seed int64, id, keys int, m *model) *worker {
	w := &worker{id: id, rng: rand.New(rand.NewSource(seed*1000 + int64(id))), m: m}
	for i := 0; i < keys; i++ {
		k := fmt.Sprintf("k%d-%02d", id, i)
		w.keys = append(w.keys, k)
		m.key(k)
	}
	return w
}

// newState is a fresh full state for key k written by write id.
func (w *worker) newState(id string, c int) *item {
	v := "v" + strconv.Itoa(w.rng.Intn(1000))
	if w.rng.Intn(100) < 2 {
		v = poison
	}
	return &item{W: id, V: v, Customer: "c" + strconv.Itoa(w.rng.Intn(5)), Amount: 1 + w.rng.Intn(100), C: c}
}

// next draws the worker's next write from the model's current state.
func (w *worker) next() (*write, func(*dynamodb.Client, context.Context) error) {
	w.n++
	id := fmt.Sprintf("w%d-%d", w.id, w.n)
	wr := &write{id: id}
	pick := func() string { return w.keys[w.rng.Intn(len(w.keys))] }
	// counter draws an update of k: SET every attribute, c to expected+1,
	// on the condition that c is as expected (or the item absent).
	counter := func(k string, wrong bool) (effect, string, map[string]ddb.AttributeValue) {
		cur := w.m.keys[k].cur
		exp := 0
		if cur != nil {
			exp = cur.C
		}
		if wrong {
			exp += 1000
		}
		after := w.newState(id, exp+1)
		vals := map[string]ddb.AttributeValue{}
		for n, v := range after.av(k) {
			if n != "pk" {
				vals[":"+n] = v
			}
		}
		cond := "attribute_not_exists(pk)"
		if cur != nil || wrong {
			cond = "c = :e"
			vals[":e"] = &ddb.AttributeValueMemberN{Value: strconv.Itoa(exp)}
		}
		e := effect{key: k, before: cur, after: after}
		if wrong {
			e.after = cur
		}
		return e, cond, vals
	}
	const upd = "SET w = :w, v = :v, customer = :customer, amount = :amount, c = :c"
	key := func(k string) map[string]ddb.AttributeValue {
		return map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: k}}
	}
	switch r := w.rng.Intn(100); {
	case r < 30:
		wr.kind = "put"
		k := pick()
		cur := w.m.keys[k].cur
		c := 0
		if cur != nil {
			c = cur.C
		}
		after := w.newState(id, c)
		wr.effects = []effect{{key: k, before: cur, after: after}}
		return wr, func(c *dynamodb.Client, ctx context.Context) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: after.av(k)})
			return err
		}
	case r < 60:
		wr.kind = "update"
		k := pick()
		wrong := w.rng.Intn(100) < 10
		e, cond, vals := counter(k, wrong)
		wr.effects, wr.fails = []effect{e}, wrong
		return wr, func(c *dynamodb.Client, ctx context.Context) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key(k),
				UpdateExpression: aws.String(upd), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
			return err
		}
	case r < 75:
		wr.kind = "delete"
		k := pick()
		wr.effects = []effect{{key: k, before: w.m.keys[k].cur, after: nil}}
		return wr, func(c *dynamodb.Client, ctx context.Context) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(k)})
			return err
		}
	default:
		wr.kind = "tx"
		n := 2 + w.rng.Intn(3)
		perm := w.rng.Perm(len(w.keys))[:n]
		var items []ddb.TransactWriteItem
		for i, p := range perm {
			k := w.keys[p]
			cur := w.m.keys[k].cur
			if i == n-1 && w.rng.Intn(100) < 15 {
				// A condition check the model knows false: nothing applies.
				wr.fails = true
				exp := 1000
				if cur != nil {
					exp += cur.C
				}
				wr.effects = append(wr.effects, effect{key: k, before: cur, after: cur})
				items = append(items, ddb.TransactWriteItem{ConditionCheck: &ddb.ConditionCheck{TableName: aws.String(table), Key: key(k),
					ConditionExpression:       aws.String("c = :e"),
					ExpressionAttributeValues: map[string]ddb.AttributeValue{":e": &ddb.AttributeValueMemberN{Value: strconv.Itoa(exp)}}}})
				continue
			}
			switch w.rng.Intn(3) {
			case 0:
				c := 0
				if cur != nil {
					c = cur.C
				}
				after := w.newState(id, c)
				wr.effects = append(wr.effects, effect{key: k, before: cur, after: after})
				items = append(items, ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(table), Item: after.av(k)}})
			case 1:
				e, cond, vals := counter(k, false)
				wr.effects = append(wr.effects, e)
				items = append(items, ddb.TransactWriteItem{Update: &ddb.Update{TableName: aws.String(table), Key: key(k),
					UpdateExpression: aws.String(upd), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}})
			default:
				wr.effects = append(wr.effects, effect{key: k, before: cur, after: nil})
				items = append(items, ddb.TransactWriteItem{Delete: &ddb.Delete{TableName: aws.String(table), Key: key(k)}})
			}
		}
		if wr.fails { // nothing changes
			for i := range wr.effects {
				wr.effects[i].after = wr.effects[i].before
			}
		}
		return wr, func(c *dynamodb.Client, ctx context.Context) error {
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			return err
		}
	}
}

// refusal reports whether err is the server's definite refusal of a
// conditional write (nothing applied), as opposed to an unknown outcome.
func refusal(err error) (string, bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ConditionalCheckFailedException", "TransactionCanceledException":
			return ae.ErrorCode() + ": " + ae.ErrorMessage(), true
		}
	}
	return "", false
}

// run writes until ctx ends or a write's outcome is unknown.
func (w *worker) run(ctx context.Context, c *dynamodb.Client) {
	for ctx.Err() == nil {
		wr, do := w.next()
		w.ops++
		err := do(c, context.Background()) // not ctx: only the kill cuts a write off
		switch msg, refused := refusal(err); {
		case err == nil:
			if wr.fails {
				w.violations = append(w.violations, fmt.Sprintf("write acknowledged although its condition is false in the model (an acknowledged write lost, or one applied twice?): %s", wr))
			}
			w.acked++
			w.m.apply(wr, true)
		case refused:
			w.refused++
			if !wr.fails {
				w.violations = append(w.violations, fmt.Sprintf("write refused (%s) although its condition holds in the model (an acknowledged write lost, or an unacknowledged one applied?): %s", msg, wr))
			}
		default:
			w.pending = wr
			return
		}
	}
}
