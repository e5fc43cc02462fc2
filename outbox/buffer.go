package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/eddydb/eddy/store"
)

// Buffer holds what one invocation emitted until its commit: package
// mappings puts one in the invocation's context (WithBuffer), Emit fills
// it, and the lane's commit stages it in the checkpoint's batch (Stage,
// then Staged.Done). A failed invocation's buffer is dropped. Safe for
// concurrent use.
type Buffer struct {
	mu    sync.Mutex
	sinks map[string][]Doc
	order []string // sinks in order of first emit
	n     int
	bytes int
}

// NewBuffer returns an empty buffer.
func NewBuffer() *Buffer { return &Buffer{} }

type bufferKey struct{}

// WithBuffer returns a context whose emits go to b.
func WithBuffer(ctx context.Context, b *Buffer) context.Context {
	return context.WithValue(ctx, bufferKey{}, b)
}

// BufferFrom returns the buffer ctx carries, or nil: emits are then sent
// at once (a direct Invoke).
func BufferFrom(ctx context.Context) *Buffer {
	b, _ := ctx.Value(bufferKey{}).(*Buffer)
	return b
}

// Empty reports whether nothing was emitted. A nil Buffer is empty.
func (b *Buffer) Empty() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n == 0
}

// Len returns the number of buffered documents.
func (b *Buffer) Len() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func (b *Buffer) add(sink string, d Doc) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n >= MaxBufferedDocs {
		return fmt.Errorf("an invocation may emit at most %d documents", MaxBufferedDocs)
	}
	if b.bytes+len(d.Body) > MaxBufferedBytes {
		return fmt.Errorf("an invocation may emit at most %d bytes of documents", MaxBufferedBytes)
	}
	if b.sinks == nil {
		b.sinks = map[string][]Doc{}
	}
	if _, ok := b.sinks[sink]; !ok {
		b.order = append(b.order, sink)
	}
	b.sinks[sink] = append(b.sinks[sink], d)
	b.n++
	b.bytes += len(d.Body)
	return nil
}

// Emit implements triggers.Sinks: it validates doc (see the envelope in
// envelope.go) and, during a mapping invocation (ctx has a Buffer), holds
// it for the checkpoint's commit; otherwise (a direct Invoke) it commits
// the document to the outbox at once and waits until the target has it,
// the first attempt to deliver it fails (the document stays queued and is
// retried), or ctx ends.
func (o *Outbox) Emit(ctx context.Context, name string, raw []byte) error {
	s := o.get(name)
	if s == nil {
		return fmt.Errorf("eddy: no sink named %q (create it with `eddy sinks add`, or eddy serve --sink %s=URL)", name, name)
	}
	d, err := parseEmit(raw)
	if err != nil {
		return fmt.Errorf("sink %s: %v", name, err)
	}
	if buf := BufferFrom(ctx); buf != nil {
		return buf.add(name, d)
	}
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken != nil {
		return fmt.Errorf("sink %s is stopped: %v", name, broken)
	}
	ch := make(chan error, 1)
	b := o.ks.NewBatch()
	defer b.Close()
	st, err := o.stage(b, []string{name}, map[string][]Doc{name: {d}}, ch)
	if err == nil {
		err = b.Commit(true)
	}
	st.Done(err)
	if err != nil {
		return fmt.Errorf("sink %s: %w", name, err)
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("sink %s: not delivered yet (the document stays queued): %w", name, ctx.Err())
	}
}

// Staged is a buffer's documents written into a batch, with their
// positions reserved; Done must follow the batch's commit, whatever its
// outcome.
type Staged struct {
	parts []stagedPart
}

type stagedPart struct {
	s    *sink
	base uint64
	n    int
}

// Stage writes buf's documents into b (the batch that commits the
// checkpoint covering the records that caused them), giving each its
// position. Call Done with the commit's outcome. A buffer naming a sink
// removed since the emit fails the stage (and so the commit).
func (o *Outbox) Stage(b *store.Batch, buf *Buffer) (*Staged, error) {
	if buf.Empty() {
		return nil, nil
	}
	buf.mu.Lock()
	defer buf.mu.Unlock()
	return o.stage(b, buf.order, buf.sinks, nil)
}

func (o *Outbox) stage(b *store.Batch, order []string, docs map[string][]Doc, waiter chan error) (*Staged, error) {
	st := &Staged{}
	for _, name := range order {
		ds := docs[name]
		s := o.get(name)
		if s == nil {
			return st, fmt.Errorf("sink %s was removed", name)
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return st, fmt.Errorf("sink %s was removed", name)
		}
		base := s.next
		s.next += uint64(len(ds))
		s.inflight[base] = len(ds)
		if waiter != nil {
			s.waiters[base] = waiter
		}
		s.mu.Unlock()
		st.parts = append(st.parts, stagedPart{s, base, len(ds)})
		for i := range ds {
			d := ds[i] // a copy: a buffer may be staged again (a retried commit)
			d.Seq = base + uint64(i)
			if d.ID == "" {
				d.ID = defaultID(name, d.Seq)
			}
			if d.Version == 0 {
				d.Version = d.Seq
			}
			if err := s.o.ks.Set(b, docKey(tagDoc, s.rec.ID, d.Seq), encodeEntry(&d)); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// Done ends the stage: with err nil the documents are committed and their
// loops are woken; otherwise their positions become gaps. A nil Staged is
// fine.
func (st *Staged) Done(err error) {
	if st == nil {
		return
	}
	for _, p := range st.parts {
		s := p.s
		s.mu.Lock()
		delete(s.inflight, p.base)
		if err == nil {
			s.pending += int64(p.n)
			s.broadcastLocked()
		} else if ch, ok := s.waiters[p.base]; ok {
			delete(s.waiters, p.base)
			ch <- err
		}
		s.mu.Unlock()
		s.notify()
	}
}

// ErrBacklogFull is what WaitRoom's paused callback is told about.
var ErrBacklogFull = errors.New("sink backlog full")

// WaitRoom waits until every sink buf emitted to has room (a backlog below
// its MaxBacklog): a mapping's commit calls it first, so a sink that is
// down pauses the mappings that feed it instead of growing without bound.
// paused, when not nil, is called once per full sink before waiting.
// Commits in flight are not counted, so a backlog may pass its bound by
// what the lanes emitting at that moment hold.
func (o *Outbox) WaitRoom(ctx context.Context, buf *Buffer, paused func(sink string, backlog int64)) error {
	if buf.Empty() {
		return nil
	}
	buf.mu.Lock()
	names := append([]string(nil), buf.order...)
	buf.mu.Unlock()
	for _, name := range names {
		s := o.get(name)
		if s == nil {
			continue // Stage reports it
		}
		told := false
		for {
			s.mu.Lock()
			full := s.pending >= s.rec.Config.MaxBacklog && !s.stopped
			ch, n := s.changed, s.pending
			s.mu.Unlock()
			if !full {
				break
			}
			if paused != nil && !told {
				paused(name, n)
				told = true
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
