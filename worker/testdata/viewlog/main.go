// Command viewlog is the test guest of package worker: a materialized view
// and a per-item log of the changes it saw, both written with UpdateItem.
//
// For each record of a table of orders (pk S, customer S, amount N, v N):
//
//	totals (TOTALS_TABLE, key customer): ADD total (new amount - old amount), orders (+1 on INSERT)
//	seen   (SEEN_TABLE, key pk):         SET vs = list_append(vs, [v])
//
// seen's vs lists, per item, the versions in the order the handler got
// them: exactly 1, 2, ..., n when every change was applied once, in order.
// With FAIL_ON=x a batch holding a record whose v is x fails (a function
// error) after making its writes.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/eddydb/eddy/triggers/guest"
)

var (
	batch guest.Batch
	req   []byte
)

func env(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func num(img guest.Image, name string) (int64, bool) {
	s, ok := img.Get(name).Num()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func handle(ev *guest.Event) (*guest.BatchResponse, error) {
	totals, seen := env("TOTALS_TABLE", "totals"), env("SEEN_TABLE", "seen")
	for i := range ev.Records {
		r := &ev.Records[i]
		pk, _ := r.Keys().Get("pk").Str()
		cust, ok := r.NewImage().Get("customer").Str()
		if !ok {
			continue
		}
		amount, _ := num(r.NewImage(), "amount")
		orders := int64(1)
		if old, ok := num(r.OldImage(), "amount"); ok && !r.EventNameIs("INSERT") {
			amount -= old
			orders = 0
		}
		req = guest.AppendString(append(req[:0], `{"TableName":`...), totals)
		req = guest.AppendString(append(req, `,"Key":{"customer":{"S":`...), cust)
		req = append(req, fmt.Sprintf(`}},"UpdateExpression":"ADD #t :a, #o :n","ExpressionAttributeNames":{"#t":"total","#o":"orders"},"ExpressionAttributeValues":{":a":{"N":"%d"},":n":{"N":"%d"}}}`, amount, orders)...)
		batch.Call("UpdateItem", req)
		v, _ := r.NewImage().Get("v").Num()
		req = guest.AppendString(append(req[:0], `{"TableName":`...), seen)
		req = guest.AppendString(append(req, `,"Key":{"pk":{"S":`...), pk)
		req = append(req, `}},"UpdateExpression":"SET vs = list_append(if_not_exists(vs, :e), :v)","ExpressionAttributeValues":{":e":{"L":[]},":v":{"L":[{"N":`...)
		req = guest.AppendString(req, v)
		req = append(req, "}]}}}"...)
		batch.Call("UpdateItem", req)
	}
	if _, err := batch.Flush(); err != nil {
		return nil, err
	}
	if f := os.Getenv("FAIL_ON"); f != "" {
		for i := range ev.Records {
			if v, _ := ev.Records[i].NewImage().Get("v").Num(); v == f {
				return nil, fmt.Errorf("poison record: v is %s", v)
			}
		}
	}
	return &guest.BatchResponse{}, nil
}

func init() { guest.HandleRecords(handle) }

func main() {}
