package search

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/outbox"
)

const crashPer = 50

// crashBatch is batch b of the crash test: crashPer new documents and a new
// version of the shared document "counter".
func crashBatch(b int) []outbox.Doc {
	docs := make([]outbox.Doc, 0, crashPer+1)
	for i := 0; i < crashPer; i++ {
		docs = append(docs, put(fmt.Sprintf("b%d-%d", b, i), uint64(b), fmt.Sprintf(`{"batch":%d,"i":%d,"note":"crash test document"}`, b, i)))
	}
	return append(docs, put("counter", uint64(b), fmt.Sprintf(`{"batch":%d}`, b)))
}

// TestCrashChild is the process TestCrash kills: it delivers batches until
// killed, printing "ack N" after batch N's Deliver returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("EDDY_SEARCH_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	x := open(t, dir)
	for b := 1; ; b++ {
		if err := x.Deliver(context.Background(), crashBatch(b)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %d\n", b)
	}
}

// TestCrash kills a process in the middle of delivering and checks, after
// reopening, that every acknowledged batch is there, that no batch is there
// in part, and that each document's version goes with its body.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "EDDY_SEARCH_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for acked < 4 && sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			if acked, err = strconv.Atoi(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Kill somewhere inside a later batch.
	time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acks written before the kill count too
		if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			if acked, err = strconv.Atoi(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait() // killed: the error is expected
	if acked < 4 {
		t.Fatalf("the child acknowledged only %d batches", acked)
	}

	x := open(t, dir)
	defer x.Close()
	last := 0
	for b := 1; b <= acked+50; b++ {
		r, _ := find(t, x, fmt.Sprintf(`{"query":{"bool":{"filter":{"term":{"batch":%d}},"must_not":{"term":{"_id":"counter"}}}},"size":0}`, b))
		n := r.Hits.Total.Value
		switch {
		case b <= acked && n != crashPer:
			t.Errorf("acknowledged batch %d: %d documents, want %d", b, n, crashPer)
		case n != 0 && n != crashPer:
			t.Errorf("batch %d is there in part: %d documents", b, n)
		}
		if n > 0 {
			last = b
		}
	}
	src, ver, found, err := x.Get("counter")
	if err != nil || !found {
		t.Fatalf("counter: %v %v", found, err)
	}
	var body struct{ Batch uint64 }
	if err := json.Unmarshal(src, &body); err != nil {
		t.Fatal(err)
	}
	if body.Batch != ver || ver != uint64(last) {
		t.Errorf("counter has body of batch %d, version %d; the last batch present is %d", body.Batch, ver, last)
	}
	// Redelivering the batch in flight completes it.
	deliver(t, x, crashBatch(last+1)...)
	if n, err := x.Count(); err != nil || n != uint64((last+1)*crashPer+1) {
		t.Errorf("Count after redelivery = %d, %v; want %d", n, err, (last+1)*crashPer+1)
	}
	t.Logf("acknowledged %d batches, %d present after the kill", acked, last)
}
