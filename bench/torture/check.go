package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// getJSON GETs an eddy-only JSON route, retrying net.ErrClosed (see
// clients) twice.
func (c *clients) getJSON(ctx context.Context, path string, v any) error {
	for attempt := 1; ; attempt++ {
		err := c.getJSONOnce(ctx, path, v)
		if err == nil || !errors.Is(err, net.ErrClosed) || attempt == 3 {
			return err
		}
	}
}

func (c *clients) getJSONOnce(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

type shardStatus struct {
	ShardID        string
	Position       string
	Finished       bool
	PendingRecords int
}

// checkpoints reads a mapping's shard positions (the route `eddy triggers
// show` uses).
func (c *clients) checkpoints(ctx context.Context, uuid string) ([]shardStatus, error) {
	var st struct{ Shards []shardStatus }
	err := c.getJSON(ctx, "/2015-03-31/event-source-mappings/"+url.PathEscape(uuid)+"/shards", &st)
	return st.Shards, err
}

func scanAll(ctx context.Context, c *dynamodb.Client, name string) ([]map[string]ddb.AttributeValue, error) {
	var out []map[string]ddb.AttributeValue
	var start map[string]ddb.AttributeValue
	for {
		page, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

// record is one stream record as read.
type record struct {
	shard    string
	seq      uint64
	event    string
	key      string
	old, new *item
}

// shardRead is one shard of the stream, read to its end.
type shardRead struct {
	id, parent string
	start, end uint64 // end 0 while open
	records    []record
}

// readStream reads every shard of the stream from TRIM_HORIZON, parents
// before children, and reports malformed records and sequence numbers out
// of order or repeated.
func readStream(ctx context.Context, c *dynamodbstreams.Client, arn string, bad func(string, ...any)) ([]*shardRead, error) {
	var shs []streamtypes.Shard
	var last *string
	for {
		d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: last})
		if err != nil {
			return nil, fmt.Errorf("DescribeStream: %w", err)
		}
		shs = append(shs, d.StreamDescription.Shards...)
		last = d.StreamDescription.LastEvaluatedShardId
		if last == nil {
			break
		}
	}
	byID := map[string]*shardRead{}
	children := map[string][]*shardRead{}
	var all []*shardRead
	for _, s := range shs {
		r := &shardRead{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)}
		if s.SequenceNumberRange != nil {
			r.start, _ = strconv.ParseUint(aws.ToString(s.SequenceNumberRange.StartingSequenceNumber), 10, 64)
			r.end, _ = strconv.ParseUint(aws.ToString(s.SequenceNumberRange.EndingSequenceNumber), 10, 64)
		}
		byID[r.id] = r
		all = append(all, r)
	}
	var roots []*shardRead
	for _, r := range all {
		if byID[r.parent] == nil {
			roots = append(roots, r)
		} else {
			children[r.parent] = append(children[r.parent], r)
		}
	}
	var order []*shardRead
	var visit func([]*shardRead)
	visit = func(l []*shardRead) {
		sort.Slice(l, func(i, j int) bool { return l[i].start < l[j].start })
		for _, r := range l {
			order = append(order, r)
			visit(children[r.id])
		}
	}
	visit(roots)
	seen := map[uint64]string{}
	for _, sh := range order {
		it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(sh.id),
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return nil, fmt.Errorf("GetShardIterator %s: %w", sh.id, err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				return nil, fmt.Errorf("GetRecords %s: %w", sh.id, err)
			}
			for _, r := range out.Records {
				rec := record{shard: sh.id, event: string(r.EventName)}
				if r.Dynamodb == nil {
					bad("stream: shard %s: a record without dynamodb", sh.id)
					continue
				}
				seqS := aws.ToString(r.Dynamodb.SequenceNumber)
				rec.seq, err = strconv.ParseUint(seqS, 10, 64)
				if err != nil {
					bad("stream: shard %s: sequence number %q", sh.id, seqS)
					continue
				}
				if k, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok {
					rec.key = k.Value
				}
				var pk string
				if pk, rec.old, err = fromStreamAV(r.Dynamodb.OldImage); err != nil {
					bad("stream: record %d (%s): OldImage: %v", rec.seq, pk, err)
				}
				if pk, rec.new, err = fromStreamAV(r.Dynamodb.NewImage); err != nil {
					bad("stream: record %d (%s): NewImage: %v", rec.seq, pk, err)
				}
				if n := len(sh.records); n > 0 && sh.records[n-1].seq >= rec.seq {
					bad("stream: shard %s: sequence number %d after %d (out of order or repeated)", sh.id, rec.seq, sh.records[n-1].seq)
				}
				if prev, dup := seen[rec.seq]; dup {
					bad("stream: sequence number %d twice (shards %s and %s)", rec.seq, prev, sh.id)
				}
				seen[rec.seq] = sh.id
				sh.records = append(sh.records, rec)
			}
			iter = out.NextShardIterator
			if len(out.Records) == 0 && sh.end == 0 {
				break // an open shard read to its current end: writers are paused
			}
		}
	}
	return order, nil
}

// checkStream compares every item's records, in lineage order, with the
// model's committed changes of that item: same count, same order, same
// images (each OldImage the previous NewImage: gapless).
func checkStream(order []*shardRead, m *model, bad func(string, ...any)) {
	per := map[string][]record{}
	for _, sh := range order {
		for _, r := range sh.records {
			per[r.key] = append(per[r.key], r)
		}
	}
	for k, recs := range per {
		if m.keys[k] == nil {
			bad("stream: %d records of key %q that no write touched", len(recs), k)
		}
	}
	keys := make([]string, 0, len(m.keys))
	for k := range m.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hist, recs := m.keys[k].hist, per[k]
		for i := 0; i < max(len(hist), len(recs)); i++ {
			if i >= len(recs) {
				h := hist[i]
				bad("stream: key %s: change %d of %d (write %s, acknowledged %v: %s -> %s) has no record (the item's %d records end there)",
					k, i+1, len(hist), h.w, h.acked, h.old, h.new, len(recs))
				break
			}
			r := recs[i]
			if i >= len(hist) {
				bad("stream: key %s: record %d (seq %d, %s %s -> %s) beyond the %d committed changes (a duplicate, or a write never committed)",
					k, i+1, r.seq, r.event, r.old, r.new, len(hist))
				break
			}
			h := hist[i]
			want := "MODIFY"
			if h.old == nil {
				want = "INSERT"
			} else if h.new == nil {
				want = "REMOVE"
			}
			if r.event != want || !same(r.old, h.old) || !same(r.new, h.new) {
				bad("stream: key %s: record %d (seq %d in %s) is %s %s -> %s, the model's change %d is write %s (acknowledged %v): %s %s -> %s",
					k, i+1, r.seq, r.shard, r.event, r.old, r.new, i+1, h.w, h.acked, want, h.old, h.new)
				break
			}
		}
	}
}

// checkCheckpoints: no mapping position beyond the records of its shard.
func checkCheckpoints(name string, st []shardStatus, order []*shardRead, bad func(string, ...any)) {
	byID := map[string]*shardRead{}
	for _, sh := range order {
		byID[sh.id] = sh
	}
	for _, s := range st {
		sh := byID[s.ShardID]
		if sh == nil {
			continue // trimmed
		}
		pos, err := strconv.ParseUint(s.Position, 10, 64)
		if err != nil {
			bad("checkpoint: mapping %s shard %s: position %q", name, s.ShardID, s.Position)
			continue
		}
		limit := sh.start
		if sh.end > limit {
			limit = sh.end
		}
		if n := len(sh.records); n > 0 && sh.records[n-1].seq > limit {
			limit = sh.records[n-1].seq
		}
		if pos > limit {
			bad("checkpoint: mapping %s shard %s at %d, ahead of the stream (last record %d, start %d, end %d)",
				name, s.ShardID, pos, lastSeq(sh), sh.start, sh.end)
		}
	}
}

func lastSeq(sh *shardRead) uint64 {
	if n := len(sh.records); n > 0 {
		return sh.records[n-1].seq
	}
	return 0
}

// waitCaughtUp waits until a mapping has no pending record on any shard,
// at most d; it returns the records still pending then (an error only
// when the server could not be asked).
func waitCaughtUp(ctx context.Context, c *clients, uuid string, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		st, err := c.checkpoints(ctx, uuid)
		if err != nil {
			return 0, err
		}
		pending := 0
		for _, s := range st {
			pending += s.PendingRecords
		}
		if pending == 0 || time.Now().After(deadline) {
			return pending, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkView compares the view table with a recomputation from the stream's
// INSERT records (the guest adds amount to total and 1 to orders of the
// customer per INSERT).
func checkView(ctx context.Context, c *clients, order []*shardRead, bad func(string, ...any)) error {
	want := map[string][2]int{}
	for _, sh := range order {
		for _, r := range sh.records {
			if r.event == "INSERT" && r.new != nil {
				w := want[r.new.Customer]
				want[r.new.Customer] = [2]int{w[0] + r.new.Amount, w[1] + 1}
			}
		}
	}
	items, err := scanAll(ctx, c.read, view)
	if err != nil {
		return fmt.Errorf("scan view: %w", err)
	}
	got := map[string][2]int{}
	for _, it := range items {
		pk, _ := it["pk"].(*ddb.AttributeValueMemberS)
		t, _ := it["total"].(*ddb.AttributeValueMemberN)
		o, _ := it["orders"].(*ddb.AttributeValueMemberN)
		if pk == nil || t == nil || o == nil {
			bad("view: malformed item %v", it)
			continue
		}
		tn, _ := strconv.Atoi(t.Value)
		on, _ := strconv.Atoi(o.Value)
		got[pk.Value] = [2]int{tn, on}
	}
	for k, w := range want {
		if got[k] != w {
			bad("view: customer %s has total %d over %d orders, the stream's INSERTs give %d over %d", k, got[k][0], got[k][1], w[0], w[1])
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			bad("view: customer %s (total %d, %d orders) has no INSERT in the stream", k, g[0], g[1])
		}
	}
	return nil
}

// dlqEntry is what the check keeps of a dead-letter entry.
type dlqEntry struct {
	records int
	seqs    []uint64
	vs      []string
}

type dlqCache map[uint64]*dlqEntry

// checkDLQ: the failing mapping's entries hold each poison record of the
// stream exactly once and nothing else (all of them once caught up); the
// view mapping has none.
func checkDLQ(ctx context.Context, c *clients, cache dlqCache, failUUID string, order []*shardRead, caughtUp bool, bad func(string, ...any)) error {
	var l struct {
		Entries []struct {
			ID      uint64 `json:"id"`
			Mapping string `json:"mapping"`
			Records int    `json:"records"`
		}
	}
	if err := c.getJSON(ctx, "/eddy/dlq/entries", &l); err != nil {
		return err
	}
	poisonSeqs := map[uint64]bool{}
	for _, sh := range order {
		for _, r := range sh.records {
			if r.new != nil && r.new.V == poison {
				poisonSeqs[r.seq] = true
			}
		}
	}
	held := map[uint64]uint64{} // seq -> entry
	for _, e := range l.Entries {
		if e.Mapping != failUUID {
			bad("dlq: entry %d of mapping %s, which never fails", e.ID, e.Mapping)
			continue
		}
		ce := cache[e.ID]
		if ce == nil || ce.records != e.Records {
			var full struct {
				Records []struct {
					Seq   uint64          `json:"seq,string"`
					Event json.RawMessage `json:"event"`
				} `json:"records"`
			}
			if err := c.getJSON(ctx, "/eddy/dlq/entries/"+strconv.FormatUint(e.ID, 10), &full); err != nil {
				return err
			}
			ce = &dlqEntry{records: e.Records}
			for _, r := range full.Records {
				var ev struct {
					Dynamodb struct {
						SequenceNumber string
						NewImage       map[string]map[string]string
					} `json:"dynamodb"`
				}
				if err := json.Unmarshal(r.Event, &ev); err != nil {
					bad("dlq: entry %d: record %d: %v", e.ID, r.Seq, err)
				}
				if ev.Dynamodb.SequenceNumber != fmt.Sprintf("%021d", r.Seq) {
					bad("dlq: entry %d: record seq %d but its event says %q", e.ID, r.Seq, ev.Dynamodb.SequenceNumber)
				}
				ce.seqs = append(ce.seqs, r.Seq)
				ce.vs = append(ce.vs, ev.Dynamodb.NewImage["v"]["S"])
			}
			if len(ce.seqs) != e.Records {
				bad("dlq: entry %d lists %d records, holds %d", e.ID, e.Records, len(ce.seqs))
			}
			cache[e.ID] = ce
		}
		for i, s := range ce.seqs {
			if prev, dup := held[s]; dup {
				bad("dlq: record %d held twice (entries %d and %d)", s, prev, e.ID)
			}
			held[s] = e.ID
			if !poisonSeqs[s] {
				bad("dlq: entry %d holds record %d (v=%q), not a poison record of the stream", e.ID, s, ce.vs[i])
			}
		}
	}
	if caughtUp {
		var missing []uint64
		for s := range poisonSeqs {
			if _, ok := held[s]; !ok {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
			bad("dlq: %d poison records not dead-lettered after catch-up, first %d", len(missing), missing[0])
		}
	}
	return nil
}
