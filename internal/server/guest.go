package server

import (
	"context"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/ddberr"
)

// guestTableOps are the DynamoDB operations a trigger function may call
// through eddy.table_call (see triggers/ABI.md).
var guestTableOps = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true,
}

// guestTables is the triggers.Tables of the host: a guest's table calls run
// through api's handlers, so a function sees exactly DynamoDB's validation
// and errors. During an event source mapping invocation ctx carries the
// invocation's store.WriteBuffer (the mapping put it there), so api's write
// path defers the guest's writes to the mapping's checkpoint commit. The
// calls act in the region ctx names (arn.WithRegion: the mapping's stream's
// region, or the Invoke request's), the server's default otherwise.
type guestTables struct{ api *api.Server }

func (g guestTables) Call(ctx context.Context, op string, req []byte) ([]byte, error) {
	if !guestTableOps[op] {
		return nil, guestError{ddberr.New(ddberr.KindUnknownOperation, "eddy: %s is not available to trigger functions", op)}
	}
	out, err := g.api.CallIn(ctx, arn.RegionFrom(ctx), op, req, "")
	if err != nil {
		return nil, guestError{ddberr.As(err)}
	}
	return out, nil
}

// apply is a trigger worker's handler write (mappings.WorkerApply): the
// same dispatch, into the store.WriteBuffer ctx carries.
func (g guestTables) apply(ctx context.Context, op string, req []byte) error {
	_, err := g.Call(ctx, op, req)
	return err
}

// guestError hands a DynamoDB error to the guest as DynamoDB's error JSON.
type guestError struct{ e *ddberr.Error }

func (g guestError) Error() string             { return g.e.Error() }
func (g guestError) Unwrap() error             { return g.e }
func (g guestError) DynamoDBErrorJSON() []byte { return api.ErrorJSON(g.e) }
