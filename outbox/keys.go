package outbox

import "encoding/binary"

// Layout of store.SpaceOutbox (0x40), keys relative to the space:
//
//	'c' name                 a sink: its record (ID, Config, Created), JSON
//	'n'                      the last sink ID given out
//	'd' id(8) seq(8)         a document waiting for delivery (entry JSON)
//	'r' id(8) seq(8)         a document the target rejected for good, with why
//	's' id(8)                the sink's delivery state (totals, position)
//
// A sink's documents are keyed by its ID, not its name: a sink removed and
// added again under the same name starts empty, and documents a removed
// sink left behind (a commit racing the removal) are found and dropped at
// Open.
const (
	tagConfig   = 'c'
	tagLastID   = 'n'
	tagDoc      = 'd'
	tagRejected = 'r'
	tagState    = 's'
)

func configKey(name string) []byte { return append([]byte{tagConfig}, name...) }

func docKey(tag byte, id, seq uint64) []byte {
	k := make([]byte, 17)
	k[0] = tag
	binary.BigEndian.PutUint64(k[1:], id)
	binary.BigEndian.PutUint64(k[9:], seq)
	return k
}

// docSpan is the key range of sink id's documents (tag 'd' or 'r').
func docSpan(tag byte, id uint64) (lo, hi []byte) {
	return docKey(tag, id, 0), docKey(tag, id+1, 0)
}

func stateKey(id uint64) []byte {
	k := make([]byte, 9)
	k[0] = tagState
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

func seqOf(key []byte) uint64 { return binary.BigEndian.Uint64(key[9:17]) }

func idOf(key []byte) uint64 { return binary.BigEndian.Uint64(key[1:9]) }
