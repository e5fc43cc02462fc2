package relay

import (
	"strings"
	"time"
)

// Keys of store.SpaceRelay (see the package doc).
const (
	tagConfig   = 'c'
	tagPosition = 'p'
	tagTotals   = 't'
)

func configKey(table string) []byte { return append([]byte{tagConfig}, table...) }

func totalsKey(table string) []byte { return append([]byte{tagTotals}, table...) }

func positionKey(table, shard string) []byte {
	k := make([]byte, 0, 2+len(table)+len(shard))
	k = append(append(append(k, tagPosition), table...), 0)
	return append(k, shard...)
}

// positionSpan is the key range of table's positions.
func positionSpan(table string) (lo, hi []byte) {
	lo = append(append([]byte{tagPosition}, table...), 0)
	hi = append(append([]byte{tagPosition}, table...), 1)
	return lo, hi
}

// position is one shard's committed progress ('p' keys).
type position struct {
	Stream    string `json:"Stream"`
	Pos       uint64 `json:"Pos"`  // every record up to Pos is acknowledged by JetStream
	Done      bool   `json:"Done"` // the shard is finished: closed and published to its end
	Published uint64 `json:"Published"`
	// Last is the sequence number of the last record published and
	// acknowledged (≤ Pos; 0 before the first): the
	// Eddy-Previous-Sequence-Number of the next record, so that a record
	// republished after a restart names the same predecessor.
	Last uint64 `json:"Last,omitempty"`
}

// totals is a relay's persisted totals ('t' key).
type totals struct {
	// Retired counts records published from shards whose positions were
	// dropped (the shards left the stream's retention).
	Retired uint64    `json:"Retired"`
	Trimmed []Trimmed `json:"Trimmed,omitempty"`
}

// Trimmed is a span of a shard that was trimmed (past the stream's
// retention) before the relay published it.
type Trimmed struct {
	ShardID string    `json:"ShardId"`
	After   string    `json:"After"`     // the relay's position then
	Resumed string    `json:"ResumedAt"` // the first position still readable
	At      time.Time `json:"At"`
}

// maxTrims bounds the trimmed spans a relay keeps.
const maxTrims = 20

// Token renders s as one subject token: '.' becomes "%2E" (DynamoDB table
// names hold no '%', so the mapping is reversible), and whitespace, '*'
// and '>' (never in table names or regions) are escaped the same way.
func Token(s string) string {
	if !strings.ContainsAny(s, ".*> \t\r\n") {
		return s
	}
	var b strings.Builder
	for _, c := range []byte(s) {
		switch c {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
