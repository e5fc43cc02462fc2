package dataport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// History is a table's past, kept by point-in-time recovery: what an
// export at a past ExportTime and an incremental export read. The server
// wires it to PITR's change history; without one (nil), such exports are
// refused with PointInTimeRecoveryUnavailableException, and a full export
// reads the table as it is now.
type History interface {
	// RecoveryWindow is the table's restorable period (DescribeContinuousBackups'
	// EarliestRestorableDateTime and LatestRestorableDateTime). It returns a
	// *ddberr.Error of KindPointInTimeRecoveryUnavailable when the table has
	// point-in-time recovery disabled: the request is then refused at once.
	RecoveryWindow(ctx context.Context, region, table string) (earliest, latest time.Time, err error)
	// TableAsOf hands fn every item of the table as it was at instant at.
	// It returns a *ddberr.Error of KindPointInTimeRecoveryUnavailable when
	// the table keeps no history, KindInvalidExportTime when at is outside
	// its recovery window.
	TableAsOf(ctx context.Context, region, table string, at time.Time, fn func(attr.Item) error) error
	// ChangesBetween hands fn, in order, the last change of every item
	// changed in [from, to), with its image before from (Old) and at to
	// (New; nil for an item deleted by to).
	ChangesBetween(ctx context.Context, region, table string, from, to time.Time, fn func(Change) error) error
}

// ErrorLog receives the per-item errors of imports, in the import's
// region: the server wires it to the CloudWatch Logs surface (package
// cwlogs).
type ErrorLog interface {
	Append(region, group, stream string, t time.Time, msg string)
}

// Tables creates the table an import fills, through the same CreateTable
// as a client's (validation, errors, indexes): req is a CreateTable
// request body.
type Tables interface {
	CreateTable(ctx context.Context, region string, req []byte) error
}

// Options configure a Manager.
type Options struct {
	// Region and AccountID appear in ARNs; defaults us-east-1 and
	// 000000000000 (internal/arn).
	Region, AccountID string
	// Open opens an S3 bucket. Nil: only file:// buckets work, and any
	// other is a FAILED export or import ("S3 is not configured").
	Open Opener
	// Tables creates imported tables. Required for ImportTable.
	Tables Tables
	// History reads the past; nil means none (see History).
	History History
	// ErrorLog receives imports' item errors; nil logs them only to Logger.
	ErrorLog ErrorLog
	Logger   *slog.Logger
	// Now is the clock exports check ExportTime and the incremental
	// period against, and jobs' start and end times; the server passes
	// the store's (point-in-time recovery's) clock. Default time.Now.
	Now func() time.Time
}

// Manager runs exports and imports in the background and answers their
// operations. Descriptions persist in the store (persist.go); an export or
// import running when eddy stops ends FAILED (its files, or the items
// already imported, stay). Safe for concurrent use.
type Manager struct {
	db      *store.DB
	ks      store.KeySpace // the descriptions (persist.go)
	opts    Options
	history History
	errLog  ErrorLog
	log     *slog.Logger
	group   *lifecycle.Group

	mu      sync.Mutex
	exports []*exportJob // in creation order
	imports []*importJob
}

// New returns a Manager over db, with the descriptions saved there (an
// export or import found IN_PROGRESS was cut by a crash: it is FAILED);
// Close stops its jobs.
func New(db *store.DB, opts Options) *Manager {
	m := &Manager{db: db, ks: spaceOf(db), opts: opts, history: opts.History, errLog: opts.ErrorLog, log: lifecycle.Or(opts.Logger)}
	if m.history == nil {
		m.history = noHistory{}
	}
	if m.opts.Now == nil {
		m.opts.Now = time.Now
	}
	if err := m.load(); err != nil {
		m.log.Error("export and import descriptions could not be read", "err", err)
	}
	m.group = lifecycle.New(context.Background(), "dataport", m.log)
	return m
}

// Close cancels the jobs in progress and waits for them.
func (m *Manager) Close() { m.group.Stop() }

// noHistory is a server without point-in-time recovery.
type noHistory struct{}

func (noHistory) RecoveryWindow(context.Context, string, string) (time.Time, time.Time, error) {
	return time.Time{}, time.Time{}, ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "")
}

func (noHistory) TableAsOf(context.Context, string, string, time.Time, func(attr.Item) error) error {
	return ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "")
}

func (noHistory) ChangesBetween(context.Context, string, string, time.Time, time.Time, func(Change) error) error {
	return ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "")
}

func (m *Manager) account(region string) arn.Account {
	return arn.Account{Region: region, ID: m.opts.AccountID}.WithDefaults()
}

// Op is one operation's handler: decode reads the request body (as the
// api package decodes every request: SerializationException for bad
// JSON).
type Op func(ctx context.Context, region string, decode func(v any) error) (any, error)

// Ops returns the handlers of the export and import operations, by
// DynamoDB operation name.
func (m *Manager) Ops() map[string]Op {
	return map[string]Op{
		"ExportTableToPointInTime": m.exportTable,
		"DescribeExport":           m.describeExport,
		"ListExports":              m.listExports,
		"ImportTable":              m.importTable,
		"DescribeImport":           m.describeImport,
		"ListImports":              m.listImports,
	}
}

// nowTolerance is how far in the past an ExportTime may be and still be
// read as "now" (a client's clock and its request's travel).
const nowTolerance = 2 * time.Second

// idOf is the export or import ID at the end of its ARN.
func idOf(a string) string { return a[strings.LastIndexByte(a, '/')+1:] }

// tableNameOf is the table name in a table, export or import ARN.
func tableNameOf(a string) string {
	_, rest, _ := strings.Cut(a, ":table/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func regionOfARN(a string) string {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

func nullError(member string) error {
	return ddberr.Validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func requestHash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// open opens the bucket of a request: a file:// directory, or S3.
func (m *Manager) open(ctx context.Context, region, bucket, owner string, create bool) (Bucket, error) {
	if strings.HasPrefix(bucket, FileScheme) {
		return OpenDir(bucket, create)
	}
	if m.opts.Open == nil {
		return nil, errors.New("S3 is not configured on this server (eddy serve --s3-endpoint), and the bucket is not a file:// directory")
	}
	return m.opts.Open(ctx, region, bucket, owner)
}

type exportInput struct {
	TableArn                       *string                         `json:"TableArn"`
	ExportTime                     *epoch                          `json:"ExportTime"`
	ClientToken                    *string                         `json:"ClientToken"`
	S3Bucket                       *string                         `json:"S3Bucket"`
	S3BucketOwner                  *string                         `json:"S3BucketOwner"`
	S3Prefix                       *string                         `json:"S3Prefix"`
	S3SseAlgorithm                 *string                         `json:"S3SseAlgorithm"`
	S3SseKmsKeyId                  *string                         `json:"S3SseKmsKeyId"`
	ExportFormat                   *string                         `json:"ExportFormat"`
	ExportType                     *string                         `json:"ExportType"`
	IncrementalExportSpecification *IncrementalExportSpecification `json:"IncrementalExportSpecification"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (m *Manager) exportTable(ctx context.Context, region string, decode func(any) error) (any, error) {
	var in exportInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.TableArn == nil:
		return nil, nullError("tableArn")
	case in.S3Bucket == nil:
		return nil, nullError("s3Bucket")
	}
	format := cmpOr(str(in.ExportFormat), FormatDynamoDBJSON)
	if format != FormatDynamoDBJSON && format != FormatIon {
		return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'exportFormat' failed to satisfy constraint: Member must satisfy enum value set: [DYNAMODB_JSON, ION]", format)
	}
	typ := cmpOr(str(in.ExportType), ExportFull)
	if typ != ExportFull && typ != ExportIncremental {
		return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'exportType' failed to satisfy constraint: Member must satisfy enum value set: [FULL_EXPORT, INCREMENTAL_EXPORT]", typ)
	}
	if sse := str(in.S3SseAlgorithm); sse != "" && sse != "AES256" && sse != "KMS" {
		return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 's3SseAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]", sse)
	}
	tableARN := *in.TableArn
	name := tableNameOf(tableARN)
	if !strings.HasPrefix(tableARN, "arn:") || name == "" {
		return nil, ddberr.Validationf("Invalid TableArn: %s", tableARN)
	}
	if r := regionOfARN(tableARN); r != "" {
		region = r
	}
	t := m.db.TableIn(region, name)
	if t == nil {
		return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", name)
	}
	now := m.opts.Now().UTC()
	at := now
	if in.ExportTime != nil {
		if in.ExportTime.After(now.Add(nowTolerance)) {
			return nil, ddberr.New(ddberr.KindInvalidExportTime, "ExportTime cannot be in the future")
		}
		at = in.ExportTime.Time
	}
	j := &exportJob{region: region, table: t, hash: requestHash(in)}
	var inc *IncrementalExportSpecification
	if typ == ExportIncremental {
		spec := in.IncrementalExportSpecification
		if spec == nil || spec.ExportFromTime == nil || spec.ExportToTime == nil {
			return nil, ddberr.Validationf("IncrementalExportSpecification with ExportFromTime and ExportToTime is required for an INCREMENTAL_EXPORT")
		}
		if in.ExportTime != nil {
			return nil, ddberr.Validationf("ExportTime is not allowed for an INCREMENTAL_EXPORT")
		}
		view := cmpOr(spec.ExportViewType, ViewNewAndOld)
		if view != ViewNewAndOld && view != ViewNew {
			return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'incrementalExportSpecification.exportViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_AND_OLD_IMAGES, NEW_IMAGE]", view)
		}
		if !spec.ExportFromTime.Before(spec.ExportToTime.Time) {
			return nil, ddberr.New(ddberr.KindInvalidExportTime, "ExportFromTime must be before ExportToTime")
		}
		if d := spec.ExportToTime.Sub(spec.ExportFromTime.Time); d < 15*time.Minute || d > 24*time.Hour {
			// "The period ... must be at least 15 minutes and no longer
			// than 24 hours" (API reference, IncrementalExportSpecification).
			return nil, ddberr.New(ddberr.KindInvalidExportTime, "Incremental export period must be between 15 minutes and 24 hours")
		}
		if spec.ExportToTime.After(now.Add(nowTolerance)) {
			return nil, ddberr.New(ddberr.KindInvalidExportTime, "ExportToTime cannot be in the future")
		}
		j.from, j.to, j.view = spec.ExportFromTime.Time, spec.ExportToTime.Time, view
		inc = &IncrementalExportSpecification{ExportFromTime: spec.ExportFromTime, ExportToTime: spec.ExportToTime, ExportViewType: view}
		at = j.to
	}
	// A past instant is read from point-in-time recovery's history: a
	// table without it, or an instant outside its window, is refused now,
	// as DynamoDB does, rather than failed in the background.
	if typ == ExportIncremental || at.Before(now.Add(-nowTolerance)) {
		earliest, latest, err := m.history.RecoveryWindow(ctx, region, name)
		if err != nil {
			return nil, err
		}
		first := at
		if typ == ExportIncremental {
			first = j.from
		}
		if first.Before(earliest) || at.After(latest.Add(nowTolerance)) {
			return nil, ddberr.New(ddberr.KindInvalidExportTime, "Export time must be within the point in time recovery period of the table: %s to %s",
				earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
		}
	}
	token := str(in.ClientToken)
	m.mu.Lock()
	defer m.mu.Unlock()
	if token != "" {
		for _, e := range m.exports {
			if e.desc.ClientToken == token && now.Sub(e.desc.StartTime.Time) < 8*time.Hour {
				if e.hash != j.hash {
					return nil, ddberr.New(ddberr.KindIdempotentParameterMismatch, "")
				}
				return map[string]any{"ExportDescription": e.desc}, nil
			}
		}
	} else {
		token = newJobID(now)
	}
	id := newJobID(now)
	j.desc = ExportDescription{
		ExportArn: m.account(region).Table(name) + "/export/" + id, ExportStatus: StatusInProgress,
		StartTime: epoch{now}, TableArn: m.account(region).Table(name), TableId: t.UUID, ExportTime: epoch{at},
		ClientToken: token, S3Bucket: *in.S3Bucket, S3BucketOwner: str(in.S3BucketOwner), S3Prefix: str(in.S3Prefix),
		S3SseAlgorithm: str(in.S3SseAlgorithm), S3SseKmsKeyId: str(in.S3SseKmsKeyId), ExportFormat: format, ExportType: typ,
		IncrementalExportSpecification: inc,
	}
	if err := m.saveExport(j); err != nil {
		m.log.Error("export not started: its description could not be saved", "err", err)
		return nil, ddberr.New(ddberr.KindInternal, "")
	}
	m.exports = append(m.exports, j)
	out := j.desc
	m.group.Go("export "+id, func(ctx context.Context) { m.export(ctx, j) })
	return map[string]any{"ExportDescription": out}, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (m *Manager) export(ctx context.Context, j *exportJob) {
	b, err := m.open(ctx, j.region, j.desc.S3Bucket, j.desc.S3BucketOwner, true)
	var items, billed int64
	var manifest string
	if err == nil {
		j.bucket = b
		items, billed, manifest, err = m.runExport(ctx, j)
	}
	if err != nil && ctx.Err() != nil {
		err = errInterrupted
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j.desc.EndTime = ptrEpoch(m.opts.Now().UTC())
	if err != nil {
		j.desc.ExportStatus = StatusFailed
		j.desc.FailureCode, j.desc.FailureMessage = failure(err)
		m.log.Warn("export failed", "export", j.desc.ExportArn, "err", err)
	} else {
		j.desc.ExportStatus = StatusCompleted
		j.desc.ItemCount, j.desc.BilledSizeBytes, j.desc.ExportManifest = &items, &billed, manifest
	}
	if err := m.saveExport(j); err != nil {
		m.log.Error("export's description could not be saved", "export", j.desc.ExportArn, "err", err)
	}
}

// failure is a job's FailureCode and FailureMessage: a DynamoDB error's
// type, or S3's words for the bucket.
func failure(err error) (code, msg string) {
	var de *ddberr.Error
	if errors.As(err, &de) {
		w := de.WireType()
		return w[strings.LastIndexByte(w, '#')+1:], cmpOr(de.Message, err.Error())
	}
	if errors.Is(err, errNoBucket) || strings.Contains(err.Error(), "NoSuchBucket") {
		return "S3NoSuchBucket", err.Error()
	}
	return "UNKNOWN", err.Error()
}

type arnInput struct {
	ExportArn *string `json:"ExportArn"`
	ImportArn *string `json:"ImportArn"`
}

func (m *Manager) describeExport(_ context.Context, _ string, decode func(any) error) (any, error) {
	var in arnInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if in.ExportArn == nil {
		return nil, nullError("exportArn")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.exports {
		if e.desc.ExportArn == *in.ExportArn {
			return map[string]any{"ExportDescription": e.desc}, nil
		}
	}
	return nil, ddberr.New(ddberr.KindExportNotFound, "Export not found: %s", *in.ExportArn)
}

type listInput struct {
	TableArn   *string `json:"TableArn"`
	MaxResults *int    `json:"MaxResults"`
	PageSize   *int    `json:"PageSize"`
	NextToken  *string `json:"NextToken"`
}

// page returns the page of n entries (arns in creation order) after the
// token, and the next token.
func page(arns []string, limit int, token string) ([]int, string, error) {
	start := 0
	if token != "" {
		found := false
		for i, a := range arns {
			if a == token {
				start, found = i+1, true
				break
			}
		}
		if !found {
			return nil, "", ddberr.Validationf("Invalid NextToken")
		}
	}
	var idx []int
	for i := start; i < len(arns) && len(idx) < limit; i++ {
		idx = append(idx, i)
	}
	next := ""
	if len(idx) > 0 && idx[len(idx)-1] < len(arns)-1 {
		next = arns[idx[len(idx)-1]]
	}
	return idx, next, nil
}

func pageLimit(p *int, member string) (int, error) {
	if p == nil {
		return 25, nil
	}
	if *p < 1 || *p > 25 {
		return 0, ddberr.Validationf("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between 1 and 25", *p, member)
	}
	return *p, nil
}

func (m *Manager) listExports(_ context.Context, _ string, decode func(any) error) (any, error) {
	var in listInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.MaxResults, "maxResults")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return listPage(m.exports, in.TableArn, limit, in.NextToken, "ExportSummaries",
		func(j *exportJob) (string, string) { return j.desc.TableArn, j.desc.ExportArn },
		func(j *exportJob) map[string]any {
			d := j.desc
			return map[string]any{"ExportArn": d.ExportArn, "ExportStatus": d.ExportStatus, "ExportType": d.ExportType}
		})
}

// listPage is ListExports' and ListImports' answer: a page of the
// summaries, under key, of the jobs (in creation order) of table (nil: of
// every table). ids gives a job's table ARN and its own ARN (the paging
// token's ground). Callers hold m.mu.
func listPage[J any](jobs []J, table *string, limit int, token *string, key string,
	ids func(J) (table, arn string), summary func(J) map[string]any) (any, error) {
	var kept []J
	var arns []string
	for _, j := range jobs {
		if t, a := ids(j); table == nil || t == *table {
			kept = append(kept, j)
			arns = append(arns, a)
		}
	}
	idx, next, err := page(arns, limit, str(token))
	if err != nil {
		return nil, err
	}
	sums := []map[string]any{}
	for _, i := range idx {
		sums = append(sums, summary(kept[i]))
	}
	out := map[string]any{key: sums}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}
