// Command dlqfixed is the "fixed" version of the esm test guest used by the
// dead-letter tests: it reports every invocation to the "calls" sink in the
// same shape ({"seqs":[...],"pks":[...],"vs":[...]}) and always succeeds.
package main

import "github.com/eddydb/eddy/triggers/guest"

type report struct {
	Seqs []string `json:"seqs"`
	Pks  []string `json:"pks"`
	Vs   []string `json:"vs"`
}

func handle(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	var rep report
	for _, r := range ev.Records {
		rep.Seqs = append(rep.Seqs, r.DynamoDB.SequenceNumber)
		rep.Pks = append(rep.Pks, r.DynamoDB.Keys["pk"].Str())
		rep.Vs = append(rep.Vs, r.DynamoDB.NewImage["v"].Str())
	}
	if err := guest.Emit("calls", rep); err != nil {
		return nil, err
	}
	return &guest.BatchResponse{}, nil
}

func init() { guest.HandleStream(handle) }

func main() {}
