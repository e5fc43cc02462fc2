package api

import (
	"context"

	"github.com/eddydb/eddy/store"
)

// writeItem is the single-item write path of PutItem, UpdateItem and
// DeleteItem: each handler compiles its request into one store.Mutation
// (the Apply closure evaluates the condition and computes the new item) and
// renders its response from the store.Result. Normally the mutation commits
// at once. During an event source mapping invocation (a trigger function's
// eddy.table_call; store.BufferFrom finds the invocation's buffer in ctx)
// it is evaluated against the buffer instead and committed later together
// with the mapping's checkpoint: see store.WriteBuffer.
func (s *Server) writeItem(ctx context.Context, c *call, m store.Mutation) ([]store.Result, error) {
	if wb := store.BufferFrom(ctx); wb != nil {
		c.buffered = true
		r, err := wb.Apply(m)
		if err != nil {
			return nil, err
		}
		return []store.Result{r}, nil
	}
	if err := s.barrier(ctx, m.Table, m.Key); err != nil {
		return nil, err
	}
	return s.db.Write(ctx, store.WriteOptions{Principal: principal(c), Metering: store.MeterStandard, Op: c.op}, m)
}
