package dataport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// Export statuses and types (ExportDescription).
const (
	StatusInProgress = "IN_PROGRESS"
	StatusCompleted  = "COMPLETED"
	StatusFailed     = "FAILED"

	ExportFull        = "FULL_EXPORT"
	ExportIncremental = "INCREMENTAL_EXPORT"
)

// dataFileBytes is the compressed size at which an export starts its next
// data file. DynamoDB writes at least one file per partition; eddy's table
// is one range, cut into files of about this size.
const dataFileBytes = 32 << 20

// exportJob is one export: its description (guarded by Manager.mu once the
// job runs) and what its run needs.
type exportJob struct {
	desc   ExportDescription
	region string
	table  *store.Table
	bucket Bucket
	from   time.Time // incremental: ExportFromTime
	to     time.Time // incremental: ExportToTime
	view   string
	hash   string // the request's parameters, for ClientToken
}

// ExportDescription is DynamoDB's ExportDescription (the members eddy
// fills). Times are epoch seconds on the wire.
type ExportDescription struct {
	ExportArn                      string                          `json:"ExportArn"`
	ExportStatus                   string                          `json:"ExportStatus"`
	StartTime                      epoch                           `json:"StartTime"`
	EndTime                        *epoch                          `json:"EndTime,omitempty"`
	ExportManifest                 string                          `json:"ExportManifest,omitempty"`
	TableArn                       string                          `json:"TableArn"`
	TableId                        string                          `json:"TableId"`
	ExportTime                     epoch                           `json:"ExportTime"`
	ClientToken                    string                          `json:"ClientToken"`
	S3Bucket                       string                          `json:"S3Bucket"`
	S3BucketOwner                  string                          `json:"S3BucketOwner,omitempty"`
	S3Prefix                       string                          `json:"S3Prefix,omitempty"`
	S3SseAlgorithm                 string                          `json:"S3SseAlgorithm,omitempty"`
	S3SseKmsKeyId                  string                          `json:"S3SseKmsKeyId,omitempty"`
	FailureCode                    string                          `json:"FailureCode,omitempty"`
	FailureMessage                 string                          `json:"FailureMessage,omitempty"`
	ExportFormat                   string                          `json:"ExportFormat"`
	BilledSizeBytes                *int64                          `json:"BilledSizeBytes,omitempty"`
	ItemCount                      *int64                          `json:"ItemCount,omitempty"`
	ExportType                     string                          `json:"ExportType"`
	IncrementalExportSpecification *IncrementalExportSpecification `json:"IncrementalExportSpecification,omitempty"`
}

// IncrementalExportSpecification is the request's and the description's
// member of that name.
type IncrementalExportSpecification struct {
	ExportFromTime *epoch `json:"ExportFromTime,omitempty"`
	ExportToTime   *epoch `json:"ExportToTime,omitempty"`
	ExportViewType string `json:"ExportViewType,omitempty"`
}

// epoch is a timestamp as DynamoDB's JSON protocol sends it: seconds since
// the epoch, with a fraction.
type epoch struct{ time.Time }

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(e.UnixMilli())/1000)), nil
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec := int64(f)
	e.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

func ptrEpoch(t time.Time) *epoch { return &epoch{t} }

// newJobID is DynamoDB's export and import ID: the creation time in
// milliseconds (14 digits) and 8 hex digits ("01693685827463-2d8752fd").
func newJobID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%014d-%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// randomName is a data file's name: 26 lowercase letters and digits, as
// the data files of AWS's exports are named.
func randomName() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [26]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b[:])
}

// exportDir is the export's directory: "<prefix>/AWSDynamoDB/<id>/" (no
// leading slash when there is no prefix).
func exportDir(prefix, id string) string {
	if prefix != "" && prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	return prefix + "AWSDynamoDB/" + id + "/"
}

// manifestFile is one line of manifest-files.json.
type manifestFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// dataWriter gzips an export's lines into data files of about
// dataFileBytes and records each in the manifest.
type dataWriter struct {
	ctx    context.Context
	bucket Bucket
	dir    string
	ext    string // ".json.gz" or ".ion.gz"
	format string

	buf   bytes.Buffer
	gz    *gzip.Writer
	items int64
	files []manifestFile
}

func (w *dataWriter) write(line []byte) error {
	if w.gz == nil {
		w.buf.Reset()
		w.gz = gzip.NewWriter(&w.buf)
		if w.format == FormatIon {
			if _, err := w.gz.Write([]byte(ionVersionMarker + "\n")); err != nil {
				return err
			}
		}
	}
	if _, err := w.gz.Write(line); err != nil {
		return err
	}
	w.items++
	if w.buf.Len() >= dataFileBytes {
		return w.flush()
	}
	return nil
}

// flush writes the current data file, if any.
func (w *dataWriter) flush() error {
	if w.gz == nil {
		return nil
	}
	if err := w.gz.Close(); err != nil {
		return err
	}
	key := w.dir + "data/" + randomName() + w.ext
	body := w.buf.Bytes()
	sum := md5.Sum(body)
	etag, err := w.bucket.Put(w.ctx, key, body)
	if err != nil {
		return err
	}
	w.files = append(w.files, manifestFile{
		ItemCount: w.items, MD5Checksum: base64.StdEncoding.EncodeToString(sum[:]),
		ETag: etag, DataFileS3Key: key,
	})
	w.gz, w.items = nil, 0
	return nil
}

// run performs the export and returns the description's final members.
func (m *Manager) runExport(ctx context.Context, j *exportJob) (items, billed int64, manifest string, err error) {
	d := j.desc
	dir := exportDir(d.S3Prefix, idOf(d.ExportArn))
	if _, err := j.bucket.Put(ctx, dir+"_started", nil); err != nil {
		return 0, 0, "", err
	}
	ext := ".json.gz"
	if d.ExportFormat == FormatIon {
		ext = ".ion.gz"
	}
	w := &dataWriter{ctx: ctx, bucket: j.bucket, dir: dir, ext: ext, format: d.ExportFormat}
	var line []byte
	if d.ExportType == ExportIncremental {
		err = m.history.ChangesBetween(ctx, j.region, j.table.Name, j.from, j.to, func(c Change) error {
			items++
			billed += int64(attr.ItemSize(c.New) + attr.ItemSize(c.Old))
			line = appendChangeLine(line[:0], d.ExportFormat, j.view, c)
			return w.write(line)
		})
	} else if d.ExportTime.Before(d.StartTime.Add(-nowTolerance)) {
		err = m.history.TableAsOf(ctx, j.region, j.table.Name, d.ExportTime.Time, func(it attr.Item) error {
			items++
			billed += int64(attr.ItemSize(it))
			line = append(line[:0], `{"Item":`...)
			if d.ExportFormat == FormatIon {
				line = appendIonStruct(append(line[:0], "{Item:"...), it)
			} else {
				line = attr.AppendItemJSON(line, it)
			}
			line = append(line, "}\n"...)
			return w.write(line)
		})
	} else {
		err = m.db.ScanAll(ctx, j.table, func(raw []byte) error {
			size, err := attr.StoredItemSize(raw)
			if err != nil {
				return err
			}
			items++
			billed += int64(size)
			if line, err = appendItemLine(line[:0], d.ExportFormat, raw); err != nil {
				return err
			}
			return w.write(line)
		})
	}
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return 0, 0, "", err
	}
	var files bytes.Buffer
	enc := json.NewEncoder(&files)
	for _, f := range w.files {
		if err := enc.Encode(f); err != nil {
			return 0, 0, "", err
		}
	}
	filesKey := dir + "manifest-files.json"
	if err := putWithChecksum(ctx, j.bucket, filesKey, files.Bytes()); err != nil {
		return 0, 0, "", err
	}
	summary := map[string]any{
		"version":            "2020-06-30",
		"exportArn":          d.ExportArn,
		"startTime":          d.StartTime.UTC().Format(isoMillis),
		"endTime":            time.Now().UTC().Format(isoMillis),
		"tableArn":           d.TableArn,
		"tableId":            d.TableId,
		"exportTime":         d.ExportTime.UTC().Format(isoMillis),
		"s3Bucket":           d.S3Bucket,
		"s3Prefix":           nilIfEmpty(d.S3Prefix),
		"s3SseAlgorithm":     nilIfEmpty(d.S3SseAlgorithm),
		"s3SseKmsKeyId":      nilIfEmpty(d.S3SseKmsKeyId),
		"manifestFilesS3Key": filesKey,
		"billedSizeBytes":    billed,
		"itemCount":          items,
		"outputFormat":       d.ExportFormat,
		"exportType":         d.ExportType,
	}
	if d.ExportType == ExportIncremental {
		summary["exportFromTime"] = j.from.UTC().Format(isoMillis)
		summary["exportToTime"] = j.to.UTC().Format(isoMillis)
		summary["outputView"] = j.view
	}
	sb, err := json.Marshal(summary)
	if err != nil {
		return 0, 0, "", err
	}
	manifest = dir + "manifest-summary.json"
	if err := putWithChecksum(ctx, j.bucket, manifest, sb); err != nil {
		return 0, 0, "", err
	}
	return items, billed, manifest, nil
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// putWithChecksum writes a manifest and, beside it, its .checksum file
// (the MD5 of the manifest in hex).
func putWithChecksum(ctx context.Context, b Bucket, key string, body []byte) error {
	if _, err := b.Put(ctx, key, body); err != nil {
		return err
	}
	sum := md5.Sum(body)
	_, err := b.Put(ctx, key[:len(key)-len(".json")]+".checksum", []byte(hex.EncodeToString(sum[:])))
	return err
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
