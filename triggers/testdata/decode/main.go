// Command decode is the decode-only handler of the handler benchmarks: it
// reads every record's SequenceNumber, Keys.pk and NewImage.v and writes
// nothing. "handle" decodes every record into typed values
// (guest.HandleStream); "lazy" reads only those members (guest.Event).
package main

import "github.com/eddydb/eddy/triggers/guest"

var sink int

func typed(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	for _, r := range ev.Records {
		sink += len(r.DynamoDB.SequenceNumber) + len(r.DynamoDB.Keys["pk"].Str()) + len(r.DynamoDB.NewImage["v"].Str())
	}
	return &guest.BatchResponse{}, nil
}

func lazy(ev *guest.Event) (*guest.BatchResponse, error) {
	for i := range ev.Records {
		r := &ev.Records[i]
		pk, _ := r.Keys().Get("pk").Str()
		v, _ := r.NewImage().Get("v").Str()
		sink += len(r.SequenceNumber()) + len(pk) + len(v)
	}
	return &guest.BatchResponse{}, nil
}

var lazyHandler = guest.RecordsHandler(lazy)

//go:wasmexport lazy
func lazyExport() int32 { return guest.Run(lazyHandler) }

func init() { guest.HandleStream(typed) }

func main() {}
