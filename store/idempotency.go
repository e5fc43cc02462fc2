package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The token space (prefixToken) keeps the idempotency records of TransactWriteItems:
//
//	0x05 't' <ClientRequestToken>                  → <created unix nanos:8> <sha256 of request:32> {}
//	0x05 'e' <created unix nanos:8> <token>         → (empty) expiry order, for PurgeTokens
//
// A record is written in the same batch as the transaction it belongs to
// (WriteOptions.Extra), so a transaction and its record commit together:
// after a crash, either both are there or neither is. Records live for
// TokenTTL; expired ones are ignored on read and removed by PurgeTokens.

// TokenTTL is how long DynamoDB honours a ClientRequestToken: 10 minutes.
const TokenTTL = 10 * time.Minute

// TokenRecord is what a committed transaction left under its token.
type TokenRecord struct {
	Created time.Time
	Digest  [32]byte // of the request, to detect a different request under the same token
}

func tokenKey(token string) []byte { return append([]byte{prefixToken, 't'}, token...) }

func tokenExpiryKey(created time.Time, token string) []byte {
	k := binary.BigEndian.AppendUint64([]byte{prefixToken, 'e'}, uint64(created.UnixNano()))
	return append(k, token...)
}

// PutToken adds the record of token to b (use inside WriteOptions.Extra).
func PutToken(b *Batch, token string, rec TokenRecord) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 42), uint64(rec.Created.UnixNano()))
	v = append(v, rec.Digest[:]...)
	// Earlier eddy versions stored the response here and replay only a
	// record that has one: "{}" keeps an eddy rolled back within the token's
	// ten minutes from applying the transaction again (it answers {}).
	v = append(v, "{}"...)
	if err := b.pb.Set(tokenKey(token), v, nil); err != nil {
		return err
	}
	return b.pb.Set(tokenExpiryKey(rec.Created, token), nil, nil)
}

// TokenWriter returns a WriteOptions.Extra that records token with the
// record rec builds (called once, with the items locked, before the commit).
func TokenWriter(token string, rec func() TokenRecord) func(b *Batch) error {
	return func(b *Batch) error { return PutToken(b, token, rec()) }
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
	copy(rec.Digest[:], v[8:40]) // earlier eddy versions wrote the response after it: ignored
	if now.Sub(rec.Created) >= TokenTTL {
		return TokenRecord{}, false, nil
	}
	return rec, true, nil
}

// PurgeTokens deletes up to limit expired token records, oldest first, and
// reports how many it deleted; it reads only expired entries (the expiry
// order index), so its cost does not grow with the number of live tokens.
// The TTL sweeper calls it on every pass.
func (db *DB) PurgeTokens(now time.Time, limit int) (int, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return 0, nil
	}
	cutoff := now.Add(-TokenTTL)
	it, err := db.pdb.NewIter(&pebble.IterOptions{
		LowerBound: []byte{prefixToken, 'e'},
		UpperBound: tokenExpiryKey(cutoff, ""),
	})
	if err != nil {
		return 0, err
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	n := 0
	for ok := it.First(); ok && n < limit; ok = it.Next() {
		k := append([]byte(nil), it.Key()...)
		if err := b.Delete(k, nil); err != nil {
			it.Close()
			return 0, err
		}
		n++
		// The record goes too unless the token was used again since (a
		// newer record, with its own expiry entry).
		token := string(k[10:])
		v, closer, err := db.pdb.Get(tokenKey(token))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			it.Close()
			return 0, err
		}
		stale := len(v) < 8 || !time.Unix(0, int64(binary.BigEndian.Uint64(v))).After(cutoff)
		closer.Close()
		if stale {
			if err := b.Delete(tokenKey(token), nil); err != nil {
				it.Close()
				return 0, err
			}
		}
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	return n, db.commit(b, db.writeOpts)
}
