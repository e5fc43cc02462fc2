package triggerstest

import "bytes"

// Module describes a tiny hand-assembled eddy-abi-v1 module for tests that
// need what a Go guest can not easily be: a huge declared memory, an
// _initialize that traps, an import the host does not provide, a handler
// that spins or fills memory. Bytes assembles it (there is no wat2wasm on
// the build machines).
//
// The module defines one memory (MemoryMin pages, MemoryMax if not zero),
// exports it as "memory", and exports eddy_abi_v1 () -> (), handle () -> i32
// with the Handle body, and _initialize () -> () with the Init body when
// Init is not nil. Imports are functions of type () -> ().
type Module struct {
	MemoryMin uint32
	MemoryMax uint32 // 0: no maximum declared
	Imports   []Import
	// Init is the body of _initialize (instructions, without the final
	// end); nil exports no _initialize.
	Init []byte
	// Handle is the body of handle (instructions leaving one i32, without
	// the final end); nil returns 0 (success, no output).
	Handle []byte
}

// Import is one imported function taking Params i32s and returning
// Results i32s (0 and 0: () -> ()).
type Import struct {
	Module, Name    string
	Params, Results int
}

// Instruction sequences for Module bodies.
var (
	// Unreachable traps.
	Unreachable = []byte{0x00}
	// Spin loops forever (loop br 0 end).
	Spin = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}
	// ReturnOK leaves status 0 on the stack.
	ReturnOK = I32Const(0)
)

// TableCall is an import of eddy.table_call, and TableGetItem a handler
// body that calls it (as import 0) with op "GetItem" and an empty request,
// then returns 0: a handler that waits as long as Tables.Call does.
var (
	TableCall    = Import{Module: "eddy", Name: "table_call", Params: 4, Results: 1}
	TableGetItem = tableGetItem()
)

func tableGetItem() []byte {
	var b []byte
	for i, c := range []byte("GetItem") {
		b = append(b, I32Const(int32(i))...)
		b = append(b, I32Const(int32(c))...)
		b = append(b, 0x3a, 0, 0) // i32.store8
	}
	for _, n := range []int32{0, 7, 0, 0} {
		b = append(b, I32Const(n)...)
	}
	b = append(b, 0x10, 0, 0x1a) // call 0, drop
	return append(b, ReturnOK...)
}

// I32Const is i32.const n.
func I32Const(n int32) []byte { return append([]byte{0x41}, sleb(int64(n))...) }

// MemoryFill is memory.fill of n bytes of value 0x5a from address 0.
func MemoryFill(n uint32) []byte {
	b := append(I32Const(0), I32Const(0x5a)...)
	b = append(b, I32Const(int32(n))...)
	return append(b, 0xfc, 0x0b, 0x00)
}

// Bytes assembles the module.
func (m Module) Bytes() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body []byte) {
		out = append(out, id)
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	str := func(b []byte, s string) []byte {
		b = append(b, uleb(uint64(len(s)))...)
		return append(b, s...)
	}
	// Types: 0 = () -> (), 1 = () -> i32, 2+i = import i's.
	types := uleb(uint64(2 + len(m.Imports)))
	types = append(types, 0x60, 0, 0, 0x60, 0, 1, 0x7f)
	for _, im := range m.Imports {
		types = append(types, 0x60)
		types = append(types, uleb(uint64(im.Params))...)
		types = append(types, bytes.Repeat([]byte{0x7f}, im.Params)...)
		types = append(types, uleb(uint64(im.Results))...)
		types = append(types, bytes.Repeat([]byte{0x7f}, im.Results)...)
	}
	section(1, types)
	if len(m.Imports) > 0 {
		b := uleb(uint64(len(m.Imports)))
		for i, im := range m.Imports {
			b = str(b, im.Module)
			b = str(b, im.Name)
			b = append(b, 0x00) // func
			b = append(b, uleb(uint64(2+i))...)
		}
		section(2, b)
	}
	// Functions (after the imports): eddy_abi_v1, handle, [_initialize].
	nfn := 2
	ftypes := []byte{0, 1}
	if m.Init != nil {
		nfn++
		ftypes = append(ftypes, 0)
	}
	section(3, append(uleb(uint64(nfn)), ftypes...))
	mem := []byte{1}
	if m.MemoryMax != 0 {
		mem = append(mem, 1)
		mem = append(mem, uleb(uint64(m.MemoryMin))...)
		mem = append(mem, uleb(uint64(m.MemoryMax))...)
	} else {
		mem = append(mem, 0)
		mem = append(mem, uleb(uint64(m.MemoryMin))...)
	}
	section(5, mem)
	base := uint64(len(m.Imports))
	exp := uleb(uint64(nfn + 1))
	exp = append(str(exp, "memory"), 0x02, 0)
	exp = append(str(exp, "eddy_abi_v1"), 0x00)
	exp = append(exp, uleb(base)...)
	exp = append(str(exp, "handle"), 0x00)
	exp = append(exp, uleb(base+1)...)
	if m.Init != nil {
		exp = append(str(exp, "_initialize"), 0x00)
		exp = append(exp, uleb(base+2)...)
	}
	section(7, exp)
	handle := m.Handle
	if handle == nil {
		handle = ReturnOK
	}
	bodies := [][]byte{nil, handle}
	if m.Init != nil {
		bodies = append(bodies, m.Init)
	}
	code := uleb(uint64(len(bodies)))
	for _, b := range bodies {
		fn := append([]byte{0}, b...) // no locals
		fn = append(fn, 0x0b)
		code = append(code, uleb(uint64(len(fn)))...)
		code = append(code, fn...)
	}
	section(10, code)
	return out
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
