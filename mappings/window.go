package mappings

import (
	"bytes"
	"encoding/binary"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/store"
)

// Tumbling windows (TumblingWindowInSeconds > 0) follow Lambda's semantics
// for DynamoDB streams; the rules and the event's members are on
// delivery.Window, and the engine applies them. Here: the state's keys.
//
// State is kept per lane (per shard when ParallelizationFactor is 1) and
// persisted under 0x23 in the same batch as the lane checkpoint that covers
// the records folded into it (lane.Commit), so after a crash the state and
// the checkpoint agree: redelivered records are folded in again from the
// state before them. The final invocation's table writes commit with the
// state's deletion.
//
//	0x23 <uuid:36> <shard id> 0x00 <lane:1> → <start:8 (u64be unix s)> <state JSON>
//
// (0x23 is the space, store.SpaceWindows; windowKey leaves it to the handle.)

func windowKey(uuid, shard string, lane byte) []byte {
	k := []byte(uuid)
	k = append(k, shard...)
	return append(k, 0, lane)
}

func windowRange(uuid string) (lo, hi []byte) {
	lo = []byte(uuid)
	hi = []byte(uuid)
	hi[len(hi)-1]++
	return lo, hi
}

func encodeWindow(w *delivery.Window) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(w.Start)), w.State...)
}

// loadWindows returns the open windows of a mapping's lanes on a shard.
func loadWindows(db store.KeySpace, uuid, shard string) (map[int]*delivery.Window, error) {
	lo := windowKey(uuid, shard, 0)
	hi := windowKey(uuid, shard, 0xFF)
	it, err := db.NewIter(lo[:len(lo)-1], hi)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[int]*delivery.Window{}
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < 8 {
			continue
		}
		lane := it.Key()[len(it.Key())-1]
		out[int(lane)] = &delivery.Window{Start: int64(binary.BigEndian.Uint64(v)), State: bytes.Clone(v[8:])}
	}
	return out, it.Error()
}
