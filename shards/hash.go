// Package shards owns partition-key hashing and, with the streams issue,
// shard lifecycle and lineage. The hash is shared by the store (where an item
// lives, Scan segments, per-partition accounting) and the stream (which shard
// records an item's changes), so both agree on what a partition is.
package shards

import "github.com/cespare/xxhash/v2"

// Hash returns the 64-bit hash of an encoded partition key (attr.AppendKey).
// It is part of the on-disk format: changing it reorders every table.
func Hash(encodedPK []byte) uint64 { return xxhash.Sum64(encodedPK) }
