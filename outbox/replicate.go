package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/lifecycle"
)

// Replication is a table replicated into a sink without code: an event
// source mapping whose function is the built-in eddy.replicate (Replicate)
// turns each change into a document of the sink.
type Replication struct {
	// UUID is the event source mapping's.
	UUID  string `json:"UUID"`
	Table string `json:"Table"`
	// Region is the table's region; empty: the server's default.
	Region string `json:"Region,omitempty"`
	Sink   string `json:"Sink"`
	// Fields, when set, are the top-level attributes a document keeps
	// (the key attributes always stay).
	Fields  []string  `json:"Fields,omitempty"`
	Created time.Time `json:"Created"`
	// KeyNames are the table's key attributes (the document ID).
	KeyNames []string `json:"KeyNames,omitempty"`
	// Snapshot, when set, is the initial copy of the table's items, made
	// beside the stream (see Snapshot).
	Snapshot *Snapshot `json:"Snapshot,omitempty"`
}

// Snapshot is a replication's initial copy of the items that were in the
// table before it began (most of which no stream record will ever carry
// again). The replication's mapping starts at LATEST; the snapshot scans
// the table once the stream's writes up to Version have settled, and
// writes each item as an index document of version Version, the stream's
// high-water mark when the replication began. Every change the mapping
// delivers has a greater sequence number, so it wins over the snapshot's
// document whichever arrives first, and an item the scan saw already
// changed gets that change again from the stream (or has it already):
// either way the index ends with each item's latest state. The scan's
// position commits with the documents of each page, so a restart resumes
// it exactly.
type Snapshot struct {
	Version uint64          `json:"Version"`
	Next    json.RawMessage `json:"Next,omitempty"`
	Items   int64           `json:"Items"`
	Done    bool            `json:"Done"`
}

// tagReplication keys a Replication by UUID ('p' uuid).
const tagReplication = 'p'

func replicationKey(uuid string) []byte { return append([]byte{tagReplication}, uuid...) }

// ErrInUse is Delete's error for a sink that replications still feed.
var ErrInUse = errors.New("outbox: the sink is in use")

// PutReplication stores r (before its mapping is enabled).
func (o *Outbox) PutReplication(r Replication) error {
	if o.get(r.Sink) == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, r.Sink)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b := o.ks.NewBatch()
	defer b.Close()
	if err := o.ks.Set(b, replicationKey(r.UUID), v); err != nil {
		return err
	}
	return b.Commit(true)
}

// DeleteReplication forgets replication uuid and stops its snapshot (its
// mapping is the caller's to delete).
func (o *Outbox) DeleteReplication(uuid string) error {
	o.stopSnapshot(uuid)
	b := o.ks.NewBatch()
	defer b.Close()
	if err := o.ks.Delete(b, replicationKey(uuid)); err != nil {
		return err
	}
	return b.Commit(true)
}

// Replications returns every replication, by UUID.
func (o *Outbox) Replications() ([]Replication, error) {
	var out []Replication
	err := o.ks.Scan([]byte{tagReplication}, []byte{tagReplication + 1}, func(_, v []byte) error {
		var r Replication
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

func (o *Outbox) replication(uuid string) (*Replication, error) {
	v, ok, err := o.ks.Get(replicationKey(uuid))
	if err != nil || !ok {
		return nil, err
	}
	var r Replication
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// streamEvent is the part of a DynamoDB stream event Replicate reads.
type streamEvent struct {
	Records []struct {
		EventName      string `json:"eventName"`
		EventSourceARN string `json:"eventSourceARN"`
		DynamoDB       struct {
			Keys           map[string]json.RawMessage `json:"Keys"`
			NewImage       map[string]json.RawMessage `json:"NewImage"`
			SequenceNumber string                     `json:"SequenceNumber"`
		} `json:"dynamodb"`
	} `json:"Records"`
}

// Replicate is the built-in handler eddy.replicate: for replication uuid,
// each INSERT or MODIFY record becomes an index document of the item's new
// image (plain JSON: S as strings, N as exact JSON numbers, B as base64,
// sets as arrays), each REMOVE a delete, with the item's key as the ID
// ("name=value" pairs sorted by name, joined by "|") and the record's
// sequence number as the version. The documents go into the invocation's
// buffer and commit with the checkpoint.
func (o *Outbox) Replicate(ctx context.Context, uuid, _ string, payload []byte) ([]byte, error) {
	buf := BufferFrom(ctx)
	if buf == nil {
		return nil, errors.New("eddy.replicate runs only in an event source mapping")
	}
	r, err := o.replication(uuid)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("no replication is stored for mapping %s", uuid)
	}
	if o.get(r.Sink) == nil {
		return nil, fmt.Errorf("sink %s was removed", r.Sink)
	}
	var ev streamEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("the stream event: %v", err)
	}
	var keep map[string]bool
	if len(r.Fields) > 0 {
		keep = map[string]bool{}
		for _, f := range r.Fields {
			keep[f] = true
		}
	}
	for _, rec := range ev.Records {
		ddb := &rec.DynamoDB
		v, err := strconv.ParseUint(ddb.SequenceNumber, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sequence number %q: %v", ddb.SequenceNumber, err)
		}
		id, err := keyID(ddb.Keys)
		if err != nil {
			return nil, err
		}
		d := Doc{ID: id, Version: v, Table: r.Table}
		switch rec.EventName {
		case "REMOVE":
			d.Op = OpDelete
		case "INSERT", "MODIFY":
			if ddb.NewImage == nil {
				return nil, errors.New("the stream has no new images: replication needs StreamViewType NEW_IMAGE or NEW_AND_OLD_IMAGES")
			}
			d.Op = OpIndex
			var b bytes.Buffer
			if err := plainItem(&b, ddb.NewImage, keep, ddb.Keys); err != nil {
				return nil, err
			}
			d.Body = b.Bytes()
		default:
			continue
		}
		if err := buf.add(r.Sink, d); err != nil {
			return nil, err
		}
	}
	return []byte("null"), nil
}

// keyID renders a key as "name=value" pairs sorted by name, joined by "|".
func keyID(keys map[string]json.RawMessage) (string, error) {
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	for i, n := range names {
		var av map[string]any
		if err := json.Unmarshal(keys[n], &av); err != nil {
			return "", fmt.Errorf("key attribute %s: %v", n, err)
		}
		if i > 0 {
			sb.WriteByte('|')
		}
		sb.WriteString(n)
		sb.WriteByte('=')
		for _, v := range av {
			if s, ok := v.(string); ok {
				sb.WriteString(s) // S, N, and B (already base64 in DynamoDB JSON)
			}
		}
	}
	return sb.String(), nil
}

// plainItem writes a DynamoDB JSON item as plain JSON, keeping only the
// attributes in keep (and the key attributes) when keep is not nil.
func plainItem(b *bytes.Buffer, item map[string]json.RawMessage, keep map[string]bool, keys map[string]json.RawMessage) error {
	names := make([]string, 0, len(item))
	for n := range item {
		if keep == nil || keep[n] || keys[n] != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteByte(':')
		if err := plainValue(b, item[n]); err != nil {
			return fmt.Errorf("attribute %s: %v", n, err)
		}
	}
	b.WriteByte('}')
	return nil
}

// plainValue writes one DynamoDB JSON attribute value as plain JSON.
func plainValue(b *bytes.Buffer, raw json.RawMessage) error {
	var av map[string]json.RawMessage
	if err := json.Unmarshal(raw, &av); err != nil {
		return err
	}
	if len(av) != 1 {
		return fmt.Errorf("an attribute value has one type, not %d", len(av))
	}
	for typ, v := range av {
		switch typ {
		case "S", "B", "BOOL", "SS", "BS":
			// A JSON string (B: base64), true/false, or an array of
			// strings: copied, compacted.
			return json.Compact(b, v)
		case "NULL":
			b.WriteString("null")
		case "N":
			return plainNumber(b, v)
		case "M":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			return plainItem(b, m, nil, nil)
		case "L":
			return plainList(b, v, plainValue)
		case "NS":
			return plainList(b, v, plainNumber)
		default:
			return fmt.Errorf("unknown attribute type %q", typ)
		}
	}
	return nil
}

// plainList writes a JSON array of DynamoDB values (L) or numbers (NS),
// each through elem.
func plainList(b *bytes.Buffer, v json.RawMessage, elem func(*bytes.Buffer, json.RawMessage) error) error {
	var l []json.RawMessage
	if err := json.Unmarshal(v, &l); err != nil {
		return err
	}
	b.WriteByte('[')
	for i, x := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := elem(b, x); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// plainNumber writes a DynamoDB number (a JSON string of up to 38 digits)
// as an exact JSON number; a form JSON cannot hold as a number stays a
// string.
func plainNumber(b *bytes.Buffer, v json.RawMessage) error {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return err
	}
	if isJSONNumber(s) {
		b.WriteString(s)
	} else {
		b.Write(v)
	}
	return nil
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && json.Valid([]byte(s))
}

// ScanPage is one page of a table, read for a snapshot: items in DynamoDB
// JSON, and the key to continue from (nil after the last page).
type ScanPage struct {
	Items []map[string]json.RawMessage
	Next  json.RawMessage
}

// StartSnapshot runs replication uuid's snapshot in the background, if it
// has one that is not done (Open resumes them; the server starts new
// ones). Its progress is in Replications().
func (o *Outbox) StartSnapshot(uuid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.snapshots[uuid] != nil || o.opts.ScanTable == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.snapshots[uuid] = cancel
	o.g.Go("snapshot "+uuid, func(context.Context) {
		defer func() {
			o.mu.Lock()
			delete(o.snapshots, uuid)
			o.mu.Unlock()
			cancel()
		}()
		o.snapshot(ctx, uuid)
	})
}

// stopSnapshot cancels replication uuid's snapshot, if running.
func (o *Outbox) stopSnapshot(uuid string) {
	o.mu.Lock()
	cancel := o.snapshots[uuid]
	o.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (o *Outbox) snapshot(ctx context.Context, uuid string) {
	log := o.log.With("replication", uuid)
	fails := &lifecycle.Failures{Log: log, What: "replication snapshot", Level: slog.LevelWarn}
	r, err := o.replication(uuid)
	if err != nil || r == nil || r.Snapshot == nil || r.Snapshot.Done {
		fails.Report(err)
		return
	}
	if o.opts.Settled != nil {
		if err := o.opts.Settled(ctx, r.Snapshot.Version); err != nil {
			return
		}
	}
	log.Info("replication snapshot started", "table", r.Table, "sink", r.Sink, "version", r.Snapshot.Version, "resumed_after", r.Snapshot.Items)
	var keep map[string]bool
	if len(r.Fields) > 0 {
		keep = map[string]bool{}
		for _, f := range r.Fields {
			keep[f] = true
		}
	}
	delay := time.Duration(0)
	for !r.Snapshot.Done {
		if delay > 0 && !lifecycle.Sleep(ctx, delay) {
			return
		}
		err := o.snapshotPage(ctx, r, keep)
		if ctx.Err() != nil {
			return
		}
		fails.Report(err)
		if err != nil {
			delay = min(max(2*delay, o.opts.RetryBackoff), o.opts.MaxRetryBackoff)
			continue
		}
		delay = 0
	}
	log.Info("replication snapshot done", "table", r.Table, "sink", r.Sink, "items", r.Snapshot.Items)
}

// snapshotPage copies one page of the table into the sink, committing the
// documents and the scan's new position together; r is updated on success.
func (o *Outbox) snapshotPage(ctx context.Context, r *Replication, keep map[string]bool) error {
	page, err := o.opts.ScanTable(ctx, r.Region, r.Table, r.Snapshot.Next)
	if err != nil {
		return err
	}
	buf := NewBuffer()
	for _, it := range page.Items {
		keys := make(map[string]json.RawMessage, len(r.KeyNames))
		for _, k := range r.KeyNames {
			keys[k] = it[k]
		}
		id, err := keyID(keys)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := plainItem(&b, it, keep, keys); err != nil {
			return err
		}
		if err := buf.add(r.Sink, Doc{Op: OpIndex, ID: id, Version: r.Snapshot.Version, Table: r.Table, Body: b.Bytes()}); err != nil {
			return err
		}
	}
	if err := o.WaitRoom(ctx, buf, nil); err != nil {
		return err
	}
	next := *r
	snap := *r.Snapshot
	next.Snapshot = &snap
	snap.Next = page.Next
	snap.Items += int64(len(page.Items))
	snap.Done = len(page.Next) == 0 || string(page.Next) == "null"
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if cur, err := o.replication(r.UUID); err != nil || cur == nil {
		if err == nil {
			err = fmt.Errorf("replication %s was removed", r.UUID)
		}
		return err
	}
	b := o.ks.NewBatch()
	defer b.Close()
	st, err := o.Stage(b, buf)
	if err == nil {
		err = o.ks.Set(b, replicationKey(r.UUID), v)
	}
	if err == nil {
		err = b.Commit(true)
	}
	st.Done(err)
	if err != nil {
		return err
	}
	*r = next
	return nil
}
