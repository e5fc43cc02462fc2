//go:build wasip1

package guest

import (
	"encoding/json"
	"unsafe"
)

// eddy-abi-v1 imports. See triggers/ABI.md.

//go:wasmimport eddy input_len
func abiInputLen() uint32

//go:wasmimport eddy input_read
func abiInputRead(ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport eddy output_write
func abiOutputWrite(ptr unsafe.Pointer, n uint32)

//go:wasmimport eddy result_len
func abiResultLen() uint32

//go:wasmimport eddy result_read
func abiResultRead(ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport eddy table_call
func abiTableCall(op unsafe.Pointer, opLen uint32, req unsafe.Pointer, reqLen uint32) uint32

//go:wasmimport eddy emit
func abiEmit(sink unsafe.Pointer, sinkLen uint32, doc unsafe.Pointer, docLen uint32) uint32

//go:wasmimport eddy call_many
func abiCallMany(ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport eddy log
func abiLog(ptr unsafe.Pointer, n uint32)

//go:wasmimport eddy input_index
func abiInputIndex(ptr unsafe.Pointer, n uint32) uint32

// eddyABIv3 marks the module as implementing eddy-abi-v3 (v2 and
// input_index).
//
//go:wasmexport eddy_abi_v3
func eddyABIv3() {}

//go:wasmexport handle
func handle() int32 { return run(registered, reuseInput) }

func sp(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }
func bp(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// inputInto reads the input in one copy, into *buf's memory when buf is
// not nil (and keeps the grown buffer there).
func inputInto(buf *[]byte) []byte {
	n := int(abiInputLen())
	var b []byte
	if buf != nil && cap(*buf) >= n {
		b = (*buf)[:n]
	} else {
		b = make([]byte, n)
		if buf != nil {
			*buf = b
		}
	}
	if n > 0 {
		abiInputRead(bp(b), uint32(n))
	}
	return b
}

// inputIndex returns the host's index of the input as a stream event
// (index.go), read into *buf's memory; nil when the host has none.
func inputIndex(buf *[]byte) []byte {
	b := (*buf)[:cap(*buf)]
	n := abiInputIndex(bp(b), uint32(len(b)))
	if n == 0 {
		return nil
	}
	if int(n) > len(b) {
		b = make([]byte, n+n/4)
		*buf = b
		if abiInputIndex(bp(b), uint32(len(b))) != n {
			return nil
		}
	}
	return b[:n]
}

func outputWrite(b []byte) { abiOutputWrite(bp(b), uint32(len(b))) }

func hostLog(s string) { abiLog(sp(s), uint32(len(s))) }

func result() []byte {
	b := make([]byte, abiResultLen())
	abiResultRead(bp(b), uint32(len(b)))
	return b
}

func resultError(b []byte) error {
	te := &TableError{}
	if json.Unmarshal(b, te) != nil || te.Type == "" {
		te = &TableError{Type: "eddy#HostError", Message: string(b)}
	}
	return te
}

func tableCall(op string, req []byte) ([]byte, error) {
	st := abiTableCall(sp(op), uint32(len(op)), bp(req), uint32(len(req)))
	out := result()
	if st != 0 {
		return nil, resultError(out)
	}
	return out, nil
}

func hostEmit(sink string, doc []byte) error {
	if abiEmit(sp(sink), uint32(len(sink)), bp(doc), uint32(len(doc))) != 0 {
		return resultError(result())
	}
	return nil
}

func hostCallMany(frames []byte, n int) (int, error) {
	done := int(abiCallMany(bp(frames), uint32(len(frames))))
	if done < n {
		return done, resultError(result())
	}
	return done, nil
}
