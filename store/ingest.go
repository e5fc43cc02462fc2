package store

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/attr"
)

// Restores and PITR base copies fill a key range that no one else writes
// (a new table's items and index entries, a base image) by ingesting
// sstables instead of committing batches: the keys are written in key
// order into sstables in <data dir>/ingest-tmp/<n>/, which Pebble's
// Ingest then moves into the LSM in one atomic step. Since the range is
// fresh, the files land in the lowest level they do not overlap, with no
// WAL, memtable, flush or compaction work: the writers' WAL and memtable
// are not shared with the restore.
//
//	source (key order) ─► items: sstFiles (rolled every ingestFileSize)
//	                   └► index entries: extSorter (sorted runs of at most
//	                      sortMem bytes spilled to files, merged) ─► sstFiles
//	─► one pebble.DB.Ingest of every file (they do not overlap: items and
//	   index entries are separate spaces, each written in order)
//	─► statistics (merge operands) in a batch after it
//
// Invariants:
//
//  1. Memory is bounded by sortMem (index entries) plus one sstable's
//     blocks, whatever the table's size.
//  2. Ingest is atomic: a crash leaves all of it or none of it in the LSM.
//     Until the table leaves CREATING (one catalog batch), a crash leaves a
//     restoring table that Open drops (resumePITR), and DeleteTable's range
//     deletions, newer than the ingested files, remove what they hold; Open
//     also removes ingest-tmp, the files a crash left before their ingest.
//  3. The ingest runs under the catalog lock shared, after checking that
//     the table (this incarnation) still exists, as commitPITR does: a
//     DeleteTable either runs after it and deletes what it ingested, or
//     ran before and nothing is ingested.

// ingestTmp is the directory, under the data directory, of sstables being
// written for an ingest.
const ingestTmp = "ingest-tmp"

// ingestFileSize is the size at which sstFiles starts a new sstable.
const ingestFileSize = 64 << 20

// defaultSortMem bounds the memory of an extSorter before it spills a
// sorted run to disk.
const defaultSortMem = 32 << 20

// loader holds the temporary files of one ingest.
type loader struct {
	db  *DB
	dir string
	n   int // files created
}

func (db *DB) newLoader() (*loader, error) {
	dir := db.fs.PathJoin(db.dir, ingestTmp, fmt.Sprint(db.scratchSeq.Add(1)))
	if err := db.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: ingest directory: %w", err)
	}
	return &loader{db: db, dir: dir}, nil
}

// close removes what is left of the loader's files (Ingest removed those
// it ingested).
func (l *loader) close() {
	if err := l.db.fs.RemoveAll(l.dir); err != nil {
		l.db.log.Warn("store: could not remove an ingest's temporary files", "dir", l.dir, "err", err)
	}
}

func (l *loader) path(ext string) string {
	l.n++
	return l.db.fs.PathJoin(l.dir, fmt.Sprintf("%06d.%s", l.n, ext))
}

// sstFiles writes keys in strictly increasing order into sstables of about
// ingestFileSize bytes.
type sstFiles struct {
	l     *loader
	w     *sstable.Writer
	paths []string
	bytes int64 // written so far (keys and values)
}

func (l *loader) files() *sstFiles { return &sstFiles{l: l} }

func (s *sstFiles) add(k, v []byte) error {
	if s.w == nil {
		p := s.l.path("sst")
		f, err := s.l.db.fs.Create(p, vfs.WriteCategoryUnspecified)
		if err != nil {
			return fmt.Errorf("store: ingest file: %w", err)
		}
		s.w = sstable.NewWriter(objstorageprovider.NewFileWritable(f), s.l.db.sstOpts)
		s.paths = append(s.paths, p)
	}
	if err := s.w.Set(k, v); err != nil {
		return err
	}
	s.bytes += int64(len(k) + len(v))
	if s.w.Raw().EstimatedSize() >= ingestFileSize {
		return s.finish()
	}
	return nil
}

// finish closes the current sstable (synced, as Ingest requires).
func (s *sstFiles) finish() error {
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	return err
}

// extSorter sorts key-value pairs in bounded memory: pairs are buffered
// up to limit bytes, then sorted and spilled as a run to a file; each
// merges the runs. Pairs with equal keys come out in the order they were
// added.
type extSorter struct {
	l     *loader
	limit int
	mem   int
	buf   []sortKV
	block []byte
	runs  []string
	// last, when set (lastOnly), keeps only the last pair of each key in
	// the buffer: a key changed many times costs its memory once per run.
	last map[string]int // key → index in buf
}

type sortKV struct{ k, v []byte }

func (l *loader) sorter(limit int) *extSorter {
	if limit <= 0 {
		limit = defaultSortMem
	}
	return &extSorter{l: l, limit: limit}
}

func (s *extSorter) copy(b []byte) []byte {
	if cap(s.block)-len(s.block) < len(b) {
		s.block = make([]byte, 0, max(1<<20, len(b)))
	}
	n := len(s.block)
	s.block = append(s.block, b...)
	return s.block[n:len(s.block):len(s.block)]
}

// lastOnly makes the sorter keep, of the pairs with equal keys added
// between two spills, only the last (readers that want the last pair of
// each key, such as lastIter, see the same).
func (s *extSorter) lastOnly() *extSorter {
	s.last = map[string]int{}
	return s
}

func (s *extSorter) add(k, v []byte) error {
	if s.last != nil {
		if i, ok := s.last[string(k)]; ok {
			s.buf[i].v = s.copy(v)
			s.mem += len(v)
			if s.mem >= s.limit {
				return s.spill()
			}
			return nil
		}
		s.last[string(k)] = len(s.buf)
		s.mem += len(k) + 16
	}
	s.buf = append(s.buf, sortKV{s.copy(k), s.copy(v)})
	s.mem += len(k) + len(v) + 48
	if s.mem >= s.limit {
		return s.spill()
	}
	return nil
}

func (s *extSorter) sortBuf() {
	slices.SortStableFunc(s.buf, func(a, b sortKV) int { return bytes.Compare(a.k, b.k) })
}

// spill writes the buffer, sorted, as a run: <uvarint len k> k <uvarint
// len v> v, ...
func (s *extSorter) spill() error {
	s.sortBuf()
	p := s.l.path("run")
	f, err := s.l.db.fs.Create(p, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: sort run: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	var hdr [binary.MaxVarintLen64]byte
	for _, e := range s.buf {
		for _, b := range [][]byte{e.k, e.v} {
			if _, err = w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(b)))]); err == nil {
				_, err = w.Write(b)
			}
			if err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: sort run: %w", err)
	}
	s.runs = append(s.runs, p)
	s.buf, s.block, s.mem = nil, nil, 0
	if s.last != nil {
		clear(s.last)
	}
	return nil
}

// run is one source of the merge: a spilled run or the in-memory buffer.
type run struct {
	r    *bufio.Reader
	f    io.Closer
	buf  []sortKV
	ord  int // later runs hold later pairs
	k, v []byte
}

func (r *run) next() (bool, error) {
	if r.r == nil {
		if len(r.buf) == 0 {
			return false, nil
		}
		r.k, r.v, r.buf = r.buf[0].k, r.buf[0].v, r.buf[1:]
		return true, nil
	}
	read := func(dst []byte) ([]byte, error) {
		n, err := binary.ReadUvarint(r.r)
		if err != nil {
			return nil, err
		}
		dst = slices.Grow(dst[:0], int(n))[:n]
		_, err = io.ReadFull(r.r, dst)
		return dst, err
	}
	k, err := read(r.k)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: sort run: %w", err)
	}
	v, err := read(r.v)
	if err != nil {
		return false, fmt.Errorf("store: sort run: %w", err)
	}
	r.k, r.v = k, v
	return true, nil
}

type runHeap []*run

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].k, h[j].k); c != 0 {
		return c < 0
	}
	return h[i].ord < h[j].ord
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// each calls fn with every pair in key order (pairs with equal keys in
// the order they were added); k and v are valid only during the call.
func (s *extSorter) each(fn func(k, v []byte) error) error {
	it, err := s.iter()
	if err != nil {
		return err
	}
	defer it.close()
	for it.next() {
		if err := fn(it.k, it.v); err != nil {
			return err
		}
	}
	return it.err
}

// sortedIter reads an extSorter's pairs in order: after next returns
// true, k and v hold the pair (valid until the next call); err once it
// returns false.
type sortedIter struct {
	h       runHeap
	files   []vfs.File
	started bool
	k, v    []byte
	err     error
}

// iter merges the spilled runs and the buffer. No pair may be added after.
func (s *extSorter) iter() (*sortedIter, error) {
	s.sortBuf()
	it := &sortedIter{}
	var h runHeap
	for i, p := range s.runs {
		f, err := s.l.db.fs.Open(p)
		if err != nil {
			it.close()
			return nil, fmt.Errorf("store: sort run: %w", err)
		}
		it.files = append(it.files, f)
		h = append(h, &run{r: bufio.NewReaderSize(f, 64<<10), f: f, ord: i})
	}
	h = append(h, &run{buf: s.buf, ord: len(s.runs)})
	for _, r := range h {
		ok, err := r.next()
		if err != nil {
			it.close()
			return nil, err
		}
		if ok {
			it.h = append(it.h, r)
		}
	}
	heap.Init(&it.h)
	return it, nil
}

func (it *sortedIter) next() bool {
	if it.err != nil {
		return false
	}
	if it.started && len(it.h) > 0 {
		ok, err := it.h[0].next()
		if err != nil {
			it.err = err
			return false
		}
		if ok {
			heap.Fix(&it.h, 0)
		} else {
			heap.Pop(&it.h)
		}
	}
	it.started = true
	if len(it.h) == 0 {
		return false
	}
	it.k, it.v = it.h[0].k, it.h[0].v
	return true
}

func (it *sortedIter) close() {
	for _, f := range it.files {
		_ = f.Close()
	}
	it.files = nil
}

// lastIter keeps, of the pairs of a sortedIter with equal keys, the last:
// Valid, Key, Value, Next and Error as a Pebble iterator's (after First).
type lastIter struct {
	s    *sortedIter
	more bool // s holds the next key's first pair
	ok   bool
	k, v []byte
}

func newLastIter(s *sortedIter) *lastIter {
	d := &lastIter{s: s, more: s.next()}
	d.Next()
	return d
}

func (d *lastIter) Next() bool {
	d.ok = d.more
	if !d.ok {
		return false
	}
	d.k = append(d.k[:0], d.s.k...)
	d.v = append(d.v[:0], d.s.v...)
	for {
		if d.more = d.s.next(); !d.more || !bytes.Equal(d.s.k, d.k) {
			break
		}
		d.v = append(d.v[:0], d.s.v...)
	}
	return d.ok
}

func (d *lastIter) Valid() bool   { return d.ok }
func (d *lastIter) Key() []byte   { return d.k }
func (d *lastIter) Value() []byte { return d.v }
func (d *lastIter) Error() error  { return d.s.err }

// ingest moves the sstables at paths into the LSM, atomically, under the
// catalog lock shared and only while the table with ID id exists and gate
// (if any) accepts it (commitBase's and commitPITR's rule).
func (db *DB) ingest(ctx context.Context, id uint32, gate func(*Table) error, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	var t *Table
	for _, c := range db.tables {
		if c.ID == id {
			t = c
			break
		}
	}
	if t == nil {
		return errTableGone
	}
	if gate != nil {
		if err := gate(t); err != nil {
			return err
		}
	}
	if err := db.commitIngest(ctx, paths); err != nil {
		return fmt.Errorf("store: ingest: %w", err)
	}
	return nil
}

// removeIngestTmp removes what a crash left of ingests (at Open).
func (db *DB) removeIngestTmp() error {
	return db.fs.RemoveAll(db.fs.PathJoin(db.dir, ingestTmp))
}

// sstWriterOptions are the options of the sstables written for ingests:
// the DB's comparer, merger, compression and table format.
func sstWriterOptions(popts *pebble.Options, pdb *pebble.DB) sstable.WriterOptions {
	o := popts.Clone()
	o.EnsureDefaults()
	return o.MakeWriterOptions(0, pdb.TableFormat())
}

// fillIngest is fill's ingest path: source's items (in key order) and
// their index entries are written into sstables and ingested into t's
// fresh ranges; the statistics follow in a batch.
func (db *DB) fillIngest(ctx context.Context, t *Table, source func(fn func(k, item []byte) error) error) error {
	l, err := db.newLoader()
	if err != nil {
		return err
	}
	defer l.close()
	items, entries := l.files(), l.sorter(db.sortMem)
	var count, size int64
	ixStats := make([][2]int64, len(t.Indexes))
	prefix := tablePrefix(prefixItem, t.ID)
	key, val := slices.Clone(prefix), []byte(nil)
	pace := db.newPacer()
	var worked int64
	rest := func(n int) error {
		if worked += int64(n); worked < int64(db.restoreBatch) {
			return nil
		}
		worked = 0
		if err := ctx.Err(); err != nil {
			return err
		}
		return pace.rest(ctx)
	}
	err = source(func(k, raw []byte) error {
		it, err := attr.DecodeBinary(raw)
		if err != nil {
			return err
		}
		key = append(key[:len(prefix)], k...)
		if err := items.add(key, raw); err != nil {
			return err
		}
		count++
		size += int64(attr.ItemSize(it))
		n := len(key) + len(raw)
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			ek := ix.entryKey(t, it)
			if ek == nil {
				continue
			}
			p := ix.project(t, it)
			val = attr.AppendBinary(val[:0], p)
			if err := entries.add(ek, val); err != nil {
				return err
			}
			ixStats[i][0]++
			ixStats[i][1] += int64(attr.ItemSize(p))
			n += len(ek) + len(val)
		}
		return rest(n)
	})
	if err == nil {
		err = items.finish()
	}
	if err != nil {
		return err
	}
	ixFiles := l.files()
	err = entries.each(func(k, v []byte) error {
		if err := ixFiles.add(k, v); err != nil {
			return err
		}
		return rest(len(k) + len(v))
	})
	if err == nil {
		err = ixFiles.finish()
	}
	if err != nil {
		return err
	}
	if err := db.ingest(ctx, t.ID, nil, append(items.paths, ixFiles.paths...)); err != nil {
		return err
	}
	// The statistics after the ingest: merge operands newer than its
	// files (an index's statistics key is the first of its range).
	b := db.pdb.NewBatch()
	defer b.Close()
	if count != 0 || size != 0 {
		if err := b.Merge(statsKey(t.ID), encodeStats(count, size), nil); err != nil {
			return err
		}
	}
	for i, s := range ixStats {
		if s[0] != 0 || s[1] != 0 {
			if err := b.Merge(indexStatsKey(t.ID, t.Indexes[i].ID), encodeStats(s[0], s[1]), nil); err != nil {
				return err
			}
		}
	}
	return db.commitPITR(b, t.ID, db.writeOpts)
}

// copyBaseIngest is copyBase's ingest path: the snapshot's items of t,
// in key order, into sstables of its base range, ingested while the
// table still has generation gen of PITR; then the meta marks it ready.
func (db *DB) copyBaseIngest(ctx context.Context, it *pebble.Iterator, t *Table, gen int64) error {
	l, err := db.newLoader()
	if err != nil {
		return err
	}
	defer l.close()
	files := l.files()
	base := pitrKey('b', t.ID)
	key := slices.Clone(base)
	pace := db.newPacer()
	var worked int
	for it.First(); it.Valid(); it.Next() {
		key = append(key[:len(base)], it.Key()[5:]...)
		if err := files.add(key, it.Value()); err != nil {
			return err
		}
		if worked += len(key) + len(it.Value()); worked >= db.restoreBatch {
			worked = 0
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := pace.rest(ctx); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if err := files.finish(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if hook := db.bases.hook; hook != nil {
		if err := hook(ctx); err != nil {
			return err
		}
	}
	err = db.ingest(ctx, t.ID, func(cur *Table) error {
		if !cur.PITR.Enabled || generation(cur) != gen {
			return errStaleBase
		}
		return nil
	}, files.paths)
	if err != nil {
		return err
	}
	m, _, err := db.readMeta(db.pdb, t.ID)
	if err != nil {
		return err
	}
	m.Ready = true
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := setMeta(b, t.ID, m); err != nil {
		return err
	}
	return db.commitBase(ctx, b, t.ID, gen, db.writeOpts)
}
