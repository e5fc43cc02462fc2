package streams

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"
	"time"

	"github.com/eddydb/eddy/shards"
)

// Reader is the in-process read side of the change log, the seam between
// the log and its consumers (the trigger host; a future JetStream relay
// implements the same interface on the far side). A consumer lists a
// stream's shards parents first, reads each shard from a position (the Seq
// it last processed; 0 or a shard's Start-1 for its beginning) and, when
// caught up, Waits: it is woken as soon as a write to that shard commits,
// with no polling interval.
//
// Every record a Reader returns belongs to an acknowledged, durable write;
// each shard's records come in Seq order, and a shard's records never
// appear after records with higher Seqs were returned (no late gap fill).
type Reader interface {
	// Shards lists a stream's shards, every parent before its children.
	Shards(streamArn string) ([]shards.Info, error)
	// Read returns up to limit records of the shard with Seq > after.
	Read(shardID string, after Seq, limit int) (Batch, error)
	// Wait blocks until the shard has records with Seq > after, or is
	// closed and fully read, or dropped, or ctx is done (ctx.Err()).
	Wait(ctx context.Context, shardID string, after Seq) error
}

// Batch is one Read's result.
type Batch struct {
	Records []Record
	// Next is the position to read from next: the last record's Seq, or,
	// when the read reached the visible end, the shard's watermark (so
	// gaps left by failed writes are passed once).
	Next Seq
	// Ended reports that the shard is closed and Next is at its end: the
	// consumer moves on to the shard's children.
	Ended bool
}

// Errors of the read side. Package api maps them to DynamoDB errors.
var (
	ErrStreamNotFound  = errors.New("streams: stream not found")
	ErrShardNotFound   = errors.New("streams: shard not found")
	ErrTrimmed         = errors.New("streams: data trimmed")
	ErrExpiredIterator = errors.New("streams: iterator expired")
	ErrBadIterator     = errors.New("streams: invalid iterator")
	ErrBadSeq          = errBadSeq
)

var _ Reader = (*Log)(nil)

// maxReadBytes bounds one Read like GetRecords' 1 MB.
const maxReadBytes = 1 << 20

// StreamInfo describes one stream.
type StreamInfo struct {
	Arn       string
	Region    string // the table's region
	TableName string
	Label     string
	ViewType  string
	Enabled   bool // false once disabled or its table deleted
	Created   time.Time
	KeySchema []KeyElement
}

func (st *stream) info() StreamInfo {
	return StreamInfo{Arn: st.arn, Region: st.desc.Region, TableName: st.desc.TableName, Label: st.desc.Label,
		ViewType: st.desc.ViewType, Enabled: !st.desc.Disabled, Created: st.desc.Created,
		KeySchema: append([]KeyElement(nil), st.desc.KeySchema...)}
}

// Streams lists the streams of every region (of table, or of all tables
// when empty), by table name, then label.
func (l *Log) Streams(table string) []StreamInfo { return l.StreamsIn("", table) }

// StreamsIn lists region's streams (every region's when empty) of table,
// or of all its tables when table is empty, by table name, then label.
func (l *Log) StreamsIn(region, table string) []StreamInfo {
	l.mu.RLock()
	var out []StreamInfo
	for _, st := range l.streams {
		if (region == "" || st.desc.Region == region) && (table == "" || st.desc.TableName == table) {
			out = append(out, st.info())
		}
	}
	l.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].TableName != out[j].TableName {
			return out[i].TableName < out[j].TableName
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// Describe returns a stream and its shards, parents first. A stream the
// log does not know yet (its table was just created or updated) is looked
// up in the catalog (Sync) before the answer is no.
func (l *Log) Describe(streamArn string) (StreamInfo, []shards.Info, error) {
	l.mu.RLock()
	st := l.byArn[streamArn]
	l.mu.RUnlock()
	if st == nil {
		if err := l.Sync(); err != nil {
			return StreamInfo{}, nil, err
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	st = l.byArn[streamArn]
	if st == nil {
		return StreamInfo{}, nil, ErrStreamNotFound
	}
	out := make([]shards.Info, 0, len(st.shards))
	for _, sh := range st.shards {
		out = append(out, sh.info())
	}
	return st.info(), shards.ParentsFirst(out), nil
}

func (sh *shard) info() shards.Info {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return shards.Info{ID: sh.id, ParentID: sh.parentID, Ordinal: sh.desc.Ordinal, Range: sh.desc.Range,
		Start: uint64(sh.desc.Start), End: uint64(sh.end), Closed: sh.closed, Created: sh.desc.Created}
}

// Shards implements Reader.
func (l *Log) Shards(streamArn string) ([]shards.Info, error) {
	_, out, err := l.Describe(streamArn)
	return out, err
}

func (l *Log) shard(id string) *shard {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.shardIDs[id]
}

// Read implements Reader.
func (l *Log) Read(shardID string, after Seq, limit int) (Batch, error) {
	sh := l.shard(shardID)
	if sh == nil {
		return Batch{}, ErrShardNotFound
	}
	return l.read(sh, after, limit, false)
}

// Count counts the records after after, up to limit, without decoding
// them, and returns the first one's time (zero when there are none): how
// far a reader is behind (a mapping's Status), at the cost of a key scan.
func (l *Log) Count(shardID string, after Seq, limit int) (n int, first time.Time, err error) {
	sh := l.shard(shardID)
	if sh == nil {
		return 0, time.Time{}, ErrShardNotFound
	}
	sh.mu.Lock()
	visible, gone := sh.visible, sh.gone
	d := sh.desc
	sh.mu.Unlock()
	if gone {
		return 0, time.Time{}, ErrShardNotFound
	}
	if after >= visible {
		return 0, time.Time{}, nil
	}
	it, err := l.ks.records.NewIter(recordKey(nil, d.Stream, d.Ordinal, after+1), recordKey(nil, d.Stream, d.Ordinal, visible+1))
	if err != nil {
		return 0, time.Time{}, err
	}
	for it.First(); it.Valid() && n < limit; it.Next() {
		if n == 0 {
			if first, err = recordTime(it.Value()); err != nil {
				it.Close()
				return 0, time.Time{}, err
			}
		}
		n++
	}
	return n, first, it.Close()
}

// ReadEncoded is Read for a consumer that renders records rather than
// reading their items (an event source mapping): each record's Keys, New
// and Old stay in the stored encoding, left nil, which AppendRecordJSON
// renders straight to JSON (no map and no string per attribute), Key
// reads one key attribute of, and Decode turns into the maps. The records
// of one batch share one copy of the stored bytes.
func (l *Log) ReadEncoded(shardID string, after Seq, limit int) (Batch, error) {
	sh := l.shard(shardID)
	if sh == nil {
		return Batch{}, ErrShardNotFound
	}
	return l.read(sh, after, limit, true)
}

func (l *Log) read(sh *shard, after Seq, limit int, encoded bool) (Batch, error) {
	sh.mu.Lock()
	visible, trim, closed, end, gone := sh.visible, sh.trim, sh.closed, sh.end, sh.gone
	d := sh.desc // under the lock: closing a shard rewrites its Closed, End and ClosedAt
	sh.mu.Unlock()
	if gone {
		return Batch{}, ErrShardNotFound
	}
	if after+1 < trim && trim > d.Start+1 { // something was trimmed past after
		return Batch{}, ErrTrimmed
	}
	out := Batch{Next: max(after, visible)}
	if after < visible {
		it, err := l.ks.records.NewIter(
			recordKey(nil, d.Stream, d.Ordinal, after+1),
			recordKey(nil, d.Stream, d.Ordinal, visible+1),
		)
		if err != nil {
			return Batch{}, err
		}
		bytes := 0
		var arena []byte // encoded: the batch's copy of the stored values
		// Sized once: growing by append copied the batch's records about
		// twice over (a fifth of a mapping drain's allocation; issue 18).
		out.Records = make([]Record, 0, min(uint64(limit), uint64(visible-after), 10000))
		for it.First(); it.Valid(); it.Next() {
			if len(out.Records) >= limit || (bytes+len(it.Value()) > maxReadBytes && len(out.Records) > 0) {
				out.Next = out.Records[len(out.Records)-1].Seq
				break
			}
			k := it.Key()
			seq := Seq(binary.BigEndian.Uint64(k[len(k)-8:]))
			var r Record
			var err error
			if encoded {
				v := it.Value()
				if cap(arena)-len(arena) < len(v) {
					arena = make([]byte, 0, max(64<<10, len(v)))
				}
				start := len(arena)
				arena = append(arena, v...)
				r, err = decodeRecordEncoded(seq, arena[start:len(arena):len(arena)])
			} else {
				r, err = decodeRecord(seq, it.Value())
			}
			if err != nil {
				it.Close()
				return Batch{}, err
			}
			r.EventID = eventID(d.Stream, d.Ordinal, seq)
			r.Region = sh.st.region // st.desc is Log.mu's (a disable rewrites it)
			bytes += len(it.Value())
			out.Records = append(out.Records, r)
		}
		if err := it.Close(); err != nil {
			return Batch{}, err
		}
	}
	out.Ended = closed && out.Next >= end
	return out, nil
}

const hexDigits = "0123456789abcdef"

// eventID renders a record's eventID: 32 hex digits of (stream, ordinal,
// seq), unique per record like DynamoDB's.
func eventID(stream, ord uint32, seq Seq) string {
	var raw [16]byte
	binary.BigEndian.PutUint32(raw[0:], stream)
	binary.BigEndian.PutUint32(raw[4:], ord)
	binary.BigEndian.PutUint64(raw[8:], uint64(seq))
	var out [32]byte
	for i, c := range raw {
		out[2*i], out[2*i+1] = hexDigits[c>>4], hexDigits[c&15]
	}
	return string(out[:])
}

// Wait implements Reader.
func (l *Log) Wait(ctx context.Context, shardID string, after Seq) error {
	sh := l.shard(shardID)
	if sh == nil {
		return ErrShardNotFound
	}
	for {
		sh.mu.Lock()
		ready := sh.gone || sh.visible > after || (sh.closed && sh.visible >= sh.end)
		ch := sh.notify
		sh.mu.Unlock()
		if ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// HighWater returns the highest sequence number given out so far, across
// every stream: every record reserved from now on has a greater one.
func (l *Log) HighWater() Seq { return Seq(l.seq.Load()) }

// Settled waits until no write that reserved a sequence number up to seq
// is still in flight (each has committed, or failed and left a gap), or
// ctx ends. A reader that starts after Settled(HighWater()) sees every
// write whose record has a sequence number up to that mark.
func (l *Log) Settled(ctx context.Context, seq Seq) error {
	for {
		busy := false
		l.mu.RLock()
		for _, sh := range l.shardIDs {
			sh.mu.Lock()
			if len(sh.inflight) > 0 && sh.inflight[0] <= seq {
				busy = true
			}
			sh.mu.Unlock()
			if busy {
				break
			}
		}
		l.mu.RUnlock()
		if !busy {
			return nil
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
