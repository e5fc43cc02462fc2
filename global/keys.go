package global

import (
	"encoding/binary"
	"errors"

	"github.com/eddydb/eddy/attr"
)

// The keys of store.SpaceGlobal (relative to its prefix byte 0xA0):
//
//	'm' <table id:4> enc(pk) [enc(sk)]  → meta: the last write of an item
//	                                      ┌──────────┬───────┬─────────┬────────┬──────────────────────┐
//	                                      │ ts u64be │ flags │ len u8  │ region │ keys (tombstone only)│
//	                                      └──────────┴───────┴─────────┴────────┴──────────────────────┘
//	                                      ts: microseconds (hybrid clock), flags 1: deleted (a tombstone,
//	                                      which keeps the key attributes, attr binary, for backfills)
//	'o' <seq:8>                         → outbox: a local change waiting for its JetStream ack (change, JSON)
//	'c' <table> 0x00 <origin region>    → checkpoint: the JetStream stream sequence of the last change
//	                                      from origin applied here (u64be)
//	'g' <table>                         → the table's replica set (replicaSet, JSON)
//	'q' <table id:4> enc(pk) [enc(sk)]  → MRSC: the stream sequence of the item's last write applied here (u64be)
//	's' <table> 0x00 <origin region>    → the re-backfill being received from origin (resync.go): its snapshot's
//	                                      ID, set by its begin marker, removed at its end marker or a gap
//	'r' <table id:4> <len u8> <origin>  → an item of that snapshot was received (empty value): the end marker
//	    enc(pk) [enc(sk)]                 deletes the items last written by origin that it lacks (sweep.go)
//
// The meta key uses the table's local ID (store.Table.ID), so a table
// dropped and created again starts with no meta; enc is attr.AppendKey
// (order-preserving, self-delimiting).
const (
	pMeta       = 'm'
	pOutbox     = 'o'
	pCheckpoint = 'c'
	pConfig     = 'g'
	pItemSeq    = 'q'
	pSnapshot   = 's'
	pSeen       = 'r'
)

// metaPrefix is the prefix of a table's meta keys.
func metaPrefix(tableID uint32) []byte { return binary.BigEndian.AppendUint32([]byte{pMeta}, tableID) }

func metaKey(tableID uint32, hash, rng attr.Value) []byte {
	k := metaPrefix(tableID)
	k = attr.AppendKey(k, hash)
	if !rng.IsZero() {
		k = attr.AppendKey(k, rng)
	}
	return k
}

func outboxKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte{pOutbox}, seq) }

func checkpointKey(table, origin string) []byte {
	k := append([]byte{pCheckpoint}, table...)
	return append(append(k, 0), origin...)
}

func configKey(table string) []byte { return append([]byte{pConfig}, table...) }

func snapshotKey(table, origin string) []byte {
	k := append([]byte{pSnapshot}, table...)
	return append(append(k, 0), origin...)
}

// prefixEnd is the first key after every key that starts with p: p with
// its last byte below 0xff incremented (an item key's encoding may start
// with 0xff, a binary partition key's, so p+0xff is no bound); nil when p
// is all 0xff.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// seenPrefix is the prefix of the 'r' keys of a table's snapshot from
// origin.
func seenPrefix(tableID uint32, origin string) []byte {
	k := binary.BigEndian.AppendUint32([]byte{pSeen}, tableID)
	return append(append(k, byte(len(origin))), origin...)
}

// seenKey is the 'r' key of the item whose meta key is mk.
func seenKey(tableID uint32, origin string, mk []byte) []byte {
	return append(seenPrefix(tableID, origin), mk[len(metaPrefix(tableID)):]...)
}

// meta is the replication metadata of an item's last write: who wrote it
// and when, by the clock of the region that wrote it. Stored with every
// item of a global table (not in the item: clients never see it) and kept
// after a delete as a tombstone, so that an older write that arrives late
// cannot bring the item back.
type meta struct {
	TS      int64 // microseconds since the epoch (hybrid: never below the previous write's + 1)
	Region  string
	Deleted bool
	Keys    attr.Item // a tombstone's key attributes
}

// newer reports whether a write (ts, region) wins over m under last writer
// wins: the later timestamp, and the greater region name on a tie.
func (m meta) newer(ts int64, region string) bool {
	if ts != m.TS {
		return ts > m.TS
	}
	return region > m.Region
}

func (m meta) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 10+len(m.Region)), uint64(m.TS))
	var f byte
	if m.Deleted {
		f = 1
	}
	b = append(append(append(b, f), byte(len(m.Region))), m.Region...)
	if m.Deleted {
		b = attr.AppendBinary(b, m.Keys)
	}
	return b
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) < 10 || len(b) < 10+int(b[9]) {
		return meta{}, errors.New("global: short item meta")
	}
	n := 10 + int(b[9])
	md := meta{TS: int64(binary.BigEndian.Uint64(b)), Deleted: b[8]&1 != 0, Region: string(b[10:n])}
	if md.Deleted && len(b) > n {
		keys, err := attr.DecodeBinary(b[n:])
		if err != nil {
			return meta{}, err
		}
		md.Keys = keys
	}
	return md, nil
}
