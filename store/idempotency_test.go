package store

import (
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
)

func TestTokenRecordsCommitWithTheWriteAndExpire(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "tok")
	t0 := time.Now()
	write := func(token string, created time.Time, digest byte) {
		t.Helper()
		wo := WriteOptions{Extra: TokenWriter(token, func() TokenRecord {
			return TokenRecord{Created: created, Digest: [32]byte{digest}}
		})}
		if _, err := db.Write(ctx, wo, put(tbl, attr.Item{"pk": attr.S(token)})); err != nil {
			t.Fatal(err)
		}
	}
	write("a", t0, 1)
	write("b", t0.Add(time.Minute), 2)
	rec, ok, err := db.Token("a", t0)
	if err != nil || !ok || rec.Digest != [32]byte{1} || !rec.Created.Equal(t0) {
		t.Fatalf("token a: %+v %v %v", rec, ok, err)
	}
	// Ten minutes on, a has expired (absent to readers); b has not.
	later := t0.Add(TokenTTL + time.Second)
	if _, ok, _ := db.Token("a", later); ok {
		t.Fatal("expired token still honoured")
	}
	// a is used again after expiry: its new record must survive the purge
	// of its old expiry entry.
	write("a", later, 3)
	n, err := db.PurgeTokens(later, 100)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if rec, ok, _ := db.Token("a", later); !ok || rec.Digest != [32]byte{3} {
		t.Fatalf("fresh record of a purged: %+v %v", rec, ok)
	}
	if _, ok, _ := db.Token("b", later); !ok {
		t.Fatal("live token b purged")
	}
	if n, _ := db.PurgeTokens(later.Add(TokenTTL+time.Minute), 100); n != 2 {
		t.Fatalf("second purge: %d", n)
	}
}
