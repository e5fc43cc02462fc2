package mappings

import (
	"context"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/store"
)

// handlerWrites is what one invocation deferred to its commit: its table
// writes (a store.WriteBuffer) and its emitted documents (an
// outbox.Buffer). It is the delivery.Writes of hostInvoker's results.
type handlerWrites struct {
	tables *store.WriteBuffer
	emits  *outbox.Buffer
}

func (w *handlerWrites) Empty() bool {
	return w == nil || (w.tables.Empty() && w.emits.Empty())
}

// commit writes, in one synced store.DB.Write, ws's table writes, ws's
// emitted documents (staged in the outbox) and what extra adds (a
// checkpoint, a dead letter, a redrive's progress). When the sinks emitted
// to are full (their MaxBacklog), it first waits for room, calling paused
// once per full sink: the lane is paused, visibly, and resumes by itself.
func (m *Manager) commit(ctx context.Context, ws delivery.Writes, paused func(string, int64), extra func(b *store.Batch) error) error {
	var tables []store.Mutation
	var emits *outbox.Buffer
	if hw, ok := ws.(*handlerWrites); ok && hw != nil {
		tables = hw.tables.Mutations()
		emits = hw.emits
	}
	ob := m.deps.Outbox
	if ob == nil || emits.Empty() {
		_, err := m.deps.DB.Write(ctx, store.WriteOptions{Extra: extra}, tables...)
		return err
	}
	if err := ob.WaitRoom(ctx, emits, paused); err != nil {
		return err
	}
	var staged *outbox.Staged
	_, err := m.deps.DB.Write(ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		if extra != nil {
			if err := extra(b); err != nil {
				return err
			}
		}
		var err error
		staged, err = ob.Stage(b, emits)
		return err
	}}, tables...)
	staged.Done(err)
	return err
}
