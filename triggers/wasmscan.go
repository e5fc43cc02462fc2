package triggers

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// moduleInfo is what the host reads from a module's binary before it
// compiles or instantiates it: its imports of every kind and its declared
// memory. wazero's CompiledModule names only function and memory imports
// and exported memories; a module's own memory need not be exported, and
// an imported table or global would only fail at instantiation.
type moduleInfo struct {
	imports []wasmImport
	// memMin and memMax are the declared pages of the module's own memory
	// (hasMax: a maximum is declared); hasMem is false when it defines none.
	hasMem, hasMax bool
	memMin, memMax uint64
}

type wasmImport struct {
	module, name string
	kind         byte // 0 func, 1 table, 2 memory, 3 global, 4 tag
}

func (im wasmImport) String() string { return im.module + "." + im.name }

func (im wasmImport) kindName() string {
	switch im.kind {
	case 0:
		return "function"
	case 1:
		return "table"
	case 2:
		return "memory"
	case 3:
		return "global"
	}
	return "tag"
}

var errWasmFormat = errors.New("malformed WebAssembly binary")

// scanModule reads the import and memory sections of a wasm binary. It
// reads only declared lengths it has checked against the bytes it holds,
// so a hostile module costs at most one pass over its own bytes; anything
// it does not understand is left to the compiler.
func scanModule(code []byte) (*moduleInfo, error) {
	r := &wasmReader{b: code}
	if len(code) < 8 || string(code[:4]) != "\x00asm" || binary.LittleEndian.Uint32(code[4:8]) != 1 {
		return nil, fmt.Errorf("%w: not a version 1 WebAssembly module", errWasmFormat)
	}
	r.off = 8
	info := &moduleInfo{}
	for r.off < len(r.b) {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)-r.off) {
			return nil, fmt.Errorf("%w: section %d overruns the module", errWasmFormat, id)
		}
		sec := &wasmReader{b: r.b[r.off : r.off+int(size)]}
		r.off += int(size)
		switch id {
		case 2: // imports
			n := sec.u32()
			for i := uint32(0); i < n && sec.err == nil; i++ {
				im := wasmImport{module: sec.name(), name: sec.name(), kind: sec.byte()}
				switch im.kind {
				case 0: // type index
					sec.u32()
				case 1: // table: reftype, limits
					sec.byte()
					sec.limits()
				case 2: // memory: limits
					sec.limits()
				case 3: // global: valtype, mutability
					sec.byte()
					sec.byte()
				case 4: // tag: attribute, type index
					sec.byte()
					sec.u32()
				default:
					return nil, fmt.Errorf("%w: import kind %d", errWasmFormat, im.kind)
				}
				info.imports = append(info.imports, im)
			}
		case 5: // memories
			if n := sec.u32(); n > 0 && sec.err == nil {
				info.hasMem = true
				info.memMin, info.memMax, info.hasMax = sec.limits()
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errWasmFormat, id, sec.err)
		}
	}
	return info, r.err
}

// wasmReader decodes LEB128 and names from a byte slice; the first error
// sticks and every later read returns zero.
type wasmReader struct {
	b   []byte
	off int
	err error
}

func (r *wasmReader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = errors.New("unexpected end")
	}
}

func (r *wasmReader) uleb(maxBits uint) uint64 {
	var v uint64
	for shift := uint(0); shift < maxBits+7; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v>>maxBits != 0 {
				r.err = errors.New("integer too large")
				return 0
			}
			return v
		}
	}
	r.err = errors.New("integer too long")
	return 0
}

func (r *wasmReader) u32() uint32 { return uint32(r.uleb(32)) }

func (r *wasmReader) name() string {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)-r.off) {
		r.fail()
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}

// limits reads a memory or table type's limits (flags 0/1, and the
// shared/64-bit flags, whose bounds are read as 64-bit).
func (r *wasmReader) limits() (lo, hi uint64, hasMax bool) {
	flags := r.byte()
	bits := uint(32)
	if flags&0x04 != 0 {
		bits = 64
	}
	lo = r.uleb(bits)
	if flags&0x01 != 0 {
		hi, hasMax = r.uleb(bits), true
	}
	return lo, hi, hasMax
}
