package store

import (
	"encoding/binary"
	"fmt"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/shards"
)

// Space is the first byte of every key in the database: it names the key's
// owner, and the owner lays out the rest. Spaces are handed to
// their owners as KeySpace handles (keyspace.go); this table is the only
// place a prefix byte is chosen. Each owner has a block of 16 prefixes, so
// it can add a space next to its others.
//
//	0x01 'c' <table name>                         → table descriptor (JSON)
//	0x01 'i'                                      → last table ID (uint32be)
//	0x02 <table id:4> <hash:8> <pk> [<sk>]        → item (attr binary encoding)
//	0x03 <table id:4>                             → table stats (merge operand)
//	0x04 <table id:4> <index id:2> ...            → secondary index entries (index.go)
//	0x05 't'|'e' ...                              → transaction idempotency tokens (idempotency.go)
//	0x10 … 0x13                                   → streams (package streams, streams/log.go)
//	0x20                                          → triggers: functions, code (triggers/store.go)
//	0x21 … 0x23                                   → mappings: configurations, checkpoints, windows
//	0x30                                          → dlq: entries, outbox (dlq/store.go)
//	0x60 'h'|'b'|'m' <table id:4> ...            → PITR history, base images, meta (pitr.go)
//	0x60 'k' <backup id>                         → on-demand backup descriptors (backup.go)
//	0x81 <principal ARN> 0x00 <policy name>       → IAM policy document (iam/policies)
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
type Space byte

// The registry of spaces. Store's own (unexported) are not handed out: items,
// their statistics and index entries change only through DB.Write. The
// prefix bytes are part of the on-disk format: never renumber one.
const (
	// 0x00-0x0F: store.
	spaceCatalog Space = 0x01 // table descriptors, last table ID
	spaceItems   Space = 0x02 // items
	spaceStats   Space = 0x03 // table statistics (merge operands)
	spaceIndexes Space = 0x04 // secondary index entries
	spaceTokens  Space = 0x05 // TransactWriteItems idempotency tokens
	// SpaceCapacity is reserved for per-partition capacity accounting.
	SpaceCapacity Space = 0x06

	// 0x10-0x1F: package streams.
	SpaceStreamMeta    Space = 0x10 // sequence high-water mark, iterator key, last stream ID
	SpaceStreams       Space = 0x11 // stream descriptors
	SpaceShards        Space = 0x12 // shard descriptors
	SpaceStreamRecords Space = 0x13 // change records, one key range per shard

	// 0x20-0x2F: package triggers, package mappings.
	SpaceFunctions   Space = 0x20 // functions, versions, aliases, code (triggers)
	SpaceMappings    Space = 0x21 // event source mapping configurations (mappings)
	SpaceCheckpoints Space = 0x22 // per-shard, per-lane checkpoints (mappings)
	SpaceWindows     Space = 0x23 // tumbling window state (mappings)

	// 0x30-0x3F: package dlq.
	SpaceDLQ Space = 0x30 // dead-letter entries, their outbox, the ID high-water mark

	// Reserved for owners to come, one block of 16 each.
	SpaceOutbox  Space = 0x40 // package outbox: sinks, their documents waiting for delivery
	SpaceRelay   Space = 0x50 // package relay: relayed tables, per-shard positions, totals
	SpaceBackups Space = 0x60 // store's: on-demand backups and point-in-time recovery (pitr.go, backup.go)
	// SpaceDataport holds package dataport's export and import descriptions.
	SpaceDataport Space = 0x61
	SpaceLogs     Space = 0x70 // function logs

	// 0x80-0x8F: security. 0x80: the users store (internal/server); 0x81: package iam/policies.
	SpaceUsers    Space = 0x80 // users and their access keys (internal/server, eddy users)
	SpacePolicies Space = 0x81 // IAM policies by principal ARN and name

	// 0x90-0x9F: capacity's packages: appautoscaling, cwmetrics.
	SpaceAutoScaling Space = 0x90 // scalable targets, scaling policies, scaling activities
	SpaceMetrics     Space = 0x91 // CloudWatch data points of the retention, per minute (cwmetrics)

	// SpaceTableSettings holds package api's per-table settings that are not
	// part of a table's descriptor: Contributor Insights and resource-based
	// policies, by table ID.
	SpaceTableSettings Space = 0xB0
)

// spaces names every registered Space and its owner.
var spaces = [256]struct{ name, owner string }{
	spaceCatalog:       {"catalog", "store"},
	spaceItems:         {"items", "store"},
	spaceStats:         {"stats", "store"},
	spaceIndexes:       {"indexes", "store"},
	spaceTokens:        {"tokens", "store"},
	SpaceCapacity:      {"capacity", "reserved"},
	SpaceStreamMeta:    {"stream-meta", "streams"},
	SpaceStreams:       {"streams", "streams"},
	SpaceShards:        {"shards", "streams"},
	SpaceStreamRecords: {"stream-records", "streams"},
	SpaceFunctions:     {"functions", "triggers"},
	SpaceMappings:      {"mappings", "mappings"},
	SpaceCheckpoints:   {"checkpoints", "mappings"},
	SpaceWindows:       {"windows", "mappings"},
	SpaceDLQ:           {"dlq", "dlq"},
	SpaceOutbox:        {"outbox", "outbox"},
	SpaceRelay:         {"relay", "relay"},
	SpaceBackups:       {"backups", "store"},
	SpaceDataport:      {"dataport", "dataport"},
	SpaceLogs:          {"logs", "reserved"},
	SpaceUsers:         {"users", "internal/server"},
	SpacePolicies:      {"policies", "iam/policies"},
	SpaceAutoScaling:   {"autoscaling", "appautoscaling"},
	SpaceMetrics:       {"metrics", "cwmetrics"},
	SpaceTableSettings: {"table-settings", "api"},
}

// String returns the space's registered name, or its byte in hex.
func (s Space) String() string {
	if n := spaces[s].name; n != "" {
		return n
	}
	return fmt.Sprintf("space(%#02x)", byte(s))
}

// Prefix bytes of store's own spaces.
const (
	prefixCatalog = byte(spaceCatalog)
	prefixItem    = byte(spaceItems)
	prefixStats   = byte(spaceStats)
	prefixIndex   = byte(spaceIndexes)
	prefixToken   = byte(spaceTokens)
)

// The catalog's keys:
//
//	0x01 't' region '/' name   a table's descriptor (JSON), in its region
//	0x01 'i'                   the last table ID handed out
//	0x01 'r'                   the home region (homeRegionKey)
//	0x01 'c' name              a descriptor from before regions (read once
//	                           by Open, which moves it under 't')
//
// Neither region (a SigV4 credential scope element) nor table name can
// hold a '/'.
func catalogKey(region, name string) []byte {
	k := append([]byte{prefixCatalog, 't'}, region...)
	return append(append(k, '/'), name...)
}

// legacyCatalogKey is a descriptor's key before regions.
func legacyCatalogKey(name string) []byte {
	return append([]byte{prefixCatalog, 'c'}, name...)
}

var lastTableIDKey = []byte{prefixCatalog, 'i'}

// homeRegionKey holds the region the data directory's region-less entries
// belong to: Options.Region of the first Open that knew regions.
var homeRegionKey = []byte{prefixCatalog, 'r'}

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
