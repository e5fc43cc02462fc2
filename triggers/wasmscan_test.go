package triggers

import (
	"testing"

	"github.com/eddydb/eddy/triggers/triggerstest"
)

func TestScanModule(t *testing.T) {
	code := triggerstest.Module{MemoryMin: 43, MemoryMax: 100,
		Imports: []triggerstest.Import{triggerstest.TableCall, {Module: "wasi_snapshot_preview1", Name: "fd_write", Params: 4, Results: 1}}}.Bytes()
	info, err := scanModule(code)
	if err != nil {
		t.Fatal(err)
	}
	if !info.hasMem || info.memMin != 43 || !info.hasMax || info.memMax != 100 || len(info.imports) != 2 ||
		info.imports[0].String() != "eddy.table_call" || info.imports[1].kind != 0 {
		t.Fatalf("%+v", info)
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x02\x00\x00\x00"), append(code[:len(code):len(code)], 5, 0xff)} {
		if _, err := scanModule(bad); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
}

// FuzzScanModule: scanModule never panics and never reads past its input.
func FuzzScanModule(f *testing.F) {
	f.Add(triggerstest.Module{MemoryMin: 1}.Bytes())
	f.Add(triggerstest.Module{MemoryMin: 16384, MemoryMax: 65536, Init: triggerstest.Unreachable,
		Imports: []triggerstest.Import{triggerstest.TableCall}}.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = scanModule(b)
	})
}
