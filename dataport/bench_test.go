package dataport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// BenchmarkImport imports b.N DynamoDB JSON lines of about 450 bytes
// (gzipped, from a directory) into a table on disk: items/s and MB/s of
// JSON.
func BenchmarkImport(b *testing.B) {
	dir := b.TempDir()
	var raw bytes.Buffer
	for i := 0; i < b.N; i++ {
		fmt.Fprintf(&raw, `{"Item":{"pk":{"S":"user#%06d"},"sk":{"N":"%d"},"name":{"S":"name %d %0200d"},"score":{"N":"%d.5"},"tags":{"SS":["a","b"]},"active":{"BOOL":true},"meta":{"M":{"a":{"N":"%d"},"b":{"L":[{"S":"v1"},{"S":"v2"}]}}}}}`+"\n", i%2000, i, i, i, i, i)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw.Bytes())
	w.Close()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "a.json.gz"), gz.Bytes(), 0o644)
	db, err := store.Open(store.Options{Dir: filepath.Join(dir, "db"), Init: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m := New(db, Options{Tables: storeTables{db}})
	defer m.Close()
	b.ResetTimer()
	start := time.Now()
	body := fmt.Sprintf(`{"S3BucketSource":{"S3Bucket":"file://%s","S3KeyPrefix":"src/"},"InputFormat":"DYNAMODB_JSON","InputCompressionType":"GZIP",
		"TableCreationParameters":{"TableName":"big","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"}}`, dir)
	if _, err := m.importTable(context.Background(), "us-east-1", func(v any) error { return json.Unmarshal([]byte(body), v) }); err != nil {
		b.Fatal(err)
	}
	for {
		m.mu.Lock()
		j := m.imports[0]
		st := j.desc.ImportStatus
		m.mu.Unlock()
		if st != StatusInProgress {
			if st != StatusCompleted || j.importedItems.Load() != int64(b.N) {
				b.Fatalf("%s %s, %d imported", st, j.desc.FailureMessage, j.importedItems.Load())
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "items/s")
	b.ReportMetric(float64(raw.Len())/1e6/secs, "MB/s")
}

// storeTables creates the benchmark's table straight in the store.
type storeTables struct{ db *store.DB }

func (s storeTables) CreateTable(_ context.Context, _ string, _ []byte) error {
	_, err := s.db.CreateTable(&store.Table{Name: "big", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		Range:    &store.KeyElement{Name: "sk", Type: attr.TypeN},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}, {Name: "sk", Type: attr.TypeN}}, BillingMode: "PAY_PER_REQUEST"})
	return err
}
