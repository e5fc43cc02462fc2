package store

import (
	"encoding/binary"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/shards"
)

// The Pebble key space. Every key starts with one prefix byte that names its
// owner; the owner lays out the rest. New owners take a new prefix here.
//
//	0x01 'c' <table name>                         → table descriptor (JSON)
//	0x01 'i'                                      → last table ID (uint32be)
//	0x02 <table id:4> <hash:8> <pk> [<sk>]        → item (attr binary encoding)
//	0x03 <table id:4>                             → table stats (merge operand)
//	0x04 <table id:4> <index id:2> ...            → secondary index entries (index.go)
//	0x05 't'|'e' ...                              → transaction idempotency tokens (idempotency.go)
//	0x10 … 0x1F                                   → streams (package streams)
//	0x20                                          → triggers: functions, code
//	0x21 … 0x2F                                   → triggers: mappings, checkpoints
//	0x30                                          → dlq
//
// Item keys: <hash:8> is shards.Hash of the encoded partition key, so a
// table's items are spread over the hash ring as DynamoDB spreads them over
// partitions (Scan segments and per-partition accounting are hash ranges),
// while one partition's items sit together in sort-key order (Query is one
// range scan). <pk> and <sk> are attr.AppendKey encodings: order-preserving
// and self-delimiting.
//
//	┌────┬──────────┬───────────────┬──────────────┬──────────────┐
//	│0x02│ table id │ hash(pk) u64be│ enc(pk value)│ enc(sk value)│
//	└────┴──────────┴───────────────┴──────────────┴──────────────┘
const (
	prefixCatalog = 0x01
	prefixItem    = 0x02
	prefixStats   = 0x03
	prefixIndex   = 0x04

	// PrefixStreams .. are reserved for other packages sharing the DB.
	PrefixStreams  = 0x10
	PrefixTriggers = 0x20
	PrefixDLQ      = 0x30
)

func catalogKey(name string) []byte {
	return append([]byte{prefixCatalog, 'c'}, name...)
}

var lastTableIDKey = []byte{prefixCatalog, 'i'}

func tablePrefix(p byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{p}, id)
}

func statsKey(id uint32) []byte { return tablePrefix(prefixStats, id) }

// partitionPrefix returns the key prefix of all items with partition key pk.
func partitionPrefix(dst []byte, id uint32, pk attr.Value) []byte {
	dst = append(dst, prefixItem)
	dst = binary.BigEndian.AppendUint32(dst, id)
	start := len(dst)
	dst = append(dst, make([]byte, 8)...)
	dst = attr.AppendKey(dst, pk)
	binary.BigEndian.PutUint64(dst[start:], shards.Hash(dst[start+8:]))
	return dst
}

// itemKey returns the Pebble key of the item with the given key values; sk
// is the zero Value for hash-only tables.
func itemKey(dst []byte, id uint32, pk, sk attr.Value) []byte {
	dst = partitionPrefix(dst, id, pk)
	if !sk.IsZero() {
		dst = attr.AppendKey(dst, sk)
	}
	return dst
}

// PartitionHash returns the hash of a partition key value as the store and
// the stream shards see it.
func PartitionHash(pk attr.Value) uint64 {
	return shards.Hash(attr.AppendKey(nil, pk))
}
