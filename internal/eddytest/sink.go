package eddytest

import (
	"context"
	"encoding/json"
	"sync"
)

// Sink is a trigger host emit sink for tests: it decodes every document a
// guest emits as a T and keeps them in order.
type Sink[T any] struct {
	mu    sync.Mutex
	calls []T
}

// Emit decodes doc and keeps it.
func (s *Sink[T]) Emit(_ context.Context, _ string, doc []byte) error {
	var c T
	if err := json.Unmarshal(doc, &c); err != nil {
		return err
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	return nil
}

// Calls returns a copy of the documents emitted so far.
func (s *Sink[T]) Calls() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), s.calls...)
}
