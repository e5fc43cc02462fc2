// Command materialized-view is an eddy stream handler that maintains
// per-customer order totals from an orders table.
//
// Source items (the orders table, any key) carry "customer" (S) and
// "amount" (N). The view (table TOTALS_TABLE, default "order_totals"; hash
// key "customer" S) holds per customer:
//
//	total   the sum of the amounts of the customer's orders (N)
//	orders  how many orders the customer has (N)
//
// Changes are folded in with UpdateItem ADD:
//
//	INSERT  ADD total +amount, orders +1
//	MODIFY  same customer: ADD total (new - old), computed exactly in
//	        decimal; customer changed: remove from the old customer, add
//	        to the new one
//	REMOVE  ADD total -amount, orders -1
//
// ADD is a delta, so the view is only right if each change is applied
// exactly once. eddy makes that so for writes made during a trigger
// invocation: they are buffered and commit in the same batch as the
// mapping's checkpoint past the records that caused them; a failed or
// retried invocation's writes are dropped. Items without a customer or a
// numeric amount are not orders and are skipped. A customer whose orders
// were all removed keeps an item with total 0 and orders 0.
package main

import (
	"fmt"
	"math/big"
	"os"

	"github.com/eddydb/eddy/triggers/testdata/before/guest"
)

func totalsTable() string {
	if t := os.Getenv("TOTALS_TABLE"); t != "" {
		return t
	}
	return "order_totals"
}

// order is the part of an orders item the view depends on.
type order struct {
	customer string
	amount   *big.Rat
}

// orderOf reads an image; ok is false when the image is not an order.
func orderOf(img guest.Item) (o order, ok bool) {
	c, n := img["customer"], img["amount"]
	if c.S == nil || n.N == nil {
		return o, false
	}
	a, ok := new(big.Rat).SetString(*n.N)
	if !ok {
		return o, false
	}
	return order{customer: *c.S, amount: a}, true
}

func handle(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	table := totalsTable()
	for _, r := range ev.Records {
		old, hadOld := orderOf(r.DynamoDB.OldImage)
		cur, hasNew := orderOf(r.DynamoDB.NewImage)
		if r.EventName == "REMOVE" {
			hasNew = false
		}
		if r.EventName == "INSERT" {
			hadOld = false
		}
		var err error
		switch {
		case hadOld && hasNew && old.customer == cur.customer:
			diff := new(big.Rat).Sub(cur.amount, old.amount)
			if diff.Sign() != 0 {
				err = add(table, cur.customer, diff, 0)
			}
		default:
			if hadOld {
				err = add(table, old.customer, new(big.Rat).Neg(old.amount), -1)
			}
			if err == nil && hasNew {
				err = add(table, cur.customer, cur.amount, 1)
			}
		}
		if err != nil {
			// A failed invocation's writes are all dropped and the batch is
			// retried, so failing the whole batch is simplest and correct.
			return nil, fmt.Errorf("%s %s: %w", r.EventName, r.DynamoDB.SequenceNumber, err)
		}
	}
	return &guest.BatchResponse{}, nil
}

// add adds amount to the customer's total and orders to its order count.
func add(table, customer string, amount *big.Rat, orders int) error {
	return guest.UpdateItem(map[string]any{
		"TableName":                table,
		"Key":                      guest.Item{"customer": guest.S(customer)},
		"UpdateExpression":         "ADD #t :a, #o :n",
		"ExpressionAttributeNames": map[string]string{"#t": "total", "#o": "orders"},
		"ExpressionAttributeValues": guest.Item{
			":a": guest.N(decimal(amount)),
			":n": guest.N(fmt.Sprint(orders)),
		},
	}, nil)
}

// decimal renders r, a sum or difference of decimal numbers, exactly: with
// as many fraction digits as it takes (at most 38, DynamoDB's precision).
func decimal(r *big.Rat) string {
	for prec := 0; prec < 38; prec++ {
		s := r.FloatString(prec)
		if back, _ := new(big.Rat).SetString(s); back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(38)
}

func init() { guest.HandleStream(handle) }

func main() {}
