package dataport

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// fakeHistory is point-in-time recovery's history as a test fixes it.
type fakeHistory struct {
	asOf    []attr.Item
	changes []Change
	from    time.Time
	to      time.Time
}

func (h *fakeHistory) RecoveryWindow(context.Context, string, string) (time.Time, time.Time, error) {
	return time.Now().Add(-35 * 24 * time.Hour), time.Now(), nil
}

func (h *fakeHistory) TableAsOf(_ context.Context, _, _ string, _ time.Time, fn func(attr.Item) error) error {
	for _, it := range h.asOf {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

func (h *fakeHistory) ChangesBetween(_ context.Context, _, _ string, from, to time.Time, fn func(Change) error) error {
	h.from, h.to = from, to
	for _, c := range h.changes {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func newTestManager(t *testing.T, h History) (*Manager, string) {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.CreateTable(&store.Table{Name: "tbl", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"}); err != nil {
		t.Fatal(err)
	}
	m := New(db, Options{History: h})
	t.Cleanup(m.Close)
	return m, m.account("us-east-1").Table("tbl")
}

func call(t *testing.T, m *Manager, op string, req any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(req)
	out, err := m.Ops()[op](context.Background(), "us-east-1", func(v any) error { return json.Unmarshal(body, v) })
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	b, _ := json.Marshal(out)
	var res map[string]any
	_ = json.Unmarshal(b, &res)
	return res
}

// exportLines runs an export to a directory and returns the lines of its
// data files (without Ion's version marker) and its summary manifest.
func exportLines(t *testing.T, m *Manager, req map[string]any) ([]string, map[string]any) {
	t.Helper()
	dir := t.TempDir()
	req["S3Bucket"] = "file://" + dir
	d := call(t, m, "ExportTableToPointInTime", req)["ExportDescription"].(map[string]any)
	var desc map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		desc = call(t, m, "DescribeExport", map[string]any{"ExportArn": d["ExportArn"]})["ExportDescription"].(map[string]any)
		if desc["ExportStatus"] != StatusInProgress {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the export did not end")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if desc["ExportStatus"] != StatusCompleted {
		t.Fatalf("export: %v", desc)
	}
	sb, err := os.ReadFile(filepath.Join(dir, desc["ExportManifest"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	var summary map[string]any
	if err := json.Unmarshal(sb, &summary); err != nil {
		t.Fatal(err)
	}
	fb, err := os.ReadFile(filepath.Join(dir, summary["manifestFilesS3Key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(fb)), "\n") {
		if l == "" {
			continue
		}
		var mf manifestFile
		if err := json.Unmarshal([]byte(l), &mf); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, mf.DataFileS3Key))
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(gz)
		for sc.Scan() {
			if sc.Text() != ionVersionMarker {
				lines = append(lines, sc.Text())
			}
		}
		f.Close()
	}
	return lines, summary
}

// TestIncrementalExportFormat: the lines of an incremental export, as the
// developer guide's "Incremental export output" shows them: Metadata,
// Keys, NewImage (absent for a deletion), OldImage (NEW_AND_OLD_IMAGES
// only, absent for a creation), in DynamoDB JSON and in Ion.
func TestIncrementalExportFormat(t *testing.T) {
	h := &fakeHistory{changes: []Change{
		{Keys: attr.Item{"pk": attr.S("new")}, New: attr.Item{"pk": attr.S("new"), "v": attr.N("1")}, WriteMicros: 1680109764000000},
		{Keys: attr.Item{"pk": attr.S("upd")}, New: attr.Item{"pk": attr.S("upd"), "v": attr.N("2")}, Old: attr.Item{"pk": attr.S("upd"), "v": attr.N("1")}, WriteMicros: 1680109764000001},
		{Keys: attr.Item{"pk": attr.S("del")}, Old: attr.Item{"pk": attr.S("del")}, WriteMicros: 1680109764000002},
	}}
	m, tableARN := newTestManager(t, h)
	to := time.Now().Add(-time.Minute).Truncate(time.Second)
	from := to.Add(-time.Hour)
	for _, c := range []struct {
		format, view string
		want         []string
	}{
		{FormatDynamoDBJSON, ViewNewAndOld, []string{
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000000"}},"Keys":{"pk":{"S":"new"}},"NewImage":{"pk":{"S":"new"},"v":{"N":"1"}}}`,
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000001"}},"Keys":{"pk":{"S":"upd"}},"NewImage":{"pk":{"S":"upd"},"v":{"N":"2"}},"OldImage":{"pk":{"S":"upd"},"v":{"N":"1"}}}`,
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000002"}},"Keys":{"pk":{"S":"del"}},"OldImage":{"pk":{"S":"del"}}}`,
		}},
		{FormatDynamoDBJSON, ViewNew, []string{
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000000"}},"Keys":{"pk":{"S":"new"}},"NewImage":{"pk":{"S":"new"},"v":{"N":"1"}}}`,
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000001"}},"Keys":{"pk":{"S":"upd"}},"NewImage":{"pk":{"S":"upd"},"v":{"N":"2"}}}`,
			`{"Metadata":{"WriteTimestampMicros":{"N":"1680109764000002"}},"Keys":{"pk":{"S":"del"}}}`,
		}},
		{FormatIon, ViewNewAndOld, []string{
			`{Metadata:{WriteTimestampMicros:1680109764000000.},Keys:{pk:"new"},NewImage:{pk:"new",v:1.}}`,
			`{Metadata:{WriteTimestampMicros:1680109764000001.},Keys:{pk:"upd"},NewImage:{pk:"upd",v:2.},OldImage:{pk:"upd",v:1.}}`,
			`{Metadata:{WriteTimestampMicros:1680109764000002.},Keys:{pk:"del"},OldImage:{pk:"del"}}`,
		}},
	} {
		lines, summary := exportLines(t, m, map[string]any{
			"TableArn": tableARN, "ExportFormat": c.format, "ExportType": ExportIncremental,
			"IncrementalExportSpecification": map[string]any{
				"ExportFromTime": float64(from.Unix()), "ExportToTime": float64(to.Unix()), "ExportViewType": c.view,
			},
		})
		if !sameLines(c.format, lines, c.want) {
			t.Errorf("%s %s:\n got %s\nwant %s", c.format, c.view, strings.Join(lines, "\n"), strings.Join(c.want, "\n"))
		}
		if !h.from.Equal(from) || !h.to.Equal(to) {
			t.Errorf("ChangesBetween(%v, %v), want (%v, %v)", h.from, h.to, from, to)
		}
		if summary["exportType"] != ExportIncremental || summary["itemCount"] != float64(3) || summary["outputView"] != c.view {
			t.Errorf("summary %v", summary)
		}
	}
}

// TestExportAsOf: a full export at a past instant reads TableAsOf, not the
// table now; one before the recovery window is refused.
func TestExportAsOf(t *testing.T) {
	h := &fakeHistory{asOf: []attr.Item{{"pk": attr.S("then")}}}
	m, tableARN := newTestManager(t, h)
	body, _ := json.Marshal(map[string]any{"TableArn": tableARN, "S3Bucket": "file://" + t.TempDir(), "ExportTime": float64(time.Now().Add(-40 * 24 * time.Hour).Unix())})
	_, err := m.Ops()["ExportTableToPointInTime"](context.Background(), "us-east-1", func(v any) error { return json.Unmarshal(body, v) })
	if de, ok := err.(*ddberr.Error); !ok || de.Kind != ddberr.KindInvalidExportTime {
		t.Fatalf("an ExportTime before the window: %v", err)
	}
	lines, _ := exportLines(t, m, map[string]any{"TableArn": tableARN, "ExportTime": float64(time.Now().Add(-time.Hour).Unix())})
	if want := `{"Item":{"pk":{"S":"then"}}}`; len(lines) != 1 || lines[0] != want {
		t.Fatalf("lines %q, want %s", lines, want)
	}
}

// sameLines compares export lines: DynamoDB JSON as JSON (attribute order
// in a map is not fixed), Ion as text (its writer sorts names).
func sameLines(format string, got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if format == FormatIon {
			if got[i] != want[i] {
				return false
			}
			continue
		}
		var a, b any
		if json.Unmarshal([]byte(got[i]), &a) != nil || json.Unmarshal([]byte(want[i]), &b) != nil || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

// captureTables records the CreateTable request an import makes.
type captureTables struct {
	db  *store.DB
	req []byte
}

func (c *captureTables) CreateTable(_ context.Context, _ string, req []byte) error {
	c.req = req
	_, err := c.db.CreateTable(&store.Table{Name: "imp", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"})
	return err
}

// TestImportIgnoresUnknownTableMembers: members TableCreationParameters
// does not have are dropped (DynamoDB ignores unknown members), not passed
// to CreateTable.
func TestImportIgnoresUnknownTableMembers(t *testing.T) {
	m, _ := newTestManager(t, nil)
	ct := &captureTables{db: m.db}
	m.opts.Tables = ct
	call(t, m, "ImportTable", map[string]any{
		"S3BucketSource": map[string]any{"S3Bucket": "file://" + t.TempDir()}, "InputFormat": "CSV",
		"TableCreationParameters": map[string]any{"TableName": "imp", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":             []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
			"AttributeDefinitions":  []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
			"LocalSecondaryIndexes": []any{}, "StreamSpecification": map[string]any{"StreamEnabled": true}},
	})
	var got map[string]any
	if err := json.Unmarshal(ct.req, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["LocalSecondaryIndexes"]; ok || got["StreamSpecification"] != nil || got["TableName"] != "imp" {
		t.Fatalf("CreateTable request %s", ct.req)
	}
}
