package mappings

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Key layout. The package owns keys beginning with 0x21, 0x22 and 0x23;
// failure entries (0x30) belong to package dlq, which appends them to the
// checkpoint's batch (dlq.Store.Append):
//
//	0x21 'm' <uuid:36>                                  → mapping (JSON, stored)
//	0x22 <uuid:36> <shard id> 0x00 <lane:1>             → checkpoint (u64be Seq)
//	0x22 <uuid:36> <shard id> 0x00 0xFE                 → lane count (1 byte)
//	0x22 <uuid:36> <shard id> 0x00 0xFF                 → shard finished (empty)
//	0x23 <uuid:36> <shard id> 0x00 <lane:1>             → tumbling window (window.go)
//	0x30 ...                                            → dlq.Entry (see dlq.Store)
//
//	┌────┬──────────┬──────────────────┬────┬──────┐
//	│0x22│ uuid (36)│ shard id (ASCII) │0x00│ lane │ → Seq: every record of this
//	└────┴──────────┴──────────────────┴────┴──────┘   lane with Seq ≤ it is done
//
// A lane checkpoint is written in the same synced batch as whatever the
// invocation that advanced it produced (buffered table writes, failure
// records), so both survive a crash together or not at all.
const (
	prefixMapping    = store.PrefixTriggers + 1 // 0x21
	prefixCheckpoint = store.PrefixTriggers + 2 // 0x22
	laneFactor       = 0xFE
	laneDone         = 0xFF
)

func mappingKey(uuid string) []byte { return append([]byte{prefixMapping, 'm'}, uuid...) }

func ckptPrefix(uuid, shard string) []byte {
	k := append([]byte{prefixCheckpoint}, uuid...)
	k = append(k, shard...)
	return append(k, 0)
}

func ckptKey(uuid, shard string, lane byte) []byte { return append(ckptPrefix(uuid, shard), lane) }

func seqBytes(s streams.Seq) []byte { return binary.BigEndian.AppendUint64(nil, uint64(s)) }

// shardCkpt is the persisted progress of one mapping on one shard.
type shardCkpt struct {
	lanes  map[int]streams.Seq
	factor int
	done   bool
}

func loadMappings(db *pebble.DB) (map[string]*stored, error) {
	it, err := db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{prefixMapping, 'm'}, UpperBound: []byte{prefixMapping, 'm' + 1},
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]*stored{}
	for it.First(); it.Valid(); it.Next() {
		var s stored
		if err := json.Unmarshal(it.Value(), &s); err != nil {
			return nil, fmt.Errorf("mappings: decode mapping %q: %w", it.Key()[2:], err)
		}
		s.FunctionName, s.Qualifier, s.Enabled = s.Function, s.Qual, s.IsEnabled
		out[s.UUID] = &s
	}
	return out, it.Error()
}

func saveMapping(b *pebble.Batch, c *Configuration) error {
	s := stored{Configuration: *c, Function: c.FunctionName, Qual: c.Qualifier, IsEnabled: c.Enabled}
	v, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	return b.Set(mappingKey(c.UUID), v, nil)
}

// loadCheckpoints returns the progress of a mapping on every shard it has
// touched.
func loadCheckpoints(db *pebble.DB, uuid string) (map[string]*shardCkpt, error) {
	lo := append([]byte{prefixCheckpoint}, uuid...)
	hi := append([]byte{prefixCheckpoint}, uuid...)
	hi[len(hi)-1]++
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
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
			c = &shardCkpt{lanes: map[int]streams.Seq{}}
			out[shard] = c
		}
		v := it.Value()
		switch {
		case lane == laneDone:
			c.done = true
		case lane == laneFactor && len(v) == 1:
			c.factor = int(v[0])
		case len(v) == 8:
			c.lanes[int(lane)] = streams.Seq(binary.BigEndian.Uint64(v))
		}
	}
	return out, it.Error()
}

func deleteCheckpoints(b *pebble.Batch, uuid string) error {
	lo := append([]byte{prefixCheckpoint}, uuid...)
	hi := append([]byte{prefixCheckpoint}, uuid...)
	hi[len(hi)-1]++
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	wlo, whi := windowRange(uuid)
	return b.DeleteRange(wlo, whi, nil)
}

// FailureRecord is one batch of discarded records, in Lambda's on-failure
// invocation record shape for DynamoDB streams (the record of a dlq.Entry).
type FailureRecord = dlq.Record

// Failures returns the failure records kept for a mapping, oldest first.
func (m *Manager) Failures(uuid string) ([]FailureRecord, error) {
	es, err := m.opts.DLQ.Entries(uuid)
	if err != nil {
		return nil, err
	}
	out := make([]FailureRecord, len(es))
	for i, e := range es {
		out[i] = e.Record
	}
	return out, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
