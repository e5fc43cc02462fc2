// Command decode is the decode-only handler of the handler benchmarks: it
// reads every record's SequenceNumber, Keys.pk and NewImage.v and writes
// nothing. "handle" decodes every record into typed values
// (guest.HandleStream); "lazy" reads only those members (guest.Event).
package main

import "github.com/eddydb/eddy/triggers/testdata/before/guest"

var sink int

func typed(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	for _, r := range ev.Records {
		sink += len(r.DynamoDB.SequenceNumber) + len(r.DynamoDB.Keys["pk"].Str()) + len(r.DynamoDB.NewImage["v"].Str())
	}
	return &guest.BatchResponse{}, nil
}

func init() { guest.HandleStream(typed) }

func main() {}
