package streams

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// Shard iterator types (GetShardIterator's ShardIteratorType).
const (
	TrimHorizon         = "TRIM_HORIZON"
	Latest              = "LATEST"
	AtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	AfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
)

// A shard iterator is, as DynamoDB's are, the stream ARN, "|1|", and an
// opaque, tamper-evident token: base64url of
//
//	┌──────┬───────────┬─────────┬───────────┬────────────┬─────────────────┐
//	│ 0x01 │ stream id │ ordinal │ after Seq │ issued ms  │ HMAC-SHA256[:16]│
//	│ 1 B  │ u32be     │ u32be   │ u64be     │ i64be      │ of the 25 bytes │
//	└──────┴───────────┴─────────┴───────────┴────────────┴─────────────────┘
//
// The HMAC key is random, persisted at 0x10 'k', so iterators survive a
// restart. "after" is the position: the next read returns records with
// larger Seqs. An iterator expires Options.IteratorTTL after issue. The ARN
// prefix must name the token's stream; a bare token (eddy's format before
// the prefix) is still accepted.
const (
	iterV1      = 0x01
	iterBody    = 1 + 4 + 4 + 8 + 8
	iterMACSize = 16
)

type iterPos struct {
	stream, ord uint32
	after       Seq
	issued      time.Time
}

func (l *Log) encodeIterator(arn string, p iterPos) string {
	b := make([]byte, 0, iterBody+iterMACSize)
	b = append(b, iterV1)
	b = binary.BigEndian.AppendUint32(b, p.stream)
	b = binary.BigEndian.AppendUint32(b, p.ord)
	b = binary.BigEndian.AppendUint64(b, uint64(p.after))
	b = binary.BigEndian.AppendUint64(b, uint64(p.issued.UnixMilli()))
	m := hmac.New(sha256.New, l.key)
	m.Write(b)
	b = m.Sum(b)[:iterBody+iterMACSize]
	return arn + iterSep + base64.RawURLEncoding.EncodeToString(b)
}

const iterSep = "|1|"

// decodeIterator returns the position and the ARN prefix ("" if none).
func (l *Log) decodeIterator(s string) (iterPos, string, error) {
	arn := ""
	if i := strings.LastIndex(s, iterSep); i >= 0 {
		arn, s = s[:i], s[i+len(iterSep):]
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != iterBody+iterMACSize || b[0] != iterV1 {
		return iterPos{}, "", ErrBadIterator
	}
	m := hmac.New(sha256.New, l.key)
	m.Write(b[:iterBody])
	if !hmac.Equal(m.Sum(nil)[:iterMACSize], b[iterBody:]) {
		return iterPos{}, "", ErrBadIterator
	}
	p := iterPos{
		stream: binary.BigEndian.Uint32(b[1:]),
		ord:    binary.BigEndian.Uint32(b[5:]),
		after:  Seq(binary.BigEndian.Uint64(b[9:])),
		issued: time.UnixMilli(int64(binary.BigEndian.Uint64(b[17:]))),
	}
	if l.opts.Now().Sub(p.issued) > l.opts.IteratorTTL {
		return iterPos{}, "", ErrExpiredIterator
	}
	return p, arn, nil
}

// NewIterator returns a shard iterator (GetShardIterator). seq is the wire
// sequence number for AT_ and AFTER_SEQUENCE_NUMBER, ignored otherwise.
// Errors: ErrStreamNotFound, ErrShardNotFound, ErrTrimmed, ErrBadSeq.
func (l *Log) NewIterator(streamArn, shardID, typ, seq string) (string, error) {
	l.mu.RLock()
	st := l.byArn[streamArn]
	sh := l.shardIDs[shardID]
	l.mu.RUnlock()
	if st == nil {
		return "", ErrStreamNotFound
	}
	if sh == nil || sh.st != st {
		return "", ErrShardNotFound
	}
	sh.mu.Lock()
	visible, trim, closed, end := sh.visible, sh.trim, sh.closed, sh.end
	sh.mu.Unlock()
	start := sh.desc.Start
	var after Seq
	switch typ {
	case TrimHorizon:
		after = trim - 1
	case Latest:
		after = visible
	case AtSequenceNumber, AfterSequenceNumber:
		n, err := ParseSeq(seq)
		if err != nil || n < start || (closed && n > end) {
			return "", ErrBadSeq
		}
		after = n
		if typ == AtSequenceNumber {
			after = n - 1
		}
		if after+1 < trim && trim > start+1 {
			return "", ErrTrimmed
		}
	default:
		return "", ErrBadIterator
	}
	return l.encodeIterator(st.arn, iterPos{stream: st.desc.ID, ord: sh.desc.Ordinal, after: after, issued: l.opts.Now()}), nil
}

// ReadIterator reads up to limit records at an iterator (GetRecords) and
// returns them with the next iterator, "" when the shard is closed and
// fully read. Errors: ErrBadIterator, ErrExpiredIterator, ErrTrimmed,
// ErrShardNotFound.
func (l *Log) ReadIterator(iter string, limit int) ([]Record, string, error) {
	p, arn, err := l.decodeIterator(iter)
	if err != nil {
		return nil, "", err
	}
	l.mu.RLock()
	var sh *shard
	st := l.streams[p.stream]
	if st != nil && arn != "" && arn != st.arn {
		l.mu.RUnlock()
		return nil, "", ErrBadIterator
	}
	if st != nil {
		for _, s := range st.shards {
			if s.desc.Ordinal == p.ord {
				sh = s
				break
			}
		}
	}
	l.mu.RUnlock()
	if sh == nil {
		return nil, "", ErrShardNotFound
	}
	b, err := l.read(sh, p.after, limit, false)
	if err != nil {
		return nil, "", err
	}
	if b.Ended {
		return b.Records, "", nil
	}
	p.after, p.issued = b.Next, l.opts.Now()
	return b.Records, l.encodeIterator(st.arn, p), nil
}
