package cwlogs

import (
	"cmp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/triggers"
)

// Options configures a Store. Zero values take the defaults on each field.
type Options struct {
	// MaxEvents bounds the events kept per function (log group); the
	// oldest are dropped first. Default 10000 (one GetLogEvents page).
	MaxEvents int
	// MaxBytes bounds the bytes kept per function, counted as CloudWatch
	// counts an event: its message's UTF-8 bytes plus 26. Default 4 MiB.
	MaxBytes int
	// MaxTotalBytes bounds the bytes kept over all functions, counted the
	// same way: past it, the log group written to least recently is
	// dropped whole (a function deleted or long idle). Default 64 MiB.
	MaxTotalBytes int
	// Region and Account build ARNs. Defaults us-east-1 and 000000000000.
	// Region is also where unsigned requests look.
	Region, Account string
	// HomeRegion is the region of the functions whose keys name none
	// (triggers.FunctionKey). Default Region.
	HomeRegion string
}

// EnsureDefaults fills the zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.MaxEvents <= 0 {
		o.MaxEvents = 10000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 4 << 20
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = 64 << 20
	}
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.HomeRegion == "" {
		o.HomeRegion = o.Region
	}
	if o.Account == "" {
		o.Account = arn.DefaultAccount
	}
}

// eventOverhead is what CloudWatch adds to a message's length when it sizes
// an event.
const eventOverhead = 26

// GroupPrefix is the log group name of a function: GroupPrefix + its name.
const GroupPrefix = "/aws/lambda/"

// Store keeps the recent log of every function in memory and implements
// triggers.LogSink. It is safe for concurrent use.
type Store struct {
	opts Options

	mu     sync.Mutex
	seq    uint64 // last event sequence number, over all groups
	bytes  int    // Σ group.bytes
	groups map[string]*group
}

// group is one function's log group: its events in arrival order, which is
// also timestamp order (Log never lets a timestamp go back within a group).
type group struct {
	key     string // in Store.groups: groupKey(region, name)
	region  string // the function's region (empty: the home region)
	name    string
	created int64 // ms
	events  []event
	head    int // events[head:] are live
	bytes   int
	lastTS  int64
	written uint64 // seq of the last event logged into it
	streams map[string]*stream
}

type event struct {
	seq    uint64 // global and increasing: the eventId and paging tokens
	ts     int64  // ms since the epoch
	ingest int64
	stream *stream
	msg    string
}

// stream is one instance's log stream.
type stream struct {
	name        string
	created     int64
	first, last int64 // first and last event timestamps
	lastIngest  int64
	events      int // live events in the group's buffer
}

// New returns an empty store.
func New(opts Options) *Store {
	opts.EnsureDefaults()
	return &Store{opts: opts, groups: map[string]*group{}}
}

// StreamName is Lambda's log stream name for an instance:
// "2006/01/02/[VERSION]<32 hex>", dated (UTC) by when the instance started.
func StreamName(version, instance string, started time.Time) string {
	return started.UTC().Format("2006/01/02") + "/[" + version + "]" + instance
}

// Log appends one line to its function's log group, creating the group and
// the stream on first use, and drops the group's oldest events past the
// bounds.
func (s *Store) Log(e triggers.LogEvent) {
	region, fn := triggers.SplitFunctionKey(e.Function)
	name := GroupPrefix + fn
	region = cmp.Or(region, s.opts.HomeRegion)
	key := groupKey(region, name)
	sname := StreamName(e.Version, e.Instance, e.InstanceStarted)
	now := time.Now().UnixMilli()
	ts := e.Time.UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[key]
	if g == nil {
		g = &group{key: key, region: region, name: name, created: now, streams: map[string]*stream{}}
		s.groups[key] = g
	}
	// Lines of concurrent invocations may arrive a little out of their
	// time order; a timestamp never goes back, so that arrival order is
	// time order and paging by sequence number misses nothing.
	ts = max(ts, g.lastTS)
	g.lastTS = ts
	st := g.streams[sname]
	if st == nil {
		st = &stream{name: sname, created: now, first: ts}
		g.streams[sname] = st
	}
	st.last, st.lastIngest = ts, now
	st.events++
	s.seq++
	g.events = append(g.events, event{seq: s.seq, ts: ts, ingest: now, stream: st, msg: e.Message})
	g.written = s.seq
	before := g.bytes
	g.bytes += len(e.Message) + eventOverhead
	for len(g.events)-g.head > s.opts.MaxEvents || (g.bytes > s.opts.MaxBytes && len(g.events)-g.head > 1) {
		g.drop()
	}
	s.bytes += g.bytes - before
	for s.bytes > s.opts.MaxTotalBytes && len(s.groups) > 1 {
		s.dropStalest(g)
	}
	if g.head > len(g.events)/2 && g.head > 64 {
		n := copy(g.events, g.events[g.head:])
		clear(g.events[n:])
		g.events, g.head = g.events[:n], 0
	}
}

// dropStalest removes the group written to least recently, never keep
// (the one just written). It scans the groups: it runs only past
// MaxTotalBytes, which takes many functions' logs.
func (s *Store) dropStalest(keep *group) {
	var stalest *group
	for _, g := range s.groups {
		if g != keep && (stalest == nil || g.written < stalest.written) {
			stalest = g
		}
	}
	s.bytes -= stalest.bytes
	delete(s.groups, stalest.key)
}

// drop removes the group's oldest event; a stream left with none goes too.
func (g *group) drop() {
	ev := &g.events[g.head]
	g.bytes -= len(ev.msg) + eventOverhead
	ev.stream.events--
	if ev.stream.events == 0 {
		delete(g.streams, ev.stream.name)
	}
	*ev = event{}
	g.head++
}

// live returns the group's events, oldest first. The slice is only valid
// under s.mu.
func (g *group) live() []event { return g.events[g.head:] }

// after returns the index in evs of the first event with seq > seq.
func after(evs []event, seq uint64) int {
	return sort.Search(len(evs), func(i int) bool { return evs[i].seq > seq })
}

// Log groups are per region, as their functions are (triggers.FunctionKey):
// a function of another region than the home one logs into a group that
// only requests signed for that region see.

// groupKey is the key in s.groups of region's log group name.
func groupKey(region, name string) string { return region + "\x00" + name }

// groupNames returns the keys of region's groups whose names start with
// prefix, sorted by name.
func (s *Store) groupNames(region, prefix string) []string {
	var keys []string
	for k, g := range s.groups {
		if g.region == region && strings.HasPrefix(g.name, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
