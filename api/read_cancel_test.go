package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestReadStopsWhenClientGone: Query, Scan and a PartiQL SELECT run under
// the request's context, so one whose client has gone (its context done)
// stops reading and fails with context.Canceled instead of rendering a
// page nobody will receive. (store's TestReadStopsWhenCancelled shows a
// read stops within a few hundred keys of the cancel.)
func TestReadStopsWhenClientGone(t *testing.T) {
	s := eddytest.Start(t, server.Options{InMemory: true})
	createTable(t, s.DDB, "gone", true)
	for i := 0; i < 20; i++ {
		put(t, s.DDB, "gone", item{"pk": S("p"), "sk": N(fmt.Sprint(i))})
	}
	live := map[string]string{
		"Scan":             `{"TableName":"gone"}`,
		"Query":            `{"TableName":"gone","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}}}`,
		"ExecuteStatement": `{"Statement":"SELECT * FROM gone WHERE pk = 'p'"}`,
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for op, req := range live {
		if _, err := s.Call(ctx, op, []byte(req), ""); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if out, err := s.Call(gone, op, []byte(req), ""); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with the client gone: %s, %v; want context.Canceled", op, out, err)
		}
	}
}
