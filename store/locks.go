package store

import (
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// lockTable serializes writers of the same item. Items hash onto a fixed set
// of stripes; a write locks the stripes of all the items it touches in
// ascending stripe order, so multi-item writes (transactions) cannot
// deadlock with each other. Different items usually land on different
// stripes and proceed in parallel.
//
// Lock order (the whole store): stripes in ascending index → DB.catMu
// (read, held to the commit) → whatever a ChangeLog takes inside Prepare.
// Catalog changes take DB.catMu alone.
type lockTable struct {
	stripes [4096]sync.Mutex
}

// lock locks the stripes of the given item keys and returns the unlock func.
func (lt *lockTable) lock(keys [][]byte) func() {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		idx = append(idx, int(xxhash.Sum64(k)%uint64(len(lt.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		lt.stripes[i].Lock()
	}
	return func() {
		for j := len(idx) - 1; j >= 0; j-- {
			lt.stripes[idx[j]].Unlock()
		}
	}
}
