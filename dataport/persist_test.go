package dataport

import (
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
)

// TestJobCutByACrashIsFailed: a description saved IN_PROGRESS (the job's
// process died without ending it) is FAILED, with the reason and an end
// time, when a Manager next opens the store, and saved so.
func TestJobCutByACrashIsFailed(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/01796481899696-fdf11337"
	m := &Manager{ks: spaceOf(db)}
	if err := m.saveExport(&exportJob{region: "us-east-1", desc: ExportDescription{ExportArn: arn, ExportStatus: StatusInProgress,
		StartTime: epoch{time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second Manager reads what the first saved
		m := New(db, Options{})
		if len(m.exports) != 1 {
			t.Fatalf("%d exports loaded, want 1", len(m.exports))
		}
		d := m.exports[0].desc
		if d.ExportArn != arn || d.ExportStatus != StatusFailed || d.FailureMessage != errInterrupted.Error() || d.EndTime == nil {
			t.Fatalf("export cut by a crash: %+v", d)
		}
		m.Close()
	}
}
