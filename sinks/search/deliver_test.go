package search

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/outbox"
)

// want is a document's expected state after a case's batches.
type want struct {
	id      string
	body    string // "" for absent
	version uint64
}

func TestVersions(t *testing.T) {
	cases := []struct {
		name    string
		batches [][]outbox.Doc
		want    []want
		count   uint64
	}{
		{"older never overwrites newer",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {put("a", 3, `{"v":3}`)}},
			[]want{{"a", `{"v":5}`, 5}}, 1},
		{"equal version is a no-op",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {put("a", 5, `{"v":"other"}`)}},
			[]want{{"a", `{"v":5}`, 5}}, 1},
		{"newer replaces",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {put("a", 6, `{"v":6}`)}},
			[]want{{"a", `{"v":6}`, 6}}, 1},
		{"delete tombstones",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {del("a", 6)}},
			[]want{{"a", "", 6}}, 0},
		{"older index after delete does not resurrect",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {del("a", 7)}, {put("a", 6, `{"v":6}`)}},
			[]want{{"a", "", 7}}, 0},
		{"delete of an unknown ID still tombstones",
			[][]outbox.Doc{{del("a", 7)}, {put("a", 6, `{"v":6}`)}},
			[]want{{"a", "", 7}}, 0},
		{"older delete is ignored",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {del("a", 4)}},
			[]want{{"a", `{"v":5}`, 5}}, 1},
		{"re-create after delete",
			[][]outbox.Doc{{put("a", 5, `{"v":5}`)}, {del("a", 6)}, {put("a", 8, `{"v":8}`)}},
			[]want{{"a", `{"v":8}`, 8}}, 1},
		{"same ID in one batch: the highest wins, in any order",
			[][]outbox.Doc{{put("a", 2, `{"v":2}`), put("b", 1, `{"v":1}`), put("a", 4, `{"v":4}`), put("a", 3, `{"v":3}`)}},
			[]want{{"a", `{"v":4}`, 4}, {"b", `{"v":1}`, 1}}, 2},
		{"index then delete in one batch",
			[][]outbox.Doc{{put("a", 2, `{"v":2}`), del("a", 3)}},
			[]want{{"a", "", 3}}, 0},
		{"delete then re-create in one batch",
			[][]outbox.Doc{{put("a", 1, `{"v":1}`)}, {del("a", 2), put("a", 3, `{"v":3}`)}},
			[]want{{"a", `{"v":3}`, 3}}, 1},
		{"a redelivered batch changes nothing",
			[][]outbox.Doc{{put("a", 1, `{"v":1}`), put("a", 2, `{"v":2}`)}, {put("a", 1, `{"v":1}`), put("a", 2, `{"v":2}`)}},
			[]want{{"a", `{"v":2}`, 2}}, 1},
		{"high versions keep their order",
			[][]outbox.Doc{{put("a", 1<<63+1, `{"v":"big"}`)}, {put("a", 1<<62, `{"v":"small"}`)}},
			[]want{{"a", `{"v":"big"}`, 1<<63 + 1}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := open(t, "")
			defer x.Close()
			for _, b := range tc.batches {
				deliver(t, x, b...)
			}
			for _, w := range tc.want {
				src, ver, found, err := x.Get(w.id)
				if err != nil {
					t.Fatal(err)
				}
				if found != (w.body != "") || string(src) != w.body || ver != w.version {
					t.Errorf("Get(%s) = %s, %d, %v; want %q, %d", w.id, src, ver, found, w.body, w.version)
				}
			}
			n, err := x.Count()
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.count {
				t.Errorf("Count = %d, want %d", n, tc.count)
			}
			r, _ := find(t, x, `{"query":{"match_all":{}}}`)
			if r.Hits.Total.Value != int(tc.count) {
				t.Errorf("match_all total %d, want %d (tombstones must not show)", r.Hits.Total.Value, tc.count)
			}
		})
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	x := open(t, dir)
	deliver(t, x,
		put("a", 1, `{"title":"red shoe","n":12345678901234567890123456789012345678}`),
		put("b", 2, `{"title":"blue hat"}`),
		put("c", 3, `{"title":"green"}`))
	deliver(t, x, del("b", 4))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Deliver(context.Background(), []outbox.Doc{put("z", 1, `{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Deliver after Close: %v, want ErrClosed", err)
	}
	if _, err := x.Search(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Search after Close: %v, want ErrClosed", err)
	}
	if err := x.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	x = open(t, dir)
	defer x.Close()
	if n, err := x.Count(); err != nil || n != 2 {
		t.Fatalf("Count after reopen = %d, %v; want 2", n, err)
	}
	src, ver, found, err := x.Get("a")
	if err != nil || !found || ver != 1 || string(src) != `{"title":"red shoe","n":12345678901234567890123456789012345678}` {
		t.Errorf("Get(a) after reopen = %s, %d, %v, %v", src, ver, found, err)
	}
	// The tombstone survived: an older index op stays out.
	deliver(t, x, put("b", 3, `{"title":"blue hat"}`))
	if _, ver, found, _ := x.Get("b"); found || ver != 4 {
		t.Errorf("b resurrected after reopen: found %v version %d", found, ver)
	}
	// The mapping survived: sort on a number and term on a keyword work.
	r, _ := find(t, x, `{"query":{"term":{"title.keyword":"red shoe"}},"sort":[{"n":"desc"}]}`)
	if !slices.Equal(ids(r), []string{"a"}) {
		t.Errorf("after reopen: hits %v, want [a]", ids(r))
	}
	if r, _ := find(t, x, `{"query":{"match":{"title":"shoe"}}}`); !slices.Equal(ids(r), []string{"a"}) {
		t.Errorf("match after reopen: hits %v, want [a]", ids(r))
	}
}

func TestNewAfterCrashedCreation(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "index"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := open(t, dir) // an empty index directory: a creation that crashed
	deliver(t, x, put("a", 1, `{}`))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "index", "stuff"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := New(outbox.Config{Name: "s"}, outbox.Env{Dir: other}); err == nil {
		t.Error("New over a non-empty directory without index_meta.json succeeded")
	}
}

func TestNewOptions(t *testing.T) {
	for _, v := range []string{"0", "x", "-3", "1000000"} {
		if _, err := New(outbox.Config{Name: "s", Options: map[string]string{"max_fields": v}}, outbox.Env{}); err == nil || !strings.Contains(err.Error(), "max_fields") {
			t.Errorf("max_fields=%s: %v, want an error naming max_fields", v, err)
		}
	}
	x := open(t, "")
	defer x.Close()
	if src, ver, found, err := x.Get("nope"); src != nil || ver != 0 || found || err != nil {
		t.Errorf("Get of a missing ID = %s %d %v %v", src, ver, found, err)
	}
}

func TestRejected(t *testing.T) {
	x, err := New(outbox.Config{Name: "s", Options: map[string]string{"max_fields": "3"}}, outbox.Env{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	deep := strings.Repeat(`{"a":`, 25) + "1" + strings.Repeat("}", 25)
	docs := []outbox.Doc{
		put("ok", 1, `{"a":"x"}`),
		put("notjson", 1, `{"a":`),
		put("array", 1, `[1,2]`),
		put("deep", 1, deep),
		put("meta", 1, `{"_id":"x"}`),
		put("empty", 1, `{"":1}`),
		put("toomany", 1, `{"b":1,"c":2,"d":3}`),
		put("ok2", 1, `{"a":"y","b":true}`),
	}
	err = x.Deliver(context.Background(), docs)
	var p *outbox.Partial
	if !errors.As(err, &p) {
		t.Fatalf("Deliver = %v, want a *Partial", err)
	}
	if want := []int{1, 2, 3, 4, 5, 6}; !slices.Equal(p.Rejected, want) || len(p.Failed) != 0 {
		t.Errorf("Rejected %v Failed %v, want %v and none", p.Rejected, p.Failed, want)
	}
	if n, _ := x.Count(); n != 2 {
		t.Errorf("Count = %d, want 2 (the acceptable ones applied)", n)
	}
	if _, _, found, _ := x.Get("toomany"); found {
		t.Error("a document over the field limit was indexed")
	}
	// A new kind for a known path is not a new field: "a" was text.
	deliver(t, x, put("kinds", 1, `{"a":5,"b":false}`), put("third", 1, `{"c":"the third field"}`))
	// A rejected version does not block the next acceptable one.
	deliver(t, x, put("notjson", 2, `{"a":"fixed"}`))
	if _, v, found, _ := x.Get("notjson"); !found || v != 2 {
		t.Errorf("notjson@2 not applied: %v %d", found, v)
	}
}

func TestDeliverHonoursContext(t *testing.T) {
	x := open(t, "")
	defer x.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := x.Deliver(ctx, []outbox.Doc{put("a", 1, `{}`)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver with a cancelled context = %v", err)
	}
	if n, _ := x.Count(); n != 0 {
		t.Errorf("Count = %d after a cancelled Deliver", n)
	}
}

// TestSearchSeesWholeBatches searches while batches are delivered: every
// answer holds a whole number of batches, and no search waits for Deliver.
func TestSearchSeesWholeBatches(t *testing.T) {
	x := open(t, t.TempDir())
	defer x.Close()
	const batches, per = 20, 50
	done := make(chan error, 1)
	go func() {
		for b := 0; b < batches; b++ {
			docs := make([]outbox.Doc, per)
			for i := range docs {
				n := b*per + i + 1
				docs[i] = put(fmt.Sprintf("d%d", n), uint64(n), item(n))
			}
			if err := x.Deliver(context.Background(), docs); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		time.Sleep(2 * time.Millisecond)
		r, _ := find(t, x, `{"size":0}`)
		if r.Hits.Total.Value%per != 0 {
			t.Fatalf("a search saw %d documents: part of a batch", r.Hits.Total.Value)
		}
	}
	if n, err := x.Count(); err != nil || n != batches*per {
		t.Errorf("Count = %d, %v; want %d", n, err, batches*per)
	}
}

// item is a realistic replicated item: an order with nested customer,
// lines, free text, dates and numbers.
func item(i int) string {
	return fmt.Sprintf(`{"pk":"ORDER#%08d","sk":"META","status":%q,"total":%d.%02d,"qty":%d,`+
		`"created_at":"2026-%02d-%02dT10:%02d:00Z","paid":%v,`+
		`"customer":{"id":"C%06d","name":"Customer %d","email":"c%d@example.com","tier":%q},`+
		`"note":"Please deliver to the back door, ring twice; fragile items inside (order %d)",`+
		`"tags":["web","promo-%d"],"lines":[{"sku":"SKU-%05d","price":19.99,"n":2},{"sku":"SKU-%05d","price":5.5,"n":1}]}`,
		i, []string{"new", "paid", "shipped", "delivered"}[i%4], i%1000, i%100, i%7+1,
		i%12+1, i%28+1, i%60, i%2 == 0,
		i%5000, i%5000, i, []string{"gold", "silver", "bronze"}[i%3],
		i, i%10, i%3000, (i+7)%3000)
}

func BenchmarkDeliver(b *testing.B) {
	x := open(b, b.TempDir()) // on disk, fsynced: as a server with a data directory runs it
	defer x.Close()
	const batch = 500
	docs := make([]outbox.Doc, batch)
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range docs {
			n++
			docs[j] = put(fmt.Sprintf("order-%d", n), uint64(n), item(n))
		}
		b.StartTimer()
		if err := x.Deliver(context.Background(), docs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkSearch is a typical query (match, filter, sort, highlight) over
// 5,000 order items.
func BenchmarkSearch(b *testing.B) {
	x := open(b, "")
	defer x.Close()
	for n := 0; n < 5000; n += 500 {
		docs := make([]outbox.Doc, 500)
		for j := range docs {
			docs[j] = put(fmt.Sprintf("order-%d", n+j), 1, item(n+j))
		}
		deliver(b, x, docs...)
	}
	body := []byte(`{"query":{"bool":{"must":{"match":{"note":"fragile door"}},"filter":[{"term":{"status.keyword":"paid"}},{"range":{"total":{"gte":100,"lt":500}}}]}},"sort":[{"created_at":"desc"}],"size":20,"highlight":{"fields":{"note":{}}}}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := x.Search(context.Background(), body); err != nil {
			b.Fatal(err)
		}
	}
}
