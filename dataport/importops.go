package dataport

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eddydb/eddy/internal/ddberr"
)

type importInput struct {
	ClientToken             *string             `json:"ClientToken"`
	S3BucketSource          *S3BucketSource     `json:"S3BucketSource"`
	InputFormat             *string             `json:"InputFormat"`
	InputFormatOptions      *InputFormatOptions `json:"InputFormatOptions"`
	InputCompressionType    *string             `json:"InputCompressionType"`
	TableCreationParameters json.RawMessage     `json:"TableCreationParameters"`
}

// tableCreationMembers are TableCreationParameters' members: a CreateTable
// request without local indexes, streams, tags or table class.
var tableCreationMembers = map[string]bool{
	"TableName": true, "AttributeDefinitions": true, "KeySchema": true, "BillingMode": true,
	"ProvisionedThroughput": true, "OnDemandThroughput": true, "SSESpecification": true,
	"GlobalSecondaryIndexes": true,
}

func (m *Manager) importTable(ctx context.Context, region string, decode func(any) error) (any, error) {
	var in importInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.S3BucketSource == nil:
		return nil, nullError("s3BucketSource")
	case in.S3BucketSource.S3Bucket == "":
		return nil, nullError("s3BucketSource.s3Bucket")
	case in.InputFormat == nil:
		return nil, nullError("inputFormat")
	case len(in.TableCreationParameters) == 0 || string(in.TableCreationParameters) == "null":
		return nil, nullError("tableCreationParameters")
	}
	format := *in.InputFormat
	if format != FormatCSV && format != FormatDynamoDBJSON && format != FormatIon {
		return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'inputFormat' failed to satisfy constraint: Member must satisfy enum value set: [CSV, DYNAMODB_JSON, ION]", format)
	}
	comp := cmpOr(str(in.InputCompressionType), CompressionNone)
	if comp != CompressionGzip && comp != CompressionZstd && comp != CompressionNone {
		return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'inputCompressionType' failed to satisfy constraint: Member must satisfy enum value set: [GZIP, ZSTD, NONE]", comp)
	}
	delim := ','
	var header []string
	if o := in.InputFormatOptions; o != nil && o.Csv != nil {
		if format != FormatCSV {
			return nil, ddberr.Validationf("InputFormatOptions are only valid for the CSV input format")
		}
		if d := o.Csv.Delimiter; d != nil {
			// Delimiter: one character of [,;:|\t ] (API reference, CsvOptions).
			if r := []rune(*d); len(r) != 1 || !containsRune(",;:|\t ", r[0]) {
				return nil, ddberr.Validationf("1 validation error detected: Value '%s' at 'inputFormatOptions.csv.delimiter' failed to satisfy constraint: Member must satisfy regular expression pattern: [,;:|\\t ]", *d)
			}
			delim = []rune(*d)[0]
		}
		header = o.Csv.HeaderList
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(in.TableCreationParameters, &params); err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Unexpected field type")
	}
	// Members TableCreationParameters does not have (LocalSecondaryIndexes,
	// StreamSpecification, ...) are ignored, as DynamoDB's front end ignores
	// unknown members, instead of reaching CreateTable.
	for k := range params {
		if !tableCreationMembers[k] {
			delete(params, k)
		}
	}
	createReq, err := json.Marshal(params)
	if err != nil {
		return nil, ddberr.New(ddberr.KindInternal, "")
	}
	var name string
	if err := json.Unmarshal(params["TableName"], &name); err != nil || name == "" {
		return nil, nullError("tableCreationParameters.tableName")
	}
	j := &importJob{region: region, delim: delim, header: header, hash: requestHash(in)}
	now := m.opts.Now().UTC()
	token := str(in.ClientToken)
	if token != "" {
		m.mu.Lock()
		for _, e := range m.imports {
			if e.desc.ClientToken == token && now.Sub(e.desc.StartTime.Time) < 8*time.Hour {
				m.mu.Unlock()
				if e.hash != j.hash {
					return nil, ddberr.New(ddberr.KindIdempotentParameterMismatch, "")
				}
				return map[string]any{"ImportTableDescription": m.importDesc(e)}, nil
			}
		}
		m.mu.Unlock()
	}
	if m.opts.Tables == nil {
		return nil, ddberr.New(ddberr.KindInternal, "")
	}
	// The table is created now, through CreateTable: a bad schema, an
	// existing table (ResourceInUseException) or a limit is the caller's
	// error at once, as DynamoDB validates TableCreationParameters.
	if err := m.opts.Tables.CreateTable(ctx, region, createReq); err != nil {
		return nil, err
	}
	t := m.db.TableIn(region, name)
	if t == nil {
		return nil, ddberr.New(ddberr.KindInternal, "")
	}
	acct := m.account(region)
	id := newJobID(now)
	if token == "" {
		token = newJobID(now)
	}
	j.desc = ImportTableDescription{
		ImportArn: acct.Table(name) + "/import/" + id, ImportStatus: StatusInProgress, TableArn: acct.Table(name),
		TableId: t.UUID, ClientToken: token, S3BucketSource: *in.S3BucketSource,
		CloudWatchLogGroupArn: "arn:" + acct.Partition + ":logs:" + acct.Region + ":" + acct.ID + ":log-group:" + ImportLogGroup + ":*",
		InputFormat:           format, InputFormatOptions: in.InputFormatOptions, InputCompressionType: comp,
		TableCreationParameters: in.TableCreationParameters, StartTime: epoch{now},
	}
	m.mu.Lock()
	if err := m.saveImport(j); err != nil {
		m.mu.Unlock()
		m.log.Error("import not started: its description could not be saved", "err", err)
		return nil, ddberr.New(ddberr.KindInternal, "")
	}
	m.imports = append(m.imports, j)
	out := m.importDesc(j)
	m.mu.Unlock()
	m.group.Go("import "+id, func(ctx context.Context) { m.runImportJob(ctx, j) })
	return map[string]any{"ImportTableDescription": out}, nil
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

// importDesc is j's description with its live counters; m.mu held.
func (m *Manager) importDesc(j *importJob) ImportTableDescription {
	d := j.desc
	d.ProcessedItemCount = j.processedItems.Load()
	d.ImportedItemCount = j.importedItems.Load()
	d.ErrorCount = j.errors.Load()
	d.ProcessedSizeBytes = j.processedBytes.Load()
	return d
}

func (m *Manager) runImportJob(ctx context.Context, j *importJob) {
	b, err := m.open(ctx, j.region, j.desc.S3BucketSource.S3Bucket, j.desc.S3BucketSource.S3BucketOwner, false)
	if err == nil {
		j.bucket = b
		err = m.runImport(ctx, j)
	}
	if err != nil && ctx.Err() != nil {
		err = errInterrupted
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j.desc.EndTime = ptrEpoch(m.opts.Now().UTC())
	if err != nil {
		j.desc.ImportStatus = StatusFailed
		j.desc.FailureCode, j.desc.FailureMessage = failure(err)
		m.log.Warn("import failed", "import", j.desc.ImportArn, "err", err)
	} else {
		j.desc.ImportStatus = StatusCompleted
	}
	if err := m.saveImport(j); err != nil {
		m.log.Error("import's description could not be saved", "import", j.desc.ImportArn, "err", err)
	}
}

func (m *Manager) describeImport(_ context.Context, _ string, decode func(any) error) (any, error) {
	var in arnInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if in.ImportArn == nil {
		return nil, nullError("importArn")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.imports {
		if e.desc.ImportArn == *in.ImportArn {
			return map[string]any{"ImportTableDescription": m.importDesc(e)}, nil
		}
	}
	return nil, ddberr.New(ddberr.KindImportNotFound, "Import not found: %s", *in.ImportArn)
}

func (m *Manager) listImports(_ context.Context, _ string, decode func(any) error) (any, error) {
	var in listInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.PageSize, "pageSize")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return listPage(m.imports, in.TableArn, limit, in.NextToken, "ImportSummaryList",
		func(j *importJob) (string, string) { return j.desc.TableArn, j.desc.ImportArn },
		func(j *importJob) map[string]any {
			d := j.desc
			s := map[string]any{
				"ImportArn": d.ImportArn, "ImportStatus": d.ImportStatus, "TableArn": d.TableArn,
				"S3BucketSource": d.S3BucketSource, "CloudWatchLogGroupArn": d.CloudWatchLogGroupArn,
				"InputFormat": d.InputFormat, "StartTime": d.StartTime,
			}
			if d.EndTime != nil {
				s["EndTime"] = d.EndTime
			}
			return s
		})
}
