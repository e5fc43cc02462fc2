package dlq

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// Sentinel errors (classify with errors.Is).
var (
	ErrNotFound       = errors.New("dlq: no such entry")
	ErrAlreadyDone    = errors.New("dlq: entry was already redriven successfully")
	ErrBusy           = errors.New("dlq: entry is being redriven")
	ErrNoRedriver     = errors.New("dlq: redrive is not available")
	ErrBadDestination = errors.New("dlq: unsupported destination")
	ErrClosed         = errors.New("dlq: closed")

	// A redrive refused before it began (the entry is left untouched):
	// ErrNoMapping, no such event source mapping (the one asked for, or
	// the entry's own, deleted since); ErrNoFunction, the mapping's
	// function does not exist; ErrWrongMapping, the mapping reads the
	// stream of another table than the entry's records came from;
	// ErrCannotRun, the function cannot run (reserved concurrency 0, a
	// mapping whose stored filter does not compile).
	ErrNoMapping    = errors.New("dlq: no such event source mapping")
	ErrNoFunction   = errors.New("dlq: the mapping's function does not exist")
	ErrWrongMapping = errors.New("dlq: the mapping reads another table's stream")
	ErrCannotRun    = errors.New("dlq: the mapping's function cannot run")
)

// Options configure a Store. Zero values take the documented defaults.
type Options struct {
	// Region and Account name the built-in store's ARN. Defaults
	// "us-east-1", "000000000000".
	Region, Account string
	// Retention is how long entries are kept. Default 14 days. Entries
	// older than this are deleted by the background trimmer whatever
	// their delivery or redrive state.
	Retention time.Duration
	// TrimInterval is how often the trimmer runs. Default 1 minute.
	TrimInterval time.Duration
	// PollInterval is how often the outbox is scanned for pending
	// deliveries when nothing wakes it. Default 1s.
	PollInterval time.Duration
	// Backoff is the first wait after a failed send to a destination; it
	// doubles per consecutive failure up to MaxBackoff. Defaults 200ms, 30s.
	Backoff, MaxBackoff time.Duration
	// SendTimeout bounds one send. Default 10s.
	SendTimeout time.Duration
	// AWSEndpoint, when set, is the endpoint of every SQS, SNS and S3
	// call (a compatible local server such as moto; S3 then uses path
	// style). Default: $EDDY_DLQ_AWS_ENDPOINT, else the SDK's own
	// resolution (AWS_ENDPOINT_URL..., real AWS).
	AWSEndpoint string
	// AWSCredentials, when set, is the aws.CredentialsProvider
	// (aws-sdk-go-v2) that signs the calls. Default: the SDK's chain. It is
	// typed any so that dlq does not import the SDK (dlq/destinations
	// does).
	AWSCredentials any
	// NATSURL is the server of arn:eddy:nats destinations. Default
	// $EDDY_DLQ_NATS_URL, else nats://127.0.0.1:4222.
	NATSURL string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Destinations builds the senders of external destinations from the
	// options (defaults applied); the server passes destinations.New.
	// Default nil: entries for SQS, SNS, S3 or NATS stay pending (their
	// sends fail and are retried) and only the built-in store keeps them.
	Destinations func(Options) Senders
	// Logger is where background failures are logged (a recovered
	// panic); nil discards.
	Logger *slog.Logger
}

func (o *Options) ensureDefaults() {
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.Account == "" {
		o.Account = arn.DefaultAccount
	}
	if o.Retention == 0 {
		o.Retention = 14 * 24 * time.Hour
	}
	if o.TrimInterval == 0 {
		o.TrimInterval = time.Minute
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.Backoff == 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = 10 * time.Second
	}
	if o.AWSEndpoint == "" {
		o.AWSEndpoint = os.Getenv("EDDY_DLQ_AWS_ENDPOINT")
	}
	if o.NATSURL == "" {
		o.NATSURL = os.Getenv("EDDY_DLQ_NATS_URL")
	}
	if o.NATSURL == "" {
		o.NATSURL = "nats://127.0.0.1:4222"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Retention < 0 || o.TrimInterval < 0 || o.PollInterval < 0 || o.SendTimeout < 0 {
		errs = append(errs, errors.New("dlq: durations must not be negative"))
	}
	if o.Backoff < 0 || o.MaxBackoff < o.Backoff {
		errs = append(errs, errors.New("dlq: need 0 <= Backoff <= MaxBackoff"))
	}
	return errors.Join(errs...)
}

// Store is the dead-letter store: one entry per discarded batch, the
// outbox of external destinations, and the record of redrives. It owns
// the key space store.SpaceDLQ (0x30; the keys it builds leave that byte
// to the handle):
//
//	0x30 'e' <id:8 be>   → Entry (JSON)             one per discarded batch
//	0x30 'o' <id:8 be>   → destination ARN          pending external delivery
//	0x30 'n'             → <id:8 be>                highest ID ever assigned
//
//	┌────┬─────┬───────────────┐
//	│0x30│ 'e' │ id (u64 be)   │ → {"id":..,"mapping":..,"record":{Lambda's shape},
//	└────┴─────┴───────────────┘    "records":[{"seq":..,"arrivalMs":..,"event":{..}}],
//	                                 "lastError":..,"logTail":..,"delivery":..,"redrive":..}
//
// Invariants:
//
//  1. An entry is written only by Append, into the caller's batch, which
//     also holds the checkpoint that skips its records: the entry and the
//     skip commit together or not at all (never lost, never twice).
//  2. An 'o' key exists exactly while the entry's external destination
//     has not acknowledged it; it is deleted (and Delivery.Delivered set)
//     in one synced batch after the send succeeded.
//  3. IDs increase; 'n' keeps them from being reused after a purge.
//
// A Store is safe for concurrent use. Open, then Start the background work
// (outbox, trimmer); Close stops it. Redrive is not the store's: it is an
// operation of package mappings built on BeginRedrive.
type Store struct {
	opts Options
	db   store.KeySpace // store.SpaceDLQ
	next atomic.Uint64

	mu   sync.Mutex
	busy map[uint64]bool // entries being redriven or delivered

	wake  chan struct{}
	ctx   context.Context
	g     *lifecycle.Group
	dests Senders
}

const (
	keyEntry  = 'e'
	keyOutbox = 'o'
	keyHigh   = 'n'
)

func entryKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{keyEntry}, id)
}

func outboxKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{keyOutbox}, id)
}

func span(kind byte) (lo, hi []byte) {
	return []byte{kind}, []byte{kind + 1}
}

// Open loads the store's state from its key space of db.
func Open(db *store.DB, opts Options) (*Store, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, db: db.KeySpace(store.SpaceDLQ), busy: map[uint64]bool{}, wake: make(chan struct{}, 1)}
	s.g = lifecycle.New(context.Background(), "dlq", opts.Logger)
	s.ctx = s.g.Context()
	s.dests = noSenders{}
	if opts.Destinations != nil {
		s.dests = opts.Destinations(opts)
	}
	var high uint64
	if v, ok, err := s.db.Get([]byte{keyHigh}); err != nil {
		return nil, err
	} else if ok && len(v) == 8 {
		high = binary.BigEndian.Uint64(v)
	}
	lo, hi := span(keyEntry)
	it, err := s.db.NewIter(lo, hi)
	if err != nil {
		return nil, err
	}
	if it.Last() && len(it.Key()) == 9 {
		high = max(high, binary.BigEndian.Uint64(it.Key()[1:]))
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	s.next.Store(high)
	if err := s.recoverInterrupted(); err != nil {
		return nil, err
	}
	return s, nil
}

// recoverInterrupted marks every entry left "running" (a redrive cut short
// by a crash: no redrive runs before Open returns) as RedriveInterrupted,
// in one synced batch. Its records are not replayed: those the function
// processed were removed from the entry with the function's writes, and
// the rest wait for an explicit redrive. The function's invocation in
// flight at the crash may have run without its writes committing; its
// records are kept and are sent again by the next redrive (at-least-once,
// as for a mapping's own batches).
func (s *Store) recoverInterrupted() error {
	lo, hi := span(keyEntry)
	it, err := s.db.NewIter(lo, hi)
	if err != nil {
		return err
	}
	var fixed []*Entry
	for it.First(); it.Valid(); it.Next() {
		if !bytes.Contains(it.Value(), []byte(`"state":"running"`)) {
			continue
		}
		var e Entry
		if err := json.Unmarshal(it.Value(), &e); err != nil {
			it.Close()
			return fmt.Errorf("dlq: decode entry %x: %w", it.Key(), err)
		}
		if e.Redrive != nil && e.Redrive.State == RedriveRunning {
			e.Redrive.State = RedriveInterrupted
			e.Redrive.LastError = InterruptedError
			if len(e.Records) == 0 {
				// Every record was processed; only the final save was lost.
				e.Redrive.State, e.Redrive.LastError = RedriveDone, ""
			}
			e.Redrive.Finished = s.opts.Now().UTC()
			fixed = append(fixed, &e)
		}
	}
	if err := it.Close(); err != nil || len(fixed) == 0 {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, e := range fixed {
		if err := s.put(b, e); err != nil {
			return err
		}
	}
	return b.Commit(true)
}

// Options returns the store's options with defaults applied (the
// environment variables resolved).
func (s *Store) Options() Options { return s.opts }

// BuiltinARN is the ARN of the built-in store, a valid OnFailure
// destination: arn:eddy:dlq:<region>:<account>:default.
func (s *Store) BuiltinARN() string {
	return "arn:eddy:dlq:" + s.opts.Region + ":" + s.opts.Account + ":default"
}

// Append adds e to b (the caller's batch, which commits the checkpoint
// that skips e's records) and assigns e.ID and e.Created. An external
// destination gets an outbox key in the same batch. Call Notify after the
// batch committed to send it at once. If the batch is discarded the ID is
// simply skipped.
func (s *Store) Append(b *store.Batch, e *Entry) error {
	e.ID = s.next.Add(1)
	e.Created = s.opts.Now().UTC()
	if e.Destination != "" && !IsBuiltin(e.Destination) {
		e.Delivery = &Delivery{Destination: e.Destination}
		if err := s.db.Set(b, outboxKey(e.ID), []byte(e.Destination)); err != nil {
			return err
		}
	}
	return s.put(b, e)
}

func (s *Store) put(b *store.Batch, e *Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.Set(b, entryKey(e.ID), v)
}

// Notify wakes the outbox (after a batch with new entries committed).
func (s *Store) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Get returns one entry.
func (s *Store) Get(id uint64) (*Entry, error) {
	v, ok, err := s.db.Get(entryKey(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("dlq: decode entry %d: %w", id, err)
	}
	return &e, nil
}

// Entries returns the entries of a mapping ("" for all), oldest first.
func (s *Store) Entries(mapping string) ([]*Entry, error) {
	lo, hi := span(keyEntry)
	it, err := s.db.NewIter(lo, hi)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*Entry
	for it.First(); it.Valid(); it.Next() {
		var e Entry
		if err := json.Unmarshal(it.Value(), &e); err != nil {
			return nil, fmt.Errorf("dlq: decode entry %x: %w", it.Key(), err)
		}
		if mapping == "" || e.Mapping == mapping {
			out = append(out, &e)
		}
	}
	return out, it.Error()
}

// List returns summaries of the entries of a mapping ("" for all).
func (s *Store) List(mapping string) ([]Summary, error) {
	es, err := s.Entries(mapping)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(es))
	for i, e := range es {
		out[i] = e.summary()
	}
	return out, nil
}

// Delete removes entries (and their pending deliveries): the given ID, or
// with id 0 every entry of mapping ("" for all). It returns how many were
// removed. Entries being redriven are skipped.
func (s *Store) Delete(id uint64, mapping string) (int, error) {
	var ids []uint64
	if id != 0 {
		if _, err := s.Get(id); err != nil {
			return 0, err
		}
		ids = []uint64{id}
	} else {
		es, err := s.Entries(mapping)
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			ids = append(ids, e.ID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	n := 0
	for _, id := range ids {
		if s.busy[id] {
			continue
		}
		_ = s.db.Delete(b, entryKey(id))
		_ = s.db.Delete(b, outboxKey(id))
		n++
	}
	_ = s.db.Set(b, []byte{keyHigh}, binary.BigEndian.AppendUint64(nil, s.next.Load()))
	return n, b.Commit(true)
}

// trim deletes entries older than Retention (IDs follow creation order, so
// it stops at the first young one).
func (s *Store) trim() error {
	cut := s.opts.Now().Add(-s.opts.Retention)
	lo, hi := span(keyEntry)
	it, err := s.db.NewIter(lo, hi)
	if err != nil {
		return err
	}
	var old []uint64
	for it.First(); it.Valid(); it.Next() {
		var e struct {
			Created time.Time `json:"created"`
		}
		if json.Unmarshal(it.Value(), &e) == nil && !e.Created.Before(cut) {
			break
		}
		old = append(old, binary.BigEndian.Uint64(it.Key()[1:]))
	}
	if err := it.Close(); err != nil || len(old) == 0 {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, id := range old {
		if s.busy[id] {
			continue
		}
		_ = s.db.Delete(b, entryKey(id))
		_ = s.db.Delete(b, outboxKey(id))
	}
	return b.Commit(true)
}

// acquire marks an entry busy; false when it already is.
func (s *Store) acquire(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		return false
	}
	s.busy[id] = true
	return true
}

func (s *Store) release(id uint64) {
	s.mu.Lock()
	delete(s.busy, id)
	s.mu.Unlock()
}

// Start runs the outbox and the trimmer in the background.
func (s *Store) Start() {
	s.g.Go("outbox", func(context.Context) { s.outboxLoop() })
	s.g.Go("trimmer", func(context.Context) {
		t := time.NewTicker(s.opts.TrimInterval)
		defer t.Stop()
		for {
			_ = s.trim()
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// Close stops the background work (a send in flight is abandoned and
// repeated after restart) and closes destination clients. Idempotent.
func (s *Store) Close() error {
	s.g.Stop()
	s.dests.Close()
	return nil
}

// IsBuiltin reports whether arn names the built-in store.
func IsBuiltin(arn string) bool { return strings.HasPrefix(arn, "arn:eddy:dlq:") }
