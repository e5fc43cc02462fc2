package store

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// lockTable serializes writers of the same item. Items hash onto a fixed set
// of stripes; a write locks the stripes of all the items it touches in
// ascending stripe order, so multi-item writes (transactions) cannot
// deadlock with each other. Different items usually land on different
// stripes and proceed in parallel.
//
// Point reads (GetItem, BatchGetItem, TransactGetItems) take their stripes
// shared. DB.Write holds its stripes until its WAL sync has finished, and
// Pebble makes a batch visible when it is applied, before that sync; the
// shared lock is what keeps a point read from returning a write that is not
// yet durable (one a crash could still undo, after a client saw it). The
// reader waits for at most the write's sync. Readers of one item do not
// wait for each other.
//
// Lock order (the whole store): stripes in ascending index → DB.catMu
// (read, held to the commit) → whatever a ChangeLog takes inside Prepare.
// Catalog changes take DB.catMu alone.
//
// Each stripe also counts its exclusive holders (writes): the count moves
// after the holder's commit and before it unlocks, so a reader that holds
// the stripe shared sees the count of the writes its read includes, and a
// later writer that finds the same count knows nothing written through the
// stripe since (ItemRead: a buffered item is not read twice).
type lockTable struct {
	stripes [4096]sync.RWMutex
	writes  [4096]atomic.Uint64
}

// stripesOf returns the distinct stripes of the given item keys, ascending.
func (lt *lockTable) stripesOf(keys [][]byte) []int {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		idx = append(idx, lt.stripe(k))
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

func (lt *lockTable) stripe(key []byte) int {
	return int(xxhash.Sum64(key) % uint64(len(lt.stripes)))
}

// lock locks the stripes of the given item keys and returns the unlock func.
func (lt *lockTable) lock(keys [][]byte) func() {
	idx := lt.stripesOf(keys)
	for _, i := range idx {
		lt.stripes[i].Lock()
	}
	return func() {
		for j := len(idx) - 1; j >= 0; j-- {
			lt.writes[idx[j]].Add(1)
			lt.stripes[idx[j]].Unlock()
		}
	}
}

// rlock takes the stripe of one item key shared and returns the unlock
// func.
func (lt *lockTable) rlock(key []byte) func() {
	m := &lt.stripes[lt.stripe(key)]
	m.RLock()
	return m.RUnlock
}

// rlockAll takes the stripes of the given item keys shared, in ascending
// order, and returns the unlock func.
func (lt *lockTable) rlockAll(keys [][]byte) func() {
	idx := lt.stripesOf(keys)
	for _, i := range idx {
		lt.stripes[i].RLock()
	}
	return func() {
		for j := len(idx) - 1; j >= 0; j-- {
			lt.stripes[idx[j]].RUnlock()
		}
	}
}
