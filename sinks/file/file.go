package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eddydb/eddy/outbox"
)

const (
	// DefaultMaxBytes is max_bytes's default: 64 MiB.
	DefaultMaxBytes = 64 << 20
	// tailChunk is how much of a file is read at a time when looking
	// backwards for a newline.
	tailChunk = 32 << 10
	// seqProbe is how much of the last line is read to parse its seq.
	seqProbe = 64
)

// Sink appends documents to a file; see the package doc. It is an
// outbox.Target, safe for concurrent use (Deliver calls are serialized).
type Sink struct {
	name     string
	path     string
	maxBytes int64
	maxFiles int
	log      *slog.Logger

	mu     sync.Mutex
	f      *os.File // nil until the first Deliver, and after a write error
	size   int64    // f's size
	last   uint64   // the seq of the last line in the files
	some   bool     // whether the files have a line (else last is 0)
	closed bool
}

// New returns the file sink of cfg (see the package doc for the URL and
// options). It checks the configuration only: the file is opened by the
// first Deliver.
func New(cfg outbox.Config, env outbox.Env) (*Sink, error) {
	path, err := filePath(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", cfg.Name, err)
	}
	s := &Sink{name: cfg.Name, path: path, maxBytes: DefaultMaxBytes, log: env.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	// s.log carries the sink's name (outbox.Env.Logger)
	var errs []error
	for k, v := range cfg.Options {
		switch k {
		case "max_bytes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("sink %s: max_bytes %q is not a positive number of bytes", cfg.Name, v))
			}
			s.maxBytes = n
		case "max_files":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("sink %s: max_files %q is not a number >= 0", cfg.Name, v))
			}
			s.maxFiles = n
		default:
			errs = append(errs, fmt.Errorf("sink %s: unknown option %q for a file sink (max_bytes, max_files)", cfg.Name, k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// filePath turns the sink's URL into a clean path.
func filePath(raw string) (string, error) {
	p := raw
	if strings.HasPrefix(raw, "file:") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("file URL %q: %w", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("file URL %q names host %q: want file:///path", raw, u.Host)
		}
		p = u.Path
	}
	if p == "" {
		return "", errors.New("a file sink needs a path (the URL)")
	}
	p = filepath.Clean(p)
	if strings.HasSuffix(raw, "/") || p == "." || p == string(filepath.Separator) {
		return "", fmt.Errorf("file path %q names a directory", raw)
	}
	return p, nil
}

// Path is the file the sink appends to.
func (s *Sink) Path() string { return s.path }

// Deliver appends one envelope line per document whose Seq is above the
// last one written, rotating as needed, fsyncs, and returns. Documents
// whose envelope cannot be made (an index Body that is not JSON) are
// rejected in a *outbox.Partial; the others are written. Any write error
// is returned as is (the outbox retries the batch, and the lines that did
// reach the file are skipped by seq then).
func (s *Sink) Deliver(ctx context.Context, docs []outbox.Doc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("sink %s: closed", s.name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	var (
		buf      []byte // lines not yet written to s.f
		line     []byte
		last     = s.last // seq of the last line in the files or buf
		some     = s.some
		rejected []int
		rejErr   error
	)
	for i := range docs {
		d := &docs[i]
		if some && d.Seq <= last {
			continue // already written (a redelivery)
		}
		var err error
		if line, err = AppendEnvelope(line[:0], d); err != nil {
			rejected = append(rejected, i)
			if rejErr == nil {
				rejErr = fmt.Errorf("sink %s: %w", s.name, err)
			}
			continue
		}
		line = append(line, '\n')
		if n := s.size + int64(len(buf)); n > 0 && n+int64(len(line)) > s.maxBytes {
			if err := s.write(buf, last); err != nil {
				return err
			}
			buf = buf[:0]
			if err := s.rotate(); err != nil {
				return err
			}
		}
		buf = append(buf, line...)
		last, some = d.Seq, true
	}
	if len(buf) > 0 {
		if err := s.write(buf, last); err != nil {
			return err
		}
	}
	if len(rejected) > 0 {
		return &outbox.Partial{Rejected: rejected, Err: rejErr}
	}
	return nil
}

// write appends buf, whose last line has seq last, and fsyncs. On error
// the file is closed, to be reopened (and its tail repaired) by the next
// Deliver.
func (s *Sink) write(buf []byte, last uint64) error {
	if len(buf) == 0 {
		return nil
	}
	_, err := s.f.Write(buf)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		s.drop()
		return fmt.Errorf("sink %s: write %s: %w", s.name, s.path, err)
	}
	s.size += int64(len(buf))
	s.last, s.some = last, true
	return nil
}

// drop closes the file after an error.
func (s *Sink) drop() {
	if err := s.f.Close(); err != nil {
		s.log.Warn("file sink: close after a write error", "path", s.path, "err", err)
	}
	s.f = nil
}

// open opens (or creates) the file, repairs a torn tail and finds the
// last seq written.
func (s *Sink) open() error {
	_, statErr := os.Stat(s.path)
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sink %s: directory %s does not exist (the file sink does not create directories): %w", s.name, filepath.Dir(s.path), err)
		}
		return fmt.Errorf("sink %s: %w", s.name, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			return s.openFailed(f, err)
		}
	}
	st, err := f.Stat()
	if err != nil {
		return s.openFailed(f, err)
	}
	size := st.Size()
	if size > 0 {
		if size, err = repairTail(f, size); err != nil {
			return s.openFailed(f, err)
		}
		if size < st.Size() {
			s.log.Warn("file sink: truncated a torn last line (a write cut short)", "path", s.path, "bytes", st.Size()-size)
		}
	}
	var last uint64
	var some bool
	if size > 0 {
		if last, some, err = lastSeq(f, size); err != nil {
			return s.openFailed(f, fmt.Errorf("%s: %w", s.path, err))
		}
	} else if last, some, err = s.rotatedLastSeq(); err != nil {
		return s.openFailed(f, err)
	}
	s.f, s.size, s.last, s.some = f, size, last, some
	return nil
}

func (s *Sink) openFailed(f *os.File, err error) error {
	if cerr := f.Close(); cerr != nil {
		s.log.Warn("file sink: close", "path", s.path, "err", cerr)
	}
	return fmt.Errorf("sink %s: open: %w", s.name, err)
}

// repairTail truncates f (of size bytes) after its last newline, when
// bytes follow it, and returns the new size.
func repairTail(f *os.File, size int64) (int64, error) {
	var b [1]byte
	if _, err := f.ReadAt(b[:], size-1); err != nil {
		return 0, err
	}
	if b[0] == '\n' {
		return size, nil
	}
	nl, err := lastNewline(f, size)
	if err != nil {
		return 0, err
	}
	if err := f.Truncate(nl + 1); err != nil {
		return 0, err
	}
	return nl + 1, f.Sync()
}

// lastSeq returns the seq of the last complete line of f's first size
// bytes; ok is false when there is none.
func lastSeq(f *os.File, size int64) (seq uint64, ok bool, err error) {
	end, err := lastNewline(f, size)
	if err != nil || end < 0 {
		return 0, false, err
	}
	start, err := lastNewline(f, end)
	if err != nil {
		return 0, false, err
	}
	start++
	probe := make([]byte, min(end-start, seqProbe))
	if _, err := f.ReadAt(probe, start); err != nil {
		return 0, false, err
	}
	seq, err = parseSeq(probe)
	if err != nil {
		return 0, false, fmt.Errorf("the last line (at byte %d) is not an envelope: %w", start, err)
	}
	return seq, true, nil
}

// lastNewline returns the offset of the last '\n' before end, or -1.
// It reads backwards tailChunk bytes at a time.
func lastNewline(f *os.File, end int64) (int64, error) {
	buf := make([]byte, tailChunk)
	for end > 0 {
		n := min(end, int64(len(buf)))
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return end - n + int64(i), nil
		}
		end -= n
	}
	return -1, nil
}

// rotated lists the numbers N of the rotated files PATH.N, ascending
// (newest first).
func (s *Sink) rotated() ([]int, error) {
	ents, err := os.ReadDir(filepath.Dir(s.path))
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(s.path) + "."
	var ns []int
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" || rest[0] == '0' {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

func (s *Sink) rotatedName(n int) string { return s.path + "." + strconv.Itoa(n) }

// rotatedLastSeq is the seq of the last line of the newest rotated file
// that has one (ok false when there is none).
func (s *Sink) rotatedLastSeq() (seq uint64, ok bool, err error) {
	ns, err := s.rotated()
	if err != nil {
		return 0, false, err
	}
	for _, n := range ns {
		if seq, ok, err = fileLastSeq(s.rotatedName(n)); err != nil || ok {
			return seq, ok, err
		}
	}
	return 0, false, nil
}

func fileLastSeq(path string) (seq uint64, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	seq, ok, err = lastSeq(f, st.Size())
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return seq, ok, err
}

// rotate closes the (fsynced) file, shifts the rotated files up by one,
// deleting those beyond max_files, renames the file PATH.1 and creates a
// new one. Renames go from the oldest down, so a crash midway leaves at
// worst a gap in the numbers, which the next rotation keeps.
func (s *Sink) rotate() error {
	f := s.f
	s.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("sink %s: close %s: %w", s.name, s.path, err)
	}
	ns, err := s.rotated()
	if err != nil {
		return fmt.Errorf("sink %s: rotate: %w", s.name, err)
	}
	if s.maxFiles > 0 && len(ns) >= s.maxFiles {
		for _, n := range ns[s.maxFiles-1:] {
			if err := os.Remove(s.rotatedName(n)); err != nil {
				return fmt.Errorf("sink %s: rotate: %w", s.name, err)
			}
		}
		ns = ns[:s.maxFiles-1]
	}
	for _, n := range slices.Backward(ns) {
		if err := os.Rename(s.rotatedName(n), s.rotatedName(n+1)); err != nil {
			return fmt.Errorf("sink %s: rotate: %w", s.name, err)
		}
	}
	if err := os.Rename(s.path, s.rotatedName(1)); err != nil {
		return fmt.Errorf("sink %s: rotate: %w", s.name, err)
	}
	nf, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("sink %s: rotate: %w", s.name, err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		if cerr := nf.Close(); cerr != nil {
			s.log.Warn("file sink: close", "path", s.path, "err", cerr)
		}
		return fmt.Errorf("sink %s: rotate: %w", s.name, err)
	}
	s.f, s.size = nf, 0
	s.log.Info("file sink: rotated", "path", s.path, "last_seq", s.last)
	return nil
}

// syncDir fsyncs a directory, making the creations and renames in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the file. Deliver fails afterwards. Idempotent.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

var _ outbox.Target = (*Sink)(nil)
