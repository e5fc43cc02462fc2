package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// table is one table's relay: it walks the table's streams and their
// shards parents first, and runs one shardPub per shard whose parent is
// finished (as mappings walk a stream).
type table struct {
	r   *Relay
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	pos       map[string]*position // by shard ID: committed positions
	tot       totals
	running   map[string]*shardPub
	failing   bool
	lastErr   string
	lastErrAt time.Time
	noStream  bool
	trimLog   bool // the trimmed warning was logged
	fails     *lifecycle.Failures
}

func (r *Relay) start(cfg Config) (*table, error) {
	t := &table{r: r, cfg: cfg, log: r.lg.With("table", cfg.Table), pos: map[string]*position{},
		running: map[string]*shardPub{}, done: make(chan struct{})}
	t.fails = &lifecycle.Failures{Log: t.log, What: "relay publishing", Level: slog.LevelWarn}
	lo, hi := positionSpan(cfg.Table)
	err := r.ks.Scan(lo, hi, func(k, v []byte) error {
		var p position
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("relay %s: corrupt position: %v", cfg.Table, err)
		}
		t.pos[string(k[len(lo):])] = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v, ok, err := r.ks.Get(totalsKey(cfg.Table)); err != nil {
		return nil, err
	} else if ok {
		if err := json.Unmarshal(v, &t.tot); err != nil {
			return nil, fmt.Errorf("relay %s: corrupt totals: %v", cfg.Table, err)
		}
	}
	t.trimLog = len(t.tot.Trimmed) > 0
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if !r.g.Go("relay "+cfg.Table, func(context.Context) { t.loop() }) {
		close(t.done)
	}
	return t, nil
}

func (t *table) stop() {
	t.cancel()
	<-t.done
}

type shardEnd struct {
	id       string
	finished bool
}

// loop starts a publisher for every shard whose parent is finished, until
// the relay stops.
func (t *table) loop() {
	defer close(t.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	fin := make(chan shardEnd)
	for {
		all := t.walk()
		t.mu.Lock()
		t.noStream = len(all) == 0
		t.mu.Unlock()
		for _, st := range all {
			known := map[string]bool{}
			for _, sh := range st.shards {
				known[sh.ID] = true
			}
			for _, sh := range st.shards {
				t.mu.Lock()
				p := t.pos[sh.ID]
				_, run := t.running[sh.ID]
				parentDone := true
				if sh.ParentID != "" && known[sh.ParentID] {
					pp := t.pos[sh.ParentID]
					parentDone = pp != nil && pp.Done
				}
				start := !run && (p == nil || !p.Done) && parentDone
				var sp *shardPub
				if start {
					sp = newShardPub(t, st.arn, sh, shardOrigin(sh, st.shards))
					t.running[sh.ID] = sp
				}
				t.mu.Unlock()
				if sp == nil {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						if p := recover(); p != nil {
							lifecycle.LogPanic(t.log, "relay shard "+sp.sh.ID, p)
						}
					}()
					ok := sp.run(t.ctx)
					select {
					case fin <- shardEnd{sp.sh.ID, ok}:
					case <-t.ctx.Done():
					}
				}()
			}
		}
		t.forget(all)
		select {
		case <-t.ctx.Done():
			return
		case e := <-fin:
			t.mu.Lock()
			delete(t.running, e.id)
			t.mu.Unlock()
		case <-time.After(t.r.opts.PollInterval):
		}
	}
}

type streamShards struct {
	arn    string
	shards []shards.Info
}

// walk lists the table's streams (oldest first) and their shards, parents
// first.
func (t *table) walk() []streamShards {
	var out []streamShards
	infos := t.r.log.Streams(t.cfg.Table)
	sort.SliceStable(infos, func(i, j int) bool { return infos[i].Created.Before(infos[j].Created) })
	for _, si := range infos {
		shs, err := t.r.log.Shards(si.Arn)
		if err != nil {
			continue // dropped meanwhile
		}
		out = append(out, streamShards{si.Arn, shs})
	}
	return out
}

// forget drops the positions of shards the log no longer has (past
// retention), counting their records in the totals.
func (t *table) forget(all []streamShards) {
	live := map[string]bool{}
	for _, st := range all {
		for _, sh := range st.shards {
			live[sh.ID] = true
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []string
	for id := range t.pos {
		if !live[id] && t.running[id] == nil {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	tot := t.tot
	b := t.r.ks.NewBatch()
	defer b.Close()
	var errs []error
	for _, id := range gone {
		tot.Retired += t.pos[id].Published
		errs = append(errs, t.r.ks.Delete(b, positionKey(t.cfg.Table, id)))
	}
	v, _ := json.Marshal(tot)
	errs = append(errs, t.r.ks.Set(b, totalsKey(t.cfg.Table), v))
	if err := errors.Join(errs...); err != nil || b.Commit(true) != nil {
		return // tried again at the next walk
	}
	t.tot = tot
	for _, id := range gone {
		delete(t.pos, id)
	}
}

// commit persists a shard's position (synced: a lost commit would only
// republish, deduplicated, but a synced one keeps the window short).
func (t *table) commit(shard string, p position) error {
	v, _ := json.Marshal(p)
	b := t.r.ks.NewBatch()
	defer b.Close()
	if err := t.r.ks.Set(b, positionKey(t.cfg.Table, shard), v); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	t.mu.Lock()
	t.pos[shard] = &p
	t.mu.Unlock()
	return nil
}

// trimmed records that shard's records after `after` up to `resumed` were
// trimmed before they were published: logged once per relay, kept in the
// totals.
func (t *table) trimmed(shard string, after, resumed streams.Seq) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	tot := t.tot
	tot.Trimmed = append(append([]Trimmed(nil), tot.Trimmed...), Trimmed{ShardID: shard, After: after.String(), Resumed: resumed.String(), At: t.r.opts.Now().UTC()})
	if len(tot.Trimmed) > maxTrims {
		tot.Trimmed = tot.Trimmed[len(tot.Trimmed)-maxTrims:]
	}
	if !t.trimLog {
		t.trimLog = true
		t.log.Warn("relay fell behind the stream's retention: records were trimmed before they were published; it resumes at the oldest record left",
			"shard", shard, "position", after.String(), "resumed_at", resumed.String())
	}
	v, _ := json.Marshal(tot)
	b := t.r.ks.NewBatch()
	defer b.Close()
	if err := t.r.ks.Set(b, totalsKey(t.cfg.Table), v); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	t.tot = tot
	return nil
}

func (t *table) report(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil && !t.failing {
		return
	}
	t.fails.Report(err)
	if err == nil {
		t.failing = false
		return
	}
	t.failing = true
	t.lastErr, t.lastErrAt = err.Error(), t.r.opts.Now()
}

func (t *table) published() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.tot.Retired
	for _, p := range t.pos {
		n += p.Published
	}
	return n
}

// Status is what `eddy relay status` prints.
type Status struct {
	Table            string    `json:"Table"`
	StartingPosition string    `json:"StartingPosition"`
	Created          time.Time `json:"Created"`
	// State is ACTIVE, FAILING (the last publish failed: LastError),
	// BEHIND_RETENTION (records were trimmed from the stream before they
	// were published: Trimmed) or NO_STREAM (the table has no stream).
	State string `json:"State"`
	// NATS is the server's URL once connected; Stream the JetStream
	// stream; Subjects the table's subjects.
	NATS     string `json:"NATS,omitempty"`
	Stream   string `json:"Stream"`
	Subjects string `json:"Subjects"`
	// Published counts records acknowledged by JetStream and committed.
	Published uint64 `json:"Published"`
	// LagSeconds is the age of the oldest record not yet published (0:
	// caught up).
	LagSeconds  float64       `json:"LagSeconds"`
	Shards      []ShardStatus `json:"Shards"`
	LastError   string        `json:"LastError,omitempty"`
	LastErrorAt *time.Time    `json:"LastErrorAt,omitempty"`
	Trimmed     []Trimmed     `json:"Trimmed,omitempty"`
}

// ShardStatus is one shard's progress.
type ShardStatus struct {
	StreamArn     string `json:"StreamArn"`
	ShardID       string `json:"ShardId"`
	ParentShardID string `json:"ParentShardId,omitempty"`
	// Position: every record up to it is published and committed.
	Position   string  `json:"Position"`
	Finished   bool    `json:"Finished"`
	Published  uint64  `json:"Published"`
	LagSeconds float64 `json:"LagSeconds"`
}

func (t *table) status() Status {
	all := t.walk()
	now := t.r.opts.Now()
	t.mu.Lock()
	st := Status{Table: t.cfg.Table, StartingPosition: t.cfg.StartingPosition, Created: t.cfg.Created, State: "ACTIVE",
		Stream: t.r.opts.Stream, Subjects: t.r.opts.SubjectPrefix + "." + Token(t.r.opts.Region) + "." + Token(t.cfg.Table) + ".*",
		LastError: t.lastErr, Trimmed: append([]Trimmed(nil), t.tot.Trimmed...), Published: t.tot.Retired}
	if !t.lastErrAt.IsZero() {
		at := t.lastErrAt.UTC()
		st.LastErrorAt = &at
	}
	switch {
	case t.failing:
		st.State = "FAILING"
	case len(t.tot.Trimmed) > 0:
		st.State = "BEHIND_RETENTION"
	case t.noStream:
		st.State = "NO_STREAM"
	}
	pos := map[string]position{}
	for id, p := range t.pos {
		pos[id] = *p
		st.Published += p.Published
	}
	t.mu.Unlock()
	st.NATS = t.r.URL()
	for _, s := range all {
		for _, sh := range s.shards {
			p := pos[sh.ID]
			ss := ShardStatus{StreamArn: s.arn, ShardID: sh.ID, ParentShardID: sh.ParentID, Position: streams.Seq(p.Pos).String(),
				Finished: p.Done, Published: p.Published}
			if !p.Done {
				if b, err := t.r.log.Read(sh.ID, streams.Seq(max(p.Pos, t.cfg.StartAfter)), 1); err == nil && len(b.Records) > 0 {
					ss.LagSeconds = max(0, now.Sub(b.Records[0].Time).Seconds())
				}
			}
			st.LagSeconds = max(st.LagSeconds, ss.LagSeconds)
			st.Shards = append(st.Shards, ss)
		}
	}
	if st.Shards == nil {
		st.Shards = []ShardStatus{}
	}
	return st
}
