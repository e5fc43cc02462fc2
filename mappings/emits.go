package mappings

import (
	"context"
	"encoding/json"
	"strings"

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
	// The handler's table writes are charged to their tables' capacity
	// as the PutItem, UpdateItem and DeleteItem calls that made them
	// (store.MeterStandard): a table or index without capacity refuses
	// the whole commit, checkpoint included, which the delivery engine
	// treats as a failed batch (retried, bisected, dead-lettered by the
	// mapping's rules), so a throttled write is never lost. Outcomes
	// without writes (a checkpoint, a dead letter) are not metered.
	wo := store.WriteOptions{Extra: extra}
	if len(tables) > 0 {
		wo.Metering = store.MeterStandard
	}
	ob := m.deps.Outbox
	if ob == nil || emits.Empty() {
		_, err := m.deps.DB.Write(ctx, wo, tables...)
		return err
	}
	if err := ob.WaitRoom(ctx, emits, paused); err != nil {
		return err
	}
	var staged *outbox.Staged
	wo.Extra = func(b *store.Batch) error {
		if extra != nil {
			if err := extra(b); err != nil {
				return err
			}
		}
		var err error
		staged, err = ob.Stage(b, emits)
		return err
	}
	_, err := m.deps.DB.Write(ctx, wo, tables...)
	staged.Done(err)
	return err
}

// Builtin is a host-side handler: it gets the invocation's payload (the
// DynamoDB stream event) and the mapping's UUID and qualifier, emits and
// writes through ctx exactly as a function's eddy.emit and table calls do
// (buffered, committed with the checkpoint), and returns the response
// (e.g. {"batchItemFailures":[...]}) or a function error.
type Builtin func(ctx context.Context, uuid, qualifier string, payload []byte) ([]byte, error)

// isBuiltin reports whether a function name names a built-in.
func isBuiltin(name string) bool { return strings.HasPrefix(name, "eddy.") }

func (m *Manager) builtin(name string) (Builtin, bool) {
	if m.deps.Builtins == nil {
		return nil, false
	}
	return m.deps.Builtins(name)
}

// invokeBuiltin runs a built-in as invokeHost runs a function: with fresh
// buffers in its context. An error is a function error (Unhandled).
func (m *Manager) invokeBuiltin(ctx context.Context, uuid, name, qualifier string, payload []byte) (delivery.Result, error) {
	fn, ok := m.builtin(name)
	if !ok {
		return delivery.Result{}, delivery.ErrFunctionNotFound
	}
	buf := store.NewWriteBuffer(m.deps.DB)
	emits := outbox.NewBuffer()
	resp, err := fn(outbox.WithBuffer(store.WithBuffer(ctx, buf), emits), uuid, qualifier, payload)
	if err != nil {
		if ctx.Err() != nil {
			return delivery.Result{}, ctx.Err()
		}
		b, _ := json.Marshal(map[string]string{"errorType": "BuiltinError", "errorMessage": err.Error()})
		return delivery.Result{FunctionError: "Unhandled", Payload: b}, nil
	}
	return delivery.Result{Payload: resp, Writes: &handlerWrites{tables: buf, emits: emits}}, nil
}
