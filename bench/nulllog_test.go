package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestDurableLog: concurrent appends all return, and every one is in the
// file when they have.
func TestDurableLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "null.log")
	l, err := openDurableLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				if err := l.append(fmt.Appendf(nil, "<%d-%d>", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if l.synced != l.written || l.written != 8*40 {
		t.Fatalf("written %d, synced %d, want 320 both", l.written, l.synced)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for g := range 8 {
		for i := range 40 {
			if !bytes.Contains(data, fmt.Appendf(nil, "<%d-%d>", g, i)) {
				t.Fatalf("append <%d-%d> is not in the log", g, i)
			}
		}
	}
}
