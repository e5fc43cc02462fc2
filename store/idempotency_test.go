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
	write := func(token string, created time.Time, body string) {
		t.Helper()
		wo := WriteOptions{Extra: TokenWriter(token, func() TokenRecord {
			return TokenRecord{Created: created, Digest: [32]byte{1}, Response: []byte(body)}
		})}
		if _, err := db.Write(ctx, wo, put(tbl, attr.Item{"pk": attr.S(token)})); err != nil {
			t.Fatal(err)
		}
	}
	write("a", t0, "resp-a")
	write("b", t0.Add(time.Minute), "resp-b")
	rec, ok, err := db.Token("a", t0)
	if err != nil || !ok || string(rec.Response) != "resp-a" || rec.Digest != [32]byte{1} {
		t.Fatalf("token a: %+v %v %v", rec, ok, err)
	}
	// Ten minutes on, a has expired (absent to readers); b has not.
	later := t0.Add(TokenTTL + time.Second)
	if _, ok, _ := db.Token("a", later); ok {
		t.Fatal("expired token still honoured")
	}
	// a is used again after expiry: its new record must survive the purge
	// of its old expiry entry.
	write("a", later, "resp-a2")
	n, err := db.PurgeTokens(later, 100)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if rec, ok, _ := db.Token("a", later); !ok || string(rec.Response) != "resp-a2" {
		t.Fatalf("fresh record of a purged: %+v %v", rec, ok)
	}
	if _, ok, _ := db.Token("b", later); !ok {
		t.Fatal("live token b purged")
	}
	if n, _ := db.PurgeTokens(later.Add(TokenTTL+time.Minute), 100); n != 2 {
		t.Fatalf("second purge: %d", n)
	}
}
