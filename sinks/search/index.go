package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/custom"   // registers "custom"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"  // registers "keyword"
	_ "github.com/blevesearch/bleve/v2/analysis/token/lowercase"   // registers "to_lower"
	_ "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode" // registers "unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/eddydb/eddy/outbox"
)

// Reserved bleve field names (see the package doc).
const (
	fieldSource = "_eddy.source"
	fieldVer    = "_eddy.ver"
	fieldTomb   = "_eddy.tomb"
	fieldPaths  = "_eddy.fields"

	// analyzerText is Elasticsearch's standard analyzer: UAX#29 words,
	// lowercased, no stop words (bleve's "standard" drops English ones).
	analyzerText = "eddy_standard"

	// mappingKey is the internal key of the persisted field mapping.
	mappingKey = "eddy.mapping"

	// DefaultMaxFields is the default bound on distinct field paths
	// (Options["max_fields"]), Elasticsearch's total_fields.limit.
	DefaultMaxFields = 1000
	// maxDepth bounds a body's nesting, as Elasticsearch's depth.limit.
	maxDepth = 20
	// keywordMax is the longest string indexed as a keyword (bytes), as
	// Elasticsearch's default ignore_above.
	keywordMax = 256
)

var (
	_ outbox.Target   = (*Index)(nil)
	_ outbox.Searcher = (*Index)(nil)
)

// ErrClosed is Deliver's and Search's error after Close.
var ErrClosed = errors.New("search: index closed")

// Index is the embedded search index of one sink. It implements
// outbox.Target and outbox.Searcher and is safe for concurrent use:
// Deliver calls are serialized among themselves, searches run alongside
// them (never waiting for one) and see each batch whole or not at all.
//
// Lock order: mu, then life, then fmu.
type Index struct {
	name      string
	log       *slog.Logger
	maxFields int

	idx     bleve.Index
	text    analysis.Analyzer
	keyword analysis.Analyzer

	mu sync.Mutex // serializes Deliver (version read, then batch)

	life   sync.RWMutex // read-held by every call on idx; Close write-holds it
	closed bool         // guarded by life

	fmu sync.RWMutex // guards fields
	// fields is the mapping: every path's kinds. Never modified in place:
	// Deliver swaps in a new map once its batch is applied, so the
	// persisted mapping always has every path the documents have.
	fields map[string]kind
}

// New opens the index of the search sink cfg: in env.Dir/index, created if
// missing and reopened if present, or in memory when env.Dir is empty.
// Options["max_fields"] bounds the number of distinct field paths (default
// 1000).
func New(cfg outbox.Config, env outbox.Env) (*Index, error) {
	maxFields := DefaultMaxFields
	if s, ok := cfg.Options["max_fields"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return nil, fmt.Errorf("search: sink %s: option max_fields=%q: want 1..100000", cfg.Name, s)
		}
		maxFields = n
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.Default()
	}
	x := &Index{name: cfg.Name, log: logger, maxFields: maxFields, fields: map[string]kind{}}

	im, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: sink %s: %w", cfg.Name, err)
	}
	switch {
	case env.Dir == "":
		// Scorch without a path keeps its segments in memory. bleve.NewMemOnly
		// would be upsidedown over gtreap, over ten times slower to index.
		x.idx, err = bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	default:
		x.idx, err = openDir(filepath.Join(env.Dir, "index"), im)
	}
	if err != nil {
		return nil, fmt.Errorf("search: sink %s: open index: %w", cfg.Name, err)
	}
	m := x.idx.Mapping()
	x.text, x.keyword = m.AnalyzerNamed(analyzerText), m.AnalyzerNamed("keyword")
	if x.text == nil || x.keyword == nil {
		return nil, errors.Join(fmt.Errorf("search: sink %s: the index's mapping lacks analyzer %s", cfg.Name, analyzerText), x.idx.Close())
	}
	raw, err := x.idx.GetInternal([]byte(mappingKey))
	if err == nil && raw != nil {
		err = json.Unmarshal(raw, &x.fields)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("search: sink %s: read field mapping: %w", cfg.Name, err), x.idx.Close())
	}
	return x, nil
}

// openDir opens the index at path, or creates it with im. bleve writes
// index_meta.json first when it creates an index: without it, path is at
// most the empty directory of a creation that crashed, removed here.
func openDir(path string, im mapping.IndexMapping) (bleve.Index, error) {
	_, err := os.Stat(filepath.Join(path, "index_meta.json"))
	switch {
	case err == nil:
		return bleve.Open(path) // with the mapping it was created with
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no index_meta.json and is not empty: %w", path, err)
	}
	return bleve.NewUsing(path, im, scorch.Name, scorch.Name, nil)
}

// newMapping is the bleve index mapping: only its analyzers matter (eddy
// builds every document itself), and the default analyzer is the one
// match queries on a text path use.
func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(analyzerText, map[string]any{
		"type":          "custom",
		"tokenizer":     "unicode",
		"token_filters": []string{"to_lower"},
	}); err != nil {
		return nil, fmt.Errorf("analyzer %s: %w", analyzerText, err)
	}
	m.DefaultAnalyzer = analyzerText
	m.ScoringModel = index.BM25Scoring
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m, nil
}

// Close closes the index. Deliver and Search fail with ErrClosed after it.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.life.Lock()
	defer x.life.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("search: sink %s: close: %w", x.name, err)
	}
	return nil
}

// Deliver applies docs in order (see the package doc for the version
// rules) and returns once they are durable. A body that is not an
// acceptable JSON object is rejected for good (a *outbox.Partial listing
// it); any other error means nothing is known to be applied. ctx is
// checked before the batch is applied; a batch being applied (bleve's
// Batch) is not interrupted.
func (x *Index) Deliver(ctx context.Context, docs []outbox.Doc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.enter(); err != nil {
		return err
	}
	defer x.life.RUnlock()
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(docs))
	seen := make(map[string]struct{}, len(docs))
	for i := range docs {
		if _, ok := seen[docs[i].ID]; !ok {
			seen[docs[i].ID] = struct{}{}
			ids = append(ids, docs[i].ID)
		}
	}
	held, err := x.versions(ctx, ids)
	if err != nil {
		return err
	}

	// Decide, in order, which document of each ID wins: the last one whose
	// version is above everything before it. A winner that turns out to be
	// unacceptable is rejected and does not win.
	type win struct {
		ver uint64
		doc *built
	}
	wins := make(map[string]win, len(ids))
	var rejected []int
	var firstReject error
	newFields := map[string]kind{}
	for i := range docs {
		d := &docs[i]
		cur := held[d.ID]
		if w, ok := wins[d.ID]; ok && w.ver > cur {
			cur = w.ver
		}
		if d.Version <= cur {
			continue // stale or already applied: success
		}
		b, err := x.build(d, newFields)
		if err != nil {
			rejected = append(rejected, i)
			if firstReject == nil {
				firstReject = fmt.Errorf("document %s@%d: %w", d.ID, d.Version, err)
			}
			continue
		}
		wins[d.ID] = win{ver: d.Version, doc: b}
	}

	if len(wins) > 0 {
		batch := x.idx.NewBatch()
		for _, w := range wins {
			if err := batch.IndexAdvanced(w.doc.doc); err != nil {
				return fmt.Errorf("search: sink %s: batch: %w", x.name, err)
			}
		}
		var fields map[string]kind
		if len(newFields) > 0 {
			var raw []byte
			if fields, raw, err = x.withFields(newFields); err != nil {
				return err
			}
			batch.SetInternal([]byte(mappingKey), raw)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.idx.Batch(batch); err != nil {
			return fmt.Errorf("search: sink %s: apply batch of %d: %w", x.name, batch.Size(), err)
		}
		if fields != nil {
			x.fmu.Lock()
			x.fields = fields
			x.fmu.Unlock()
		}
	}
	if len(rejected) > 0 {
		x.log.Warn("search: documents rejected", "count", len(rejected), "first", firstReject)
		return &outbox.Partial{Rejected: rejected, Err: firstReject}
	}
	return nil
}

// versions returns the versions the index holds for ids (documents and
// tombstones); an ID it does not hold is absent.
func (x *Index) versions(ctx context.Context, ids []string) (map[string]uint64, error) {
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery(ids), len(ids), 0, false)
	req.Score = "none"
	req.SortByCustom(search.SortOrder{&search.SortField{Field: fieldVer, Type: search.SortFieldAsString}})
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: sink %s: read versions: %w", x.name, err)
	}
	held := make(map[string]uint64, len(res.Hits))
	for _, h := range res.Hits {
		if len(h.Sort) == 0 {
			return nil, fmt.Errorf("search: sink %s: document %s has no version", x.name, h.ID)
		}
		v, err := parseVer(h.Sort[0])
		if err != nil {
			return nil, fmt.Errorf("search: sink %s: document %s: %w", x.name, h.ID, err)
		}
		held[h.ID] = v
	}
	return held, nil
}

func formatVer(v uint64) string {
	var b [16]byte
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = hex[v&15]
		v >>= 4
	}
	return string(b[:])
}

func parseVer(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) != 16 {
		return 0, fmt.Errorf("bad stored version %q", s)
	}
	return v, nil
}

// enter read-locks life unless the index is closed.
func (x *Index) enter() error {
	x.life.RLock()
	if x.closed {
		x.life.RUnlock()
		return ErrClosed
	}
	return nil
}

// withFields is the mapping with a batch's new paths, and its encoding to
// persist with the batch. Only Deliver (under mu) changes the mapping.
func (x *Index) withFields(nf map[string]kind) (map[string]kind, []byte, error) {
	x.fmu.RLock()
	fields := make(map[string]kind, len(x.fields)+len(nf))
	for p, k := range x.fields {
		fields[p] = k
	}
	x.fmu.RUnlock()
	for p, k := range nf {
		fields[p] |= k
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, fmt.Errorf("search: sink %s: encode field mapping: %w", x.name, err)
	}
	return fields, raw, nil
}

// kindOf is the kinds path has held (0: never seen).
func (x *Index) kindOf(path string) kind {
	x.fmu.RLock()
	defer x.fmu.RUnlock()
	return x.fields[path]
}

// live excludes tombstones from q.
func live(q query.Query) query.Query {
	return query.NewBooleanQuery([]query.Query{q}, nil, []query.Query{termQ(fieldTomb, "T")})
}

func termQ(field, term string) *query.TermQuery {
	t := query.NewTermQuery(term)
	t.SetField(field)
	return t
}

// Count is the number of live documents (tombstones excluded).
func (x *Index) Count() (uint64, error) {
	if err := x.enter(); err != nil {
		return 0, err
	}
	defer x.life.RUnlock()
	req := bleve.NewSearchRequestOptions(live(query.NewMatchAllQuery()), 0, 0, false)
	req.Score = "none"
	res, err := x.idx.Search(req)
	if err != nil {
		return 0, fmt.Errorf("search: sink %s: count: %w", x.name, err)
	}
	return res.Total, nil
}

// Get returns the source and version of document id. found is false when
// the index does not hold it; for a deleted document it is false and
// version is the delete's version.
func (x *Index) Get(id string) (source []byte, version uint64, found bool, err error) {
	if err := x.enter(); err != nil {
		return nil, 0, false, err
	}
	defer x.life.RUnlock()
	d, err := x.idx.Document(id)
	if err != nil {
		return nil, 0, false, fmt.Errorf("search: sink %s: get %s: %w", x.name, id, err)
	}
	if d == nil {
		return nil, 0, false, nil
	}
	tomb := false
	var verErr error
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldSource:
			source = append([]byte(nil), f.Value()...)
		case fieldVer:
			version, verErr = parseVer(string(f.Value()))
		case fieldTomb:
			tomb = true
		}
	})
	if verErr != nil {
		return nil, 0, false, fmt.Errorf("search: sink %s: get %s: %w", x.name, id, verErr)
	}
	if tomb {
		return nil, version, false, nil
	}
	return source, version, true, nil
}
