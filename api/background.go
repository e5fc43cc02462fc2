package api

import (
	"context"
	"sync"
)

// background runs the server's own long-lived work (index backfills today)
// under one context that Shutdown cancels, and lets Shutdown wait for it
// before the store closes.
type background struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (b *background) init() {
	b.once.Do(func() { b.ctx, b.cancel = context.WithCancel(context.Background()) })
}

// run starts f in a goroutine with the background context.
func (b *background) run(f func(ctx context.Context)) {
	b.init()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(b.ctx)
	}()
}

// stop cancels the context and waits for every goroutine started by run.
func (b *background) stop() {
	b.init()
	b.cancel()
	b.wg.Wait()
}

// resumeBackfills restarts the backfill of every index a restart
// interrupted (still CREATING). Backfill is idempotent: it skips entries
// that writes or an earlier pass already made.
func (s *Server) resumeBackfills() {
	for _, name := range s.db.TableNames() {
		t := s.db.Table(name)
		if t == nil {
			continue
		}
		var ids []uint16
		for _, ix := range t.Indexes {
			if ix.Status == "CREATING" {
				ids = append(ids, ix.ID)
			}
		}
		if len(ids) > 0 {
			s.startBackfills(name, ids)
		}
	}
}
