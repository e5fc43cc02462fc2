package main

import (
	"os"
	"sync"
)

// durableLog is the null endpoint's write-ahead log in -durable mode: the
// least a durable server must do per write. Each write appends its request
// body to one file and waits for an fdatasync that covers it; concurrent
// writers share syncs (leader/follower group commit: whoever finds no sync
// in progress syncs everything written so far, the rest wait for it). No
// timers, no batching delay. The file is preallocated and reused from the
// start when full, as Pebble recycles WAL files, so a sync never has to
// persist a size change.
type durableLog struct {
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	off     int64
	written uint64 // appends so far
	synced  uint64 // appends covered by a finished sync
	syncing bool
	err     error
}

const durableLogSize = 64 << 20

func openDurableLog(path string) (*durableLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	zero := make([]byte, 1<<20)
	for off := int64(0); off < durableLogSize; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero, off); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	l := &durableLog{f: f}
	l.cond = sync.NewCond(&l.mu)
	return l, nil
}

// append writes p and returns once an fdatasync covering it has finished.
func (l *durableLog) append(p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off+int64(len(p)) > durableLogSize {
		l.off = 0
	}
	if _, err := l.f.WriteAt(p, l.off); err != nil {
		return err
	}
	l.off += int64(len(p))
	l.written++
	mine := l.written
	for l.synced < mine {
		if l.syncing {
			l.cond.Wait()
			continue
		}
		l.syncing = true
		upTo := l.written
		l.mu.Unlock()
		err := fdatasync(l.f)
		l.mu.Lock()
		l.syncing = false
		if err != nil {
			l.err = err
		}
		l.synced = upTo
		l.cond.Broadcast()
	}
	return l.err
}

func (l *durableLog) close() error { return l.f.Close() }
