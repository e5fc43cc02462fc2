// Command esm is the test guest of event source mappings. It reports every
// invocation to the "calls" sink ({"seqs":[...],"pks":[...],"vs":[...]})
// and then behaves as its environment says:
//
//	FAIL_ON=x       function error when any record's NewImage.v is x
//	PARTIAL_ON=x    report every record whose NewImage.v is x in batchItemFailures
//	FAIL_TIMES=n    function error on the first n invocations of the instance
//	                (after the VIEW writes: they must be discarded)
//	VIEW=table      materialized view: per INSERT of an order {customer, amount},
//	                ADD total amount, orders 1 to table's item customer
package main

import (
	"errors"
	"os"
	"strconv"

	"github.com/eddydb/eddy/triggers/guest"
)

var calls int

type report struct {
	Seqs []string `json:"seqs"`
	Pks  []string `json:"pks"`
	Vs   []string `json:"vs"`
}

func handle(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	calls++
	var rep report
	for _, r := range ev.Records {
		rep.Seqs = append(rep.Seqs, r.DynamoDB.SequenceNumber)
		rep.Pks = append(rep.Pks, r.DynamoDB.Keys["pk"].Str())
		rep.Vs = append(rep.Vs, r.DynamoDB.NewImage["v"].Str())
	}
	if os.Getenv("QUIET") == "" {
		if err := guest.Emit("calls", rep); err != nil {
			return nil, err
		}
	}
	if view := os.Getenv("VIEW"); view != "" {
		for _, r := range ev.Records {
			if r.EventName != "INSERT" {
				continue
			}
			img := r.DynamoDB.NewImage
			err := guest.UpdateItem(map[string]any{
				"TableName":                 view,
				"Key":                       guest.Item{"pk": img["customer"]},
				"UpdateExpression":          "ADD #t :a, #o :one",
				"ExpressionAttributeNames":  map[string]string{"#t": "total", "#o": "orders"},
				"ExpressionAttributeValues": guest.Item{":a": img["amount"], ":one": guest.N("1")},
			}, nil)
			if err != nil {
				return nil, err
			}
		}
	}
	if n, _ := strconv.Atoi(os.Getenv("FAIL_TIMES")); calls <= n {
		return nil, errors.New("failing on purpose, call " + strconv.Itoa(calls))
	}
	if f := os.Getenv("FAIL_ON"); f != "" {
		for _, v := range rep.Vs {
			if v == f {
				return nil, errors.New("poison record " + v)
			}
		}
	}
	var resp guest.BatchResponse
	if p := os.Getenv("PARTIAL_ON"); p != "" {
		for i, v := range rep.Vs {
			if v == p {
				resp.Fail(rep.Seqs[i])
			}
		}
	}
	return &resp, nil
}

func init() { guest.HandleStream(handle) }

func main() {}
