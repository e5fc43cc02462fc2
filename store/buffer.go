package store

import "context"

// MutationBuffer holds single-item writes back instead of committing them:
// during an event source mapping invocation, a trigger function's table
// writes are applied to the invocation's buffer (mappings.WriteBuffer) and
// committed later with the mapping's checkpoint. Apply evaluates m against
// the buffered view of its item and keeps it; the Result is what a commit
// at this point would report.
type MutationBuffer interface {
	Apply(m Mutation) (Result, error)
}

type mutationBufferKey struct{}

// WithMutationBuffer returns a context under which the server's single-item
// write handlers (PutItem, UpdateItem, DeleteItem) apply their mutation to
// b instead of committing it. The key lives here, at the bottom, so that
// the package that sets it and the one that reads it never import each
// other.
func WithMutationBuffer(ctx context.Context, b MutationBuffer) context.Context {
	return context.WithValue(ctx, mutationBufferKey{}, b)
}

// MutationBufferFrom returns the buffer WithMutationBuffer put in ctx, or
// nil.
func MutationBufferFrom(ctx context.Context) MutationBuffer {
	b, _ := ctx.Value(mutationBufferKey{}).(MutationBuffer)
	return b
}
