package capacity_test

import (
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/store"
)

// BenchmarkLimiter is the limiter's own cost per request, on demand and
// nothing throttled (as eddy bench's put and get): a GetItem's AdmitRead
// and ChargeRead, and a PutItem's AdmitWrite, over 10,000 keys (Report
// mode: b.N requests a second are far past any table's limits).
func BenchmarkLimiter(b *testing.B) {
	tb := &store.Table{ID: 1, Name: "bench", Region: "us-east-1", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}, BillingMode: "PAY_PER_REQUEST"}
	keys := make([]attr.Value, 10000)
	items := make([]attr.Item, len(keys))
	for i := range keys {
		keys[i] = attr.S(fmt.Sprint("k", i))
		items[i] = attr.Item{"pk": keys[i], "v": attr.S("0123456789012345678901234567890123456789")}
	}
	b.Run("read", func(b *testing.B) {
		l := capacity.New(capacity.Options{Mode: capacity.Report}) // does all of enforce's work, refuses nothing
		for i := 0; i < b.N; i++ {
			rd := capacity.Read{Table: tb, Key: &keys[i%len(keys)], Op: "GetItem"}
			if err := l.AdmitRead(rd); err != nil {
				b.Fatal(err)
			}
			l.ChargeRead(rd, 0.5)
		}
	})
	b.Run("write", func(b *testing.B) {
		l := capacity.New(capacity.Options{Mode: capacity.Report}) // does all of enforce's work, refuses nothing
		wo := &store.WriteOptions{Metering: store.MeterStandard, Op: "PutItem"}
		muts := make([]store.Mutation, 1)
		res := make([]store.Result, 1)
		for i := 0; i < b.N; i++ {
			it := items[i%len(items)]
			muts[0] = store.Mutation{Table: tb, Key: attr.Item{"pk": it["pk"]}}
			res[0] = store.Result{New: it, Changed: true}
			if err := l.AdmitWrite(wo, muts, res); err != nil {
				b.Fatal(err)
			}
		}
	})
}
