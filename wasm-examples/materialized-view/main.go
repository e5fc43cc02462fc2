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
// Changes are folded in with UpdateItem ADD, all of an invocation's
// UpdateItems sent to the host in one call (guest.Batch):
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
	"strings"

	"github.com/eddydb/eddy/triggers/guest"
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
	amount   string // the N value as DynamoDB sent it
}

// orderOf reads an image; ok is false when the image is not an order.
func orderOf(img guest.Image) (o order, ok bool) {
	c, okc := img.Get("customer").Str()
	n, okn := img.Get("amount").Num()
	if !okc || !okn {
		return o, false
	}
	return order{customer: c, amount: n}, true
}

var (
	batch guest.Batch // the view's writes, sent to the host in one call per invocation
	req   []byte
	recOf []int // recOf[i]: the record of the batch's call i
)

func handle(ev *guest.Event) (*guest.BatchResponse, error) {
	table := totalsTable()
	recOf = recOf[:0]
	for i := range ev.Records {
		r := &ev.Records[i]
		old, hadOld := orderOf(r.OldImage())
		cur, hasNew := orderOf(r.NewImage())
		if r.EventNameIs("REMOVE") {
			hasNew = false
		}
		if r.EventNameIs("INSERT") {
			hadOld = false
		}
		var err error
		switch {
		case hadOld && hasNew && old.customer == cur.customer:
			var diff *big.Rat
			if diff, err = sub(cur.amount, old.amount); err == nil && diff.Sign() != 0 {
				add(table, cur.customer, decimal(diff), "0")
				recOf = append(recOf, i)
			}
		default:
			if hadOld {
				add(table, old.customer, neg(old.amount), "-1")
				recOf = append(recOf, i)
			}
			if hasNew {
				add(table, cur.customer, cur.amount, "1")
				recOf = append(recOf, i)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.EventName(), r.SequenceNumber(), err)
		}
	}
	if done, err := batch.Flush(); err != nil {
		// A failed invocation's writes are all dropped and the batch is
		// retried, so failing the whole batch is simplest and correct.
		r := &ev.Records[recOf[done]]
		return nil, fmt.Errorf("%s %s: %w", r.EventName(), r.SequenceNumber(), err)
	}
	return &guest.BatchResponse{}, nil
}

// add adds amount (a decimal string) to the customer's total and orders
// to its order count: one UpdateItem, built without reflection.
func add(table, customer, amount, orders string) {
	req = guest.AppendString(append(req[:0], `{"TableName":`...), table)
	req = guest.AppendString(append(req, `,"Key":{"customer":{"S":`...), customer)
	req = append(req, `}},"UpdateExpression":"ADD #t :a, #o :n","ExpressionAttributeNames":{"#t":"total","#o":"orders"},`+
		`"ExpressionAttributeValues":{":a":{"N":`...)
	req = guest.AppendString(req, amount)
	req = guest.AppendString(append(req, `},":n":{"N":`...), orders)
	req = append(req, "}}}"...)
	batch.Call("UpdateItem", req)
}

// neg negates a decimal string exactly.
func neg(n string) string {
	if strings.HasPrefix(n, "-") {
		return n[1:]
	}
	return "-" + n
}

// sub returns a - b exactly.
func sub(a, b string) (*big.Rat, error) {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("amount %q or %q is not a decimal number", a, b)
	}
	return x.Sub(x, y), nil
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

func init() { guest.HandleRecords(handle) }

func main() {}
