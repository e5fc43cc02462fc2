package lambdaapi

import (
	"archive/zip"
	"bytes"
	"testing"
)

// FuzzUnpackCode: whatever the bytes, unpackCode answers a module within
// the limit or an error, without panicking.
func FuzzUnpackCode(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("f.wasm")
	_, _ = w.Write([]byte("\x00asm\x01\x00\x00\x00"))
	_, _ = zw.Create("README")
	_ = zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := unpackCode(b, 1<<20)
		if err == nil && len(code) > 1<<20 {
			t.Fatalf("%d bytes past the limit", len(code))
		}
	})
}
