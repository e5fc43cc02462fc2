package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/triggers/triggerstest"
)

type options struct {
	seed    int64
	kills   int
	bin     string
	workers int
	keys    int
	verbose bool
	// rollover and split, when set, are eddy serve's --stream-rollover and
	// --stream-split-writes: short ones close and split shards during the
	// run, so the stream check follows lineage.
	rollover time.Duration
	split    float64
	log      io.Writer
	// minRun, maxRun bound the seeded time the workload runs between a
	// restart and the next kill. Defaults 50ms and 600ms.
	minRun, maxRun time.Duration
}

type summary struct {
	seed                       int64
	kills, ops, acked, refused int
	caughtUp                   int // rounds checked after a full catch-up
	inDoubt, inDoubtApplied    int
	records, dlqRecords        int
	shards, closed, splits     int // of the stream at the last check
	violations                 []string
	kept                       string // the temporary directory kept after a violation
	duration                   time.Duration
}

func (s summary) String() string {
	return fmt.Sprintf("torture seed=%d kills=%d (caught up %d) ops=%d acknowledged=%d refused=%d in-doubt=%d (applied %d) stream-records=%d shards=%d (closed %d, split %d) dead-lettered=%d violations=%d duration=%s",
		s.seed, s.kills, s.caughtUp, s.ops, s.acked, s.refused, s.inDoubt, s.inDoubtApplied, s.records, s.shards, s.closed, s.splits, s.dlqRecords, len(s.violations), s.duration.Round(time.Millisecond))
}

func (s summary) printViolations(w io.Writer, n int) {
	if s.kept != "" {
		fmt.Fprintf(w, "data directory and eddy.log kept in %s\n", s.kept)
	}
	for i, v := range s.violations {
		if i == n {
			fmt.Fprintf(w, "... and %d more\n", len(s.violations)-n)
			return
		}
		fmt.Fprintf(w, "violation %d: %s\n", i+1, v)
	}
}

func run(ctx context.Context, o options) (s summary, err error) {
	start := time.Now()
	s.seed = o.seed
	defer func() { s.duration = time.Since(start) }()
	if o.workers <= 0 {
		o.workers = 4
	}
	if o.keys <= 0 {
		o.keys = 16
	}
	if o.minRun <= 0 {
		o.minRun = 50 * time.Millisecond
	}
	if o.maxRun <= o.minRun {
		o.maxRun = o.minRun + 550*time.Millisecond
	}
	logf := func(format string, a ...any) {
		if o.verbose && o.log != nil {
			fmt.Fprintf(o.log, "torture: "+format+"\n", a...)
		}
	}
	tmp, err := os.MkdirTemp("", "eddy-torture-")
	if err != nil {
		return s, err
	}
	defer func() {
		if len(s.violations) > 0 {
			s.kept = tmp // the data directory and eddy.log, for the investigation
			return
		}
		os.RemoveAll(tmp)
	}()
	bin := o.bin
	if bin == "" {
		if bin, err = buildEddy(ctx, tmp); err != nil {
			return s, err
		}
	}
	code, err := triggerstest.Build("esm")
	if err != nil {
		return s, err
	}
	dir := filepath.Join(tmp, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return s, err
	}
	addr, err := freeAddr()
	if err != nil {
		return s, err
	}
	// eddy's output: appended to eddy.log beside the data directory, also
	// to the log with -v.
	logFile, err := os.Create(filepath.Join(tmp, "eddy.log"))
	if err != nil {
		return s, err
	}
	defer logFile.Close()
	var out io.Writer = logFile
	if o.verbose {
		out = io.MultiWriter(logFile, o.log)
	}
	var serveArgs []string
	if o.rollover > 0 {
		serveArgs = append(serveArgs, "--stream-rollover", o.rollover.String())
	}
	if o.split != 0 {
		serveArgs = append(serveArgs, "--stream-split-writes", fmt.Sprint(o.split))
	}
	p, err := startEddy(ctx, bin, addr, dir, out, serveArgs...)
	if err != nil {
		return s, err
	}
	defer func() { p.kill() }()
	c := newClients(p.url)
	streamArn, viewUUID, failUUID, err := setup(ctx, c, code)
	if err != nil {
		return s, fmt.Errorf("setup: %w", err)
	}
	m := newModel()
	workers := make([]*worker, o.workers)
	for i := range workers {
		workers[i] = newWorker(o.seed, i, o.keys, m)
	}
	rng := rand.New(rand.NewSource(o.seed))
	cache := dlqCache{}
	bad := func(format string, a ...any) {
		v := fmt.Sprintf("after kill %d: ", s.kills) + fmt.Sprintf(format, a...)
		s.violations = append(s.violations, v)
		logf("VIOLATION %s", v)
	}
	for s.kills < o.kills && ctx.Err() == nil {
		// Run the workload, then kill at a seeded moment.
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, w := range workers {
			if w.pending != nil {
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); w.run(wctx, c.ddb) }()
		}
		d := o.minRun + time.Duration(rng.Int63n(int64(o.maxRun-o.minRun)))
		time.Sleep(d)
		p.kill()
		cancel()
		wg.Wait()
		c.close()
		s.kills++
		p, err = startEddy(ctx, bin, addr, dir, out, serveArgs...)
		if err != nil {
			return s, fmt.Errorf("restart after kill %d: %w", s.kills, err)
		}
		c = newClients(p.url)
		t0 := time.Now()
		before := len(s.violations)
		// One round in four (never the last) skips the catch-up, so that
		// the next kill also lands while the mappings work off a backlog.
		catchUp := s.kills == o.kills || rng.Intn(4) != 0
		if catchUp {
			s.caughtUp++
		}
		if err := check(ctx, c, m, workers, streamArn, viewUUID, failUUID, cache, catchUp, &s, bad); err != nil {
			return s, fmt.Errorf("check after kill %d: %w", s.kills, err)
		}
		logf("kill %d after %v: ops %d acknowledged %d in doubt %d (applied %d), records %d, checks %v (catch-up %v)",
			s.kills, d, s.ops, s.acked, s.inDoubt, s.inDoubtApplied, s.records, time.Since(t0).Round(time.Millisecond), catchUp)
		if len(s.violations) > before {
			break // the model no longer matches: what follows would only repeat it
		}
	}
	return s, ctx.Err()
}

// setup creates the table (NEW_AND_OLD_IMAGES stream), the view table, the
// two functions and their mappings.
func setup(ctx context.Context, c *clients, code []byte) (streamArn, viewUUID, failUUID string, err error) {
	mk := func(name string, stream bool) (string, error) {
		in := &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []ddb.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddb.ScalarAttributeTypeS}},
			KeySchema:            []ddb.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddb.KeyTypeHash}},
			BillingMode:          ddb.BillingModePayPerRequest,
		}
		if stream {
			in.StreamSpecification = &ddb.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddb.StreamViewTypeNewAndOldImages}
		}
		out, err := c.ddb.CreateTable(ctx, in)
		if err != nil {
			return "", fmt.Errorf("CreateTable %s: %w", name, err)
		}
		return aws.ToString(out.TableDescription.LatestStreamArn), nil
	}
	if streamArn, err = mk(table, true); err != nil {
		return
	}
	if _, err = mk(view, false); err != nil {
		return
	}
	fn := func(name string, vars map[string]string) error {
		_, err := c.lam.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/torture"),
			Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
			Code: &ltypes.FunctionCode{ZipFile: code}, Environment: &ltypes.Environment{Variables: vars},
		})
		if err != nil {
			return fmt.Errorf("CreateFunction %s: %w", name, err)
		}
		return nil
	}
	if err = fn("torture-view", map[string]string{"VIEW": view, "QUIET": "1"}); err != nil {
		return
	}
	if err = fn("torture-poison", map[string]string{"FAIL_ON": poison, "QUIET": "1"}); err != nil {
		return
	}
	esm := func(in *lambda.CreateEventSourceMappingInput) (string, error) {
		in.EventSourceArn = aws.String(streamArn)
		in.StartingPosition = ltypes.EventSourcePositionTrimHorizon
		out, err := c.lam.CreateEventSourceMapping(ctx, in)
		if err != nil {
			return "", fmt.Errorf("CreateEventSourceMapping %s: %w", aws.ToString(in.FunctionName), err)
		}
		return aws.ToString(out.UUID), nil
	}
	if viewUUID, err = esm(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("torture-view"),
		BatchSize: aws.Int32(20), ParallelizationFactor: aws.Int32(2)}); err != nil {
		return
	}
	failUUID, err = esm(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("torture-poison"),
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(1)})
	return
}

// check runs every check after a restart, the writers stopped.
func check(ctx context.Context, c *clients, m *model, workers []*worker, streamArn, viewUUID, failUUID string, cache dlqCache,
	catchUp bool, s *summary, bad func(string, ...any)) error {
	// The checkpoints first: what the restarted server found on disk,
	// before its mappings move them.
	viewCk, err := c.checkpoints(ctx, viewUUID)
	if err != nil {
		return err
	}
	failCk, err := c.checkpoints(ctx, failUUID)
	if err != nil {
		return err
	}
	items, err := scanAll(ctx, c.read, table)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	got := map[string]*item{}
	for _, it := range items {
		pk, st, err := fromAV(it)
		if err != nil {
			bad("table: item %q: %v (%v)", pk, err, it)
		}
		got[pk] = st
	}
	// In-doubt writes: each wholly applied or not at all.
	s.ops, s.acked, s.refused = 0, 0, 0
	for _, w := range workers {
		if wr := w.pending; wr != nil {
			w.pending = nil
			s.inDoubt++
			applied, violation := resolve(wr, got)
			if violation != "" {
				bad("%s", violation)
			} else if applied {
				s.inDoubtApplied++
				m.apply(wr, false)
			}
		}
		s.ops += w.ops
		s.acked += w.acked
		s.refused += w.refused
		for _, v := range w.violations {
			bad("%s", v)
		}
		w.violations = nil
	}
	// The table equals the model.
	keys := make([]string, 0, len(m.keys))
	for k := range m.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		km := m.keys[k]
		if g := got[k]; !same(g, km.cur) {
			last := "none"
			if n := len(km.hist); n > 0 {
				last = fmt.Sprintf("%s (acknowledged %v)", km.hist[n-1].w, km.hist[n-1].acked)
			}
			bad("table: key %s is %s, the model says %s (last committed write %s)", k, g, km.cur, last)
		}
	}
	for k := range got {
		if m.keys[k] == nil {
			bad("table: key %q that no write touched", k)
		}
	}
	order, err := readStream(ctx, c.str, streamArn, bad)
	if err != nil {
		return err
	}
	s.records, s.shards, s.closed, s.splits = 0, len(order), 0, 0
	kids := map[string]int{}
	for _, sh := range order {
		kids[sh.parent]++
		if sh.end != 0 {
			s.closed++
		}
	}
	for p, n := range kids {
		if p != "" && n > 1 {
			s.splits++
		}
	}
	for _, sh := range order {
		s.records += len(sh.records)
	}
	checkStream(order, m, bad)
	checkCheckpoints("view", viewCk, order, bad)
	checkCheckpoints("poison", failCk, order, bad)
	// Catch up, then the view and the dead letters must be exact (without
	// the catch-up: no dead letter held twice or not poison).
	caughtUp := catchUp
	for _, u := range []string{viewUUID, failUUID} {
		if !catchUp {
			break
		}
		const limit = 2 * time.Minute
		pending, err := waitCaughtUp(ctx, c, u, limit)
		if err != nil {
			return err
		}
		if pending > 0 {
			bad("mapping %s not caught up after %v: %d records pending", u, limit, pending)
			caughtUp = false
		}
	}
	if caughtUp {
		if err := checkView(ctx, c, order, bad); err != nil {
			return err
		}
	}
	if err := checkDLQ(ctx, c, cache, failUUID, order, caughtUp, bad); err != nil {
		return err
	}
	s.dlqRecords = 0
	for _, e := range cache {
		s.dlqRecords += len(e.seqs)
	}
	return nil
}

// resolve decides whether an in-doubt write happened from the table read
// after the restart: every key it changes must show its state after the
// write (applied) or every one its state before (not applied). A key in
// neither state is left to the table check (a write refused by design
// changes no key: any change of its keys shows there).
func resolve(wr *write, got map[string]*item) (applied bool, violation string) {
	yes, no := 0, 0
	for _, e := range wr.effects {
		if same(e.before, e.after) {
			continue
		}
		switch g := got[e.key]; {
		case same(g, e.after):
			yes++
		case same(g, e.before):
			no++
		}
	}
	switch {
	case yes > 0 && no > 0:
		return false, fmt.Sprintf("table: in-doubt write applied in part (%d keys changed, %d not): %s", yes, no, wr)
	}
	return yes > 0, ""
}
