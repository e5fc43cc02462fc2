package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// prefixToken keys the idempotency records of TransactWriteItems:
//
//	0x05 <ClientRequestToken> → <created unix nanos:8> <sha256 of request:32> <response>
//
// A record is written in the same batch as the transaction it belongs to
// (WriteOptions.Extra), so a transaction and its record commit together:
// after a crash, either both are there or neither is. Records live for
// TokenTTL; expired ones are ignored on read and removed by PurgeTokens.
const prefixToken = 0x05

// TokenTTL is how long DynamoDB honours a ClientRequestToken: 10 minutes.
const TokenTTL = 10 * time.Minute

// TokenRecord is what a committed transaction left under its token.
type TokenRecord struct {
	Created  time.Time
	Digest   [32]byte // of the request, to detect a different request under the same token
	Response []byte   // the response body that was sent
}

func tokenKey(token string) []byte { return append([]byte{prefixToken}, token...) }

// PutToken adds the record of token to b (use inside WriteOptions.Extra).
func PutToken(b *pebble.Batch, token string, rec TokenRecord) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 40+len(rec.Response)), uint64(rec.Created.UnixNano()))
	v = append(v, rec.Digest[:]...)
	v = append(v, rec.Response...)
	return b.Set(tokenKey(token), v, nil)
}

// TokenWriter returns a WriteOptions.Extra that records token with the
// record rec builds (called once, with the items locked, before the commit).
func TokenWriter(token string, rec func() TokenRecord) func(b *pebble.Batch) error {
	return func(b *pebble.Batch) error { return PutToken(b, token, rec()) }
}

// Token returns the live record of token, if any (records older than
// TokenTTL at now count as absent).
func (db *DB) Token(token string, now time.Time) (TokenRecord, bool, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return TokenRecord{}, false, errors.New("store: closed")
	}
	v, closer, err := db.pdb.Get(tokenKey(token))
	if errors.Is(err, pebble.ErrNotFound) {
		return TokenRecord{}, false, nil
	}
	if err != nil {
		return TokenRecord{}, false, err
	}
	defer closer.Close()
	if len(v) < 40 {
		return TokenRecord{}, false, nil
	}
	rec := TokenRecord{Created: time.Unix(0, int64(binary.BigEndian.Uint64(v)))}
	copy(rec.Digest[:], v[8:40])
	rec.Response = append([]byte(nil), v[40:]...)
	if now.Sub(rec.Created) >= TokenTTL {
		return TokenRecord{}, false, nil
	}
	return rec, true, nil
}

// PurgeTokens deletes up to limit expired token records and reports how
// many it deleted. The TTL sweeper calls it on every pass.
func (db *DB) PurgeTokens(now time.Time, limit int) (int, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return 0, nil
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixToken}, UpperBound: []byte{prefixToken + 1}})
	if err != nil {
		return 0, err
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	n := 0
	for ok := it.First(); ok && n < limit; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil || len(v) < 8 {
			continue
		}
		if now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(v)))) >= TokenTTL {
			if err := b.Delete(append([]byte(nil), it.Key()...), nil); err != nil {
				it.Close()
				return 0, err
			}
			n++
		}
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	return n, b.Commit(db.writeOpts)
}
