package search

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/eddydb/eddy/outbox"
)

func open(t testing.TB, dir string) *Index {
	t.Helper()
	x, err := New(outbox.Config{Name: "products", Kind: "search"}, outbox.Env{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func idx(op outbox.Op, id string, ver uint64, body string) outbox.Doc {
	d := outbox.Doc{Op: op, ID: id, Version: ver, Seq: ver}
	if body != "" {
		d.Body = []byte(body)
	}
	return d
}

func put(id string, ver uint64, body string) outbox.Doc { return idx(outbox.OpIndex, id, ver, body) }
func del(id string, ver uint64) outbox.Doc              { return idx(outbox.OpDelete, id, ver, "") }

func deliver(t testing.TB, x *Index, docs ...outbox.Doc) {
	t.Helper()
	if err := x.Deliver(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// response is the part of a _search answer the tests read.
type response struct {
	Hits struct {
		Total struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		MaxScore *float64 `json:"max_score"`
		Hits     []struct {
			Index     string              `json:"_index"`
			ID        string              `json:"_id"`
			Score     *float64            `json:"_score"`
			Version   uint64              `json:"_version"`
			Source    json.RawMessage     `json:"_source"`
			Highlight map[string][]string `json:"highlight"`
			Sort      []any               `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
}

func find(t testing.TB, x *Index, body string) (response, []byte) {
	t.Helper()
	raw, err := x.Search(context.Background(), []byte(body))
	if err != nil {
		t.Fatalf("search %s: %v", body, err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("search %s: bad response %s: %v", body, raw, err)
	}
	return r, raw
}

func ids(r response) []string {
	out := make([]string, len(r.Hits.Hits))
	for i, h := range r.Hits.Hits {
		out[i] = h.ID
	}
	return out
}

func sortedIDs(r response) []string {
	out := ids(r)
	slices.Sort(out)
	return out
}

func searchErr(t testing.TB, x *Index, body string) *outbox.SearchError {
	t.Helper()
	_, err := x.Search(context.Background(), []byte(body))
	var se *outbox.SearchError
	if !errors.As(err, &se) {
		t.Fatalf("search %s: want a *SearchError, got %v", body, err)
	}
	return se
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
