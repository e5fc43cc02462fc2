package store

import "sync"

// writeFence lets range reads (Query, Scan) wait for the writes to a table
// that are visible but not yet durable. Pebble makes a batch visible when
// it applies it, before its WAL sync; point reads wait through the item
// stripes (locks.go), but a range read cannot lock the items it has not
// found yet. So DB.Write takes a ticket from the fence of each table it
// writes before its commit and returns it once the commit is durable, and
// DB.Read, once its iterator exists (fixing what it reads), waits until
// every ticket taken so far is returned. A write its iterator can see took
// its ticket before the iterator was made, so the read then returns no
// write that a crash could still undo. The wait is at most the writes' WAL
// sync, and only while the table has writes in flight.
type writeFence struct {
	mu     sync.Mutex
	cond   *sync.Cond
	issued uint64
	open   map[uint64]struct{} // tickets taken and not yet returned
}

func newWriteFence() *writeFence {
	f := &writeFence{open: map[uint64]struct{}{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// take returns a ticket; call it before the write can become visible.
func (f *writeFence) take() uint64 {
	f.mu.Lock()
	f.issued++
	t := f.issued
	f.open[t] = struct{}{}
	f.mu.Unlock()
	return t
}

// give returns a ticket once its write is durable (or failed).
func (f *writeFence) give(t uint64) {
	f.mu.Lock()
	delete(f.open, t)
	f.mu.Unlock()
	f.cond.Broadcast()
}

// wait returns once every ticket taken before the call has been returned.
func (f *writeFence) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	upTo := f.issued
	for f.openUpTo(upTo) {
		f.cond.Wait()
	}
}

func (f *writeFence) openUpTo(upTo uint64) bool {
	for t := range f.open {
		if t <= upTo {
			return true
		}
	}
	return false
}

// fence returns the write fence of a table (by ID, so that every
// incarnation of a Table value shares it).
func (db *DB) fence(tableID uint32) *writeFence {
	if f, ok := db.fences.Load(tableID); ok {
		return f.(*writeFence)
	}
	f, _ := db.fences.LoadOrStore(tableID, newWriteFence())
	return f.(*writeFence)
}
