package mappings

import (
	"context"
	"errors"

	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// Source is where a mapping's records come from: the seam between a
// mapping's runner and a stream. Two implementations: eddy's own stream log
// (localSource, the default) and another endpoint's DynamoDB Streams API
// (package mappings/remote, chosen through Deps.Remote).
//
// A Source names records by streams.Seq. For eddy's log that is the
// record's own sequence number; a remote source numbers each shard's
// records itself (ordinals, counted on from the position it was opened at)
// and carries the wire sequence number in streams.Record.SeqText, which
// the checkpoints keep beside the ordinal (Position) so that a restart can
// ask the remote for the records after it.
//
// Errors: Describe returns streams.ErrStreamNotFound when the stream is
// gone; a ShardReader returns streams.ErrShardNotFound when its shard is
// gone (it counts as finished) and streams.ErrTrimmed when records were
// trimmed before they were read (the reader has moved past them; the
// mapping reports it and reads on). Any other error is retried with
// backoff. Implementations are safe for concurrent use by one runner's
// goroutines (one ShardReader per goroutine).
type Source interface {
	// Describe returns the stream and its shards, every parent before its
	// children.
	Describe(ctx context.Context) (streams.StreamInfo, []shards.Info, error)
	// Open returns a reader of sh's records after pos.
	Open(sh shards.Info, after Position) ShardReader
}

// ShardReader reads one shard in order from the position it was opened
// at. Only one goroutine uses it.
type ShardReader interface {
	// Read returns up to limit records after the reader's position and
	// moves past them. Batch.Next is the last record's Seq (or where the
	// reader stands when there are none); Batch.Ended reports that the
	// shard is closed and read to its end.
	Read(ctx context.Context, limit int) (streams.Batch, error)
	// Wait blocks until records may follow the reader's position (eddy's
	// log: until a write commits; a remote: one poll interval), or ctx
	// is done.
	Wait(ctx context.Context) error
	// Render appends rec in GetRecords' JSON shape (its last byte the
	// closing brace).
	Render(dst []byte, rec *streams.Record) []byte
}

// Position is where a lane stands on a shard: Seq (eddy's sequence number,
// or a remote shard's ordinal) and, for a remote shard, Text, the wire
// sequence number of that record ("" before the shard's first record,
// LatestText for a LATEST starting position not yet passed).
type Position struct {
	Seq  streams.Seq
	Text string
}

// LatestText is the Position.Text of a remote lane created with
// StartingPosition LATEST that has not read a record yet: its reader
// starts at the shard's end.
const LatestText = "LATEST"

// localSource reads eddy's own stream log.
type localSource struct {
	log *streams.Log
	arn string
}

func (s localSource) Describe(context.Context) (streams.StreamInfo, []shards.Info, error) {
	return s.log.Describe(s.arn)
}

func (s localSource) Open(sh shards.Info, after Position) ShardReader {
	return &localReader{log: s.log, id: sh.ID, pos: after.Seq}
}

// localReader is a position on one shard of eddy's log.
type localReader struct {
	log *streams.Log
	id  string
	pos streams.Seq
}

func (r *localReader) Read(_ context.Context, limit int) (streams.Batch, error) {
	b, err := r.log.ReadEncoded(r.id, r.pos, limit) // rendered, not read: Render, Record.Key
	if errors.Is(err, streams.ErrTrimmed) {
		r.pos = r.firstReadable(r.pos)
		return streams.Batch{Next: r.pos}, err
	}
	if err != nil {
		return streams.Batch{Next: r.pos}, err
	}
	r.pos = b.Next
	return b, nil
}

func (r *localReader) Wait(ctx context.Context) error { return r.log.Wait(ctx, r.id, r.pos) }

func (r *localReader) Render(dst []byte, rec *streams.Record) []byte {
	return r.log.AppendRecordJSON(dst, rec)
}

// firstReadable finds the lowest position at or after pos that is not
// trimmed (Read fails with ErrTrimmed exactly below the trim point).
func (r *localReader) firstReadable(pos streams.Seq) streams.Seq {
	lo, hi := pos, streams.Seq(1)<<62
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if _, err := r.log.Read(r.id, mid, 1); errors.Is(err, streams.ErrTrimmed) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
