package api

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestReadAllAllocatesAsBytesArrive: a body that declares 16 MB and sends
// one byte holds at most readAllFirst bytes, not 16 MB; a body that sends
// what it declares is read whole, small and large.
func TestReadAllAllocatesAsBytesArrive(t *testing.T) {
	b, err := readAll(strings.NewReader("x"), maxRequestBody)
	if err != nil || string(b) != "x" {
		t.Fatalf("readAll = %q, %v", b, err)
	}
	if cap(b) > readAllFirst {
		t.Errorf("declared 16 MB, sent 1 byte: buffer of %d bytes, want at most %d", cap(b), readAllFirst)
	}
	for _, n := range []int{0, 1, 511, 512, readAllFirst - 1, readAllFirst, readAllFirst + 1, 3<<20 + 7} {
		want := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		for _, size := range []int64{-1, int64(n)} {
			got, err := readAll(io.LimitReader(bytes.NewReader(want), int64(n)), size)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d size=%d: %d bytes, %v", n, size, len(got), err)
			}
			if size == int64(n) && n > readAllFirst && cap(got) > n+1 {
				t.Errorf("n=%d declared: buffer of %d bytes, want %d", n, cap(got), n+1)
			}
		}
	}
}
