package mappings

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Key layout. The package owns the key spaces 0x21 (store.SpaceMappings),
// 0x22 (store.SpaceCheckpoints) and 0x23 (store.SpaceWindows); the keys it
// builds leave that first byte to the handles (keySpaces). Failure entries
// (0x30) belong to package dlq, which appends them to the checkpoint's
// batch (dlq.Store.Append):
//
//	0x21 'm' <uuid:36>                                  → mapping (JSON, stored)
//	0x22 <uuid:36> <shard id> 0x00 <lane:1>             → checkpoint (u64be Seq [+ wire seq])
//	0x22 <uuid:36> <shard id> 0x00 0xFE                 → lane count (1 byte)
//	0x22 <uuid:36> <shard id> 0x00 0xFF                 → shard finished (empty)
//	0x23 <uuid:36> <shard id> 0x00 <lane:1>             → tumbling window (window.go)
//	0x30 ...                                            → dlq.Entry (see dlq.Store)
//
//	┌────┬──────────┬──────────────────┬────┬──────┐
//	│0x22│ uuid (36)│ shard id (ASCII) │0x00│ lane │ → Seq: every record of this
//	└────┴──────────┴──────────────────┴────┴──────┘   lane with Seq ≤ it is done
//
// A remote stream's checkpoint (Source, mappings/remote) is the ordinal
// followed by the wire sequence number of that record (Position.Text:
// decimal digits, "" before the first record, LatestText), which is what a
// restart asks the remote for the records after.
//
// A lane checkpoint is written in the same synced batch as whatever the
// invocation that advanced it produced (buffered table writes, failure
// records), so both survive a crash together or not at all.
const (
	laneFactor = 0xFE
	laneDone   = 0xFF
)

// keySpaces are the package's key spaces.
type keySpaces struct {
	mappings    store.KeySpace // 0x21: mappingKey
	checkpoints store.KeySpace // 0x22: ckptKey
	windows     store.KeySpace // 0x23: windowKey
}

func newKeySpaces(db *store.DB) keySpaces {
	return keySpaces{
		mappings:    db.KeySpace(store.SpaceMappings),
		checkpoints: db.KeySpace(store.SpaceCheckpoints),
		windows:     db.KeySpace(store.SpaceWindows),
	}
}

func mappingKey(uuid string) []byte { return append([]byte{'m'}, uuid...) }

func ckptPrefix(uuid, shard string) []byte {
	k := []byte(uuid)
	k = append(k, shard...)
	return append(k, 0)
}

func ckptKey(uuid, shard string, lane byte) []byte { return append(ckptPrefix(uuid, shard), lane) }

func seqBytes(s streams.Seq) []byte { return binary.BigEndian.AppendUint64(nil, uint64(s)) }

// posBytes is a checkpoint's value: seqBytes, then the wire sequence
// number of a remote shard's position.
func posBytes(p Position) []byte { return append(seqBytes(p.Seq), p.Text...) }

// shardCkpt is the persisted progress of one mapping on one shard.
type shardCkpt struct {
	lanes  map[int]streams.Seq
	texts  map[int]string // a remote shard's lanes' Position.Text
	factor int
	done   bool
}

// pos is lane i's persisted position.
func (c *shardCkpt) pos(i int) (Position, bool) {
	s, ok := c.lanes[i]
	return Position{Seq: s, Text: c.texts[i]}, ok
}

func loadMappings(db store.KeySpace) (map[string]*stored, error) {
	it, err := db.NewIter([]byte{'m'}, []byte{'m' + 1})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]*stored{}
	for it.First(); it.Valid(); it.Next() {
		var s stored
		if err := json.Unmarshal(it.Value(), &s); err != nil {
			return nil, fmt.Errorf("mappings: decode mapping %q: %w", it.Key()[1:], err)
		}
		s.FunctionName, s.Qualifier, s.Enabled = s.Function, s.Qual, s.IsEnabled
		out[s.UUID] = &s
	}
	return out, it.Error()
}

// totalsKey holds a mapping's Totals, added to in each commit (AddCounts).
func totalsKey(uuid string) []byte { return append([]byte{'n'}, uuid...) }

func saveMapping(ks keySpaces, b *store.Batch, c *Configuration, lastErr string) error {
	s := stored{Configuration: *c, Function: c.FunctionName, Qual: c.Qualifier, IsEnabled: c.Enabled, LastError: lastErr}
	v, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	return ks.mappings.Set(b, mappingKey(c.UUID), v)
}

// loadCheckpoints returns the progress of a mapping on every shard it has
// touched.
func loadCheckpoints(db store.KeySpace, uuid string) (map[string]*shardCkpt, error) {
	lo := []byte(uuid)
	hi := []byte(uuid)
	hi[len(hi)-1]++
	it, err := db.NewIter(lo, hi)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]*shardCkpt{}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(lo):]
		if len(k) < 2 || k[len(k)-2] != 0 {
			continue
		}
		shard, lane := string(k[:len(k)-2]), k[len(k)-1]
		c := out[shard]
		if c == nil {
			c = &shardCkpt{lanes: map[int]streams.Seq{}, texts: map[int]string{}}
			out[shard] = c
		}
		v := it.Value()
		switch {
		case lane == laneDone:
			c.done = true
		case lane == laneFactor && len(v) == 1:
			c.factor = int(v[0])
		case len(v) >= 8:
			c.lanes[int(lane)] = streams.Seq(binary.BigEndian.Uint64(v))
			if len(v) > 8 {
				c.texts[int(lane)] = string(v[8:])
			}
		}
	}
	return out, it.Error()
}

func deleteCheckpoints(ks keySpaces, b *store.Batch, uuid string) error {
	lo := []byte(uuid)
	hi := []byte(uuid)
	hi[len(hi)-1]++
	if err := ks.checkpoints.DeleteRange(b, lo, hi); err != nil {
		return err
	}
	wlo, whi := windowRange(uuid)
	return ks.windows.DeleteRange(b, wlo, whi)
}

// FailureRecord is one batch of discarded records, in Lambda's on-failure
// invocation record shape for DynamoDB streams (the record of a dlq.Entry).
type FailureRecord = dlq.Record

// Failures returns the failure records kept for a mapping, oldest first.
func (m *Manager) Failures(uuid string) ([]FailureRecord, error) {
	es, err := m.deps.DLQ.Entries(uuid)
	if err != nil {
		return nil, err
	}
	out := make([]FailureRecord, len(es))
	for i, e := range es {
		out[i] = e.Record
	}
	return out, nil
}
