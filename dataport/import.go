package dataport

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// Import statuses and compression types (ImportTableDescription).
const (
	CompressionGzip = "GZIP"
	CompressionZstd = "ZSTD"
	CompressionNone = "NONE"
)

// ImportLogGroup is the CloudWatch Logs group of imports' per-item errors
// (developer guide, "Import format quotas and validation": DynamoDB logs
// each item it could not import to /aws-dynamodb/imports, one stream per
// import).
const ImportLogGroup = "/aws-dynamodb/imports"

// importBatch is how many items one store.Write applies: one synced
// commit per batch.
const importBatch = 500

// importJob is one import: its description and its live counters.
type importJob struct {
	desc   ImportTableDescription
	region string
	bucket Bucket
	delim  rune
	header []string
	hash   string

	processedItems atomic.Int64
	importedItems  atomic.Int64
	errors         atomic.Int64
	processedBytes atomic.Int64
}

// ImportTableDescription is DynamoDB's ImportTableDescription.
type ImportTableDescription struct {
	ImportArn               string              `json:"ImportArn"`
	ImportStatus            string              `json:"ImportStatus"`
	TableArn                string              `json:"TableArn"`
	TableId                 string              `json:"TableId,omitempty"`
	ClientToken             string              `json:"ClientToken,omitempty"`
	S3BucketSource          S3BucketSource      `json:"S3BucketSource"`
	ErrorCount              int64               `json:"ErrorCount"`
	CloudWatchLogGroupArn   string              `json:"CloudWatchLogGroupArn"`
	InputFormat             string              `json:"InputFormat"`
	InputFormatOptions      *InputFormatOptions `json:"InputFormatOptions,omitempty"`
	InputCompressionType    string              `json:"InputCompressionType"`
	TableCreationParameters json.RawMessage     `json:"TableCreationParameters"`
	StartTime               epoch               `json:"StartTime"`
	EndTime                 *epoch              `json:"EndTime,omitempty"`
	ProcessedSizeBytes      int64               `json:"ProcessedSizeBytes"`
	ProcessedItemCount      int64               `json:"ProcessedItemCount"`
	ImportedItemCount       int64               `json:"ImportedItemCount"`
	FailureCode             string              `json:"FailureCode,omitempty"`
	FailureMessage          string              `json:"FailureMessage,omitempty"`
}

// S3BucketSource is where an import reads: every object whose key begins
// with S3KeyPrefix.
type S3BucketSource struct {
	S3Bucket      string `json:"S3Bucket"`
	S3BucketOwner string `json:"S3BucketOwner,omitempty"`
	S3KeyPrefix   string `json:"S3KeyPrefix,omitempty"`
}

// InputFormatOptions holds the CSV options.
type InputFormatOptions struct {
	Csv *struct {
		Delimiter  *string  `json:"Delimiter,omitempty"`
		HeaderList []string `json:"HeaderList,omitempty"`
	} `json:"Csv,omitempty"`
}

// itemError is one line of the import's error log: where the item was and
// why it was not imported.
type itemError struct {
	ImportArn     string   `json:"importArn"`
	S3Bucket      string   `json:"s3Bucket"`
	S3Key         string   `json:"s3Key"`
	ItemIndex     int64    `json:"itemIndex"` // the item's line (1-based) in its object
	ErrorMessages []string `json:"errorMessages"`
}

// runImport reads every object of the source into the (already created)
// table. A malformed or invalid item is counted in ErrorCount and logged,
// and the import goes on; only the source itself failing (unreadable,
// not decompressible) fails it.
func (m *Manager) runImport(ctx context.Context, j *importJob) error {
	d := &j.desc
	t := m.db.TableIn(j.region, tableNameOf(d.TableArn))
	if t == nil {
		return errors.New("the table being imported into was deleted")
	}
	objs, err := j.bucket.List(ctx, d.S3BucketSource.S3KeyPrefix)
	if err != nil {
		return err
	}
	stream := idOf(d.ImportArn)
	logErr := func(key string, idx int64, msg string) {
		j.errors.Add(1)
		b, _ := json.Marshal(itemError{ImportArn: d.ImportArn, S3Bucket: d.S3BucketSource.S3Bucket, S3Key: key, ItemIndex: idx, ErrorMessages: []string{msg}})
		if m.errLog != nil {
			m.errLog.Append(j.region, ImportLogGroup, stream, time.Now(), string(b))
		}
	}
	keys := map[string]attr.Type{}
	for _, ke := range t.KeyElements() {
		keys[ke.Name] = ke.Type
	}
	w := &importWriter{ctx: ctx, db: m.db, table: t, job: j, logErr: logErr}
	for _, o := range objs {
		if err := m.importObject(ctx, j, o, keys, w); err != nil {
			w.flush()
			return fmt.Errorf("%s: %w", o.Key, err)
		}
	}
	return w.flush()
}

// countingReader counts the bytes read from an object (ProcessedSizeBytes).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (m *Manager) importObject(ctx context.Context, j *importJob, o Object, keys map[string]attr.Type, w *importWriter) error {
	rc, err := j.bucket.Get(ctx, o.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = countingReader{rc, &j.processedBytes}
	switch j.desc.InputCompressionType {
	case CompressionGzip:
		gz, err := gzip.NewReader(r)
		if err != nil {
			if errors.Is(err, io.EOF) { // an empty object
				return nil
			}
			return fmt.Errorf("not gzip: %w", err)
		}
		defer gz.Close()
		r = gz
	case CompressionZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer zr.Close()
		r = zr
	}
	if j.desc.InputFormat == FormatCSV {
		cr, err := newCSVReader(r, j.delim, j.header, keys)
		if err != nil {
			return err
		}
		for idx := int64(1); ; idx++ {
			it, err := cr.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			j.processedItems.Add(1)
			if err != nil {
				var re rowError
				if errors.As(err, &re) {
					w.logErr(o.Key, idx, err.Error())
					continue
				}
				return err
			}
			if err := w.add(o.Key, idx, it); err != nil {
				return err
			}
		}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	for idx := int64(1); ; idx++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var it attr.Item
		var derr error
		if j.desc.InputFormat == FormatIon {
			it, derr = decodeIonLine(line)
			if derr == nil && it == nil { // the version marker alone
				continue
			}
		} else {
			it, derr = decodeJSONLine(line)
		}
		j.processedItems.Add(1)
		if derr != nil {
			w.logErr(o.Key, idx, derr.Error())
		} else if err := w.add(o.Key, idx, it); err != nil {
			return err
		}
	}
}

// maxLine bounds one line: an item is at most 400 KB, which its JSON can
// more than double.
const maxLine = 4 << 20

func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) > maxLine {
				return nil, errors.New("a line longer than 4 MB")
			}
			continue
		}
		return line, err
	}
}

// importLanes is how many batches an import has in flight: each lane
// commits its batches one after another while the reader decodes the next
// ones, and an item's key picks its lane, so that two lines with the same
// key are applied in their order. More than one lane (sharing Pebble's
// group commits) measured no faster on the 2-core machine eddy is built on
// (BenchmarkImport: 10.2k and 8.0k items/s with 1 lane, 6.7k and 6.8k with
// 4), where decoding and the write path, not the WAL sync, bound an import.
const importLanes = 1

// importWriter batches valid items into store writes without stream
// records, in importLanes lanes.
type importWriter struct {
	ctx    context.Context
	db     *store.DB
	table  *store.Table
	job    *importJob
	logErr func(key string, idx int64, msg string)

	lanes   [importLanes]lane
	started bool
	wg      sync.WaitGroup
	errMu   sync.Mutex
	err     error
}

// lane is one lane's batch being filled and the batches it writes.
type lane struct {
	muts []store.Mutation
	at   []itemAt
	seen map[string]int // encoded key → index in muts
	ch   chan batch
}

type itemAt struct {
	key string
	idx int64
}

type batch struct {
	muts []store.Mutation
	at   []itemAt
}

func (w *importWriter) start() {
	w.started = true
	for i := range w.lanes {
		ch := make(chan batch, 1)
		w.lanes[i].ch = ch
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for b := range ch {
				if w.failed() == nil {
					w.fail(w.write(b))
				}
			}
		}()
	}
}

func (w *importWriter) fail(err error) {
	if err == nil {
		return
	}
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
}

func (w *importWriter) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *importWriter) add(key string, idx int64, it attr.Item) error {
	if err := w.failed(); err != nil {
		return err
	}
	if attr.ItemTooDeep(it) {
		w.logErr(key, idx, "Nesting Levels have exceeded supported limits")
		return nil
	}
	if err := w.table.ValidateItem(it); err != nil {
		w.logErr(key, idx, err.Error())
		return nil
	}
	if !w.started {
		w.start()
	}
	k := w.table.KeyOf(it)
	var ek []byte
	for _, n := range w.table.KeyNames() {
		ek = attr.AppendKey(ek, k[n])
	}
	l := &w.lanes[crc32.ChecksumIEEE(ek)%importLanes]
	if l.seen == nil {
		l.seen = map[string]int{}
	}
	item := it
	m := store.Mutation{Table: w.table, Key: k, Apply: func(attr.Item) (attr.Item, error) { return item, nil }}
	if i, ok := l.seen[string(ek)]; ok { // a later line with the same key wins
		l.muts[i], l.at[i] = m, itemAt{key, idx}
		return nil
	}
	l.seen[string(ek)] = len(l.muts)
	l.muts = append(l.muts, m)
	l.at = append(l.at, itemAt{key, idx})
	if len(l.muts) >= importBatch {
		w.send(l)
	}
	return nil
}

// send hands a lane's batch to its goroutine (waiting while the previous
// one is still queued).
func (w *importWriter) send(l *lane) {
	b := batch{muts: l.muts, at: l.at}
	l.muts, l.at = nil, nil
	clear(l.seen)
	select {
	case l.ch <- b:
	case <-w.ctx.Done():
		w.fail(w.ctx.Err())
	}
}

// flush writes what the lanes hold and waits for every batch.
func (w *importWriter) flush() error {
	if !w.started {
		return w.failed()
	}
	for i := range w.lanes {
		if l := &w.lanes[i]; len(l.muts) > 0 && w.failed() == nil {
			w.send(l)
		}
		close(w.lanes[i].ch)
	}
	w.wg.Wait()
	return w.failed()
}

// write commits one batch; the items the table refuses at commit (a
// CanceledError's per-item errors) are logged and the rest written.
func (w *importWriter) write(b batch) error {
	muts := b.muts
	_, err := w.db.Write(w.ctx, store.WriteOptions{NoChangeLog: true}, muts...)
	var ce *store.CanceledError
	if errors.As(err, &ce) {
		var ok []store.Mutation
		for i, e := range ce.Errs {
			if e != nil {
				w.logErr(b.at[i].key, b.at[i].idx, e.Error())
			} else {
				ok = append(ok, muts[i])
			}
		}
		muts, err = ok, nil
		if len(ok) > 0 {
			_, err = w.db.Write(w.ctx, store.WriteOptions{NoChangeLog: true}, ok...)
		}
	}
	if err != nil {
		return err
	}
	w.job.importedItems.Add(int64(len(muts)))
	return nil
}
