package triggers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// The deadline guard: how eddy stops a runaway guest cheaply.
//
// wazero's own guard (RuntimeConfig.WithCloseOnContextDone) compiles, at
// every loop header, an indirect call to a trampoline that checks whether
// the module was closed. Go's wasm backend turns nearly every loop and most
// control flow into wasm loops, so that call runs millions of times per
// second of guest work: it cost 5-10x on decoding code (mappings/doc.go).
//
// eddy instead rewrites the module before compiling it (instrumentGuard):
// it adds two mutable i32 globals, a fuel counter and the guard flag
// (exported as guardExport), and at the start of every loop body inserts
//
//	fuel = fuel - 1
//	if fuel == 0 {
//	  memory.grow 0        ;; an exit to Go: a GC safepoint
//	  if guard { unreachable }
//	  fuel = guardFuel
//	}
//
// which wazero compiles to a load, a subtraction, a store and a branch
// (the module is then compiled without wazero's checks). A watchdog
// (context.AfterFunc on the invocation's context, see instance.guarded)
// sets the flag when the deadline passes or the invocation is canceled;
// the guest traps within guardFuel loop iterations, reported as
// Sandbox.Timedout because the deadline has passed.
//
// The periodic exit to Go is not optional. Native code that never leaves
// wasm can not be preempted, so a garbage collection's stop-the-world
// would wait for the spinning guest forever, and the watchdog, a
// goroutine, would never run: a first version that checked only the flag
// hung that way about one run in three. memory.grow with delta 0 leaves
// the wasm code for wazero's Go side (which returns the size at once), so
// the world can stop there. Every unbounded computation in wasm goes
// through a loop header or a call; calls can only recurse as deep as the
// stack, so loops are the only place to check. Tail calls (return_call)
// would escape that argument, so a module using them is not
// instrumented.
//
// A module the rewriter does not understand (an opcode outside the MVP,
// sign-extension, saturating conversions, bulk memory and reference
// types: SIMD, threads, exception handling, tail calls, a start
// function, a global index the guard would shadow) is compiled with
// wazero's guard instead: the guarantee never depends on the rewrite.

// guardExport is the name of the guard global the rewrite exports.
const guardExport = "eddy_guard"

// guardFuel is how many loop iterations a guest runs between two exits to
// Go (each a chance for the runtime to stop the world, and for the guard
// flag to be seen): about 20-200 µs of guest work.
const guardFuel = 1 << 14

var errNoGuard = errors.New("module not instrumented")

// instrumentGuard returns code with the guard added (see above), or an
// error when it cannot add it (then the caller falls back to wazero's
// guard).
func instrumentGuard(code []byte) ([]byte, error) {
	if len(code) < 8 || !bytes.Equal(code[:4], []byte("\x00asm")) {
		return nil, errNoGuard
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for p := code[8:]; len(p) > 0; {
		id := p[0]
		n, k, ok := readU32(p[1:])
		if !ok || uint64(len(p)-1-k) < uint64(n) {
			return nil, errNoGuard
		}
		secs = append(secs, section{id, p[1+k : 1+k+int(n)]})
		p = p[1+k+int(n):]
	}
	// The guard's index: after every imported and defined global.
	var globals uint32
	haveGlobal, haveExport, haveMemory := false, false, false
	for _, s := range secs {
		switch s.id {
		case 2:
			g, mem, err := importedGlobals(s.body)
			if err != nil {
				return nil, err
			}
			globals += g
			haveMemory = haveMemory || mem
		case 5:
			n, _, _ := readU32(s.body)
			haveMemory = haveMemory || n > 0
		case 6:
			n, _, ok := readU32(s.body)
			if !ok {
				return nil, errNoGuard
			}
			globals += n
			haveGlobal = true
		case 7:
			haveExport = true
		case 8:
			return nil, fmt.Errorf("%w: start function", errNoGuard)
		}
	}
	if !haveExport {
		return nil, errNoGuard
	}
	if !haveMemory {
		return nil, fmt.Errorf("%w: no memory", errNoGuard)
	}
	fuel, guard := globals, globals+1
	newGlobal := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b} // mut i32 = i32.const 0
	newGlobal = append(append([]byte{0x7f, 0x01, 0x41}, appendS32(nil, guardFuel)...), append([]byte{0x0b}, newGlobal...)...)
	F, G := appendU32(nil, fuel), appendU32(nil, guard)
	var check []byte
	check = append(append(append(check, 0x23), F...), 0x41, 0x01, 0x6b) // global.get F; i32.const 1; i32.sub
	check = append(append(check, 0x24), F...)                           // global.set F
	check = append(append(check, 0x23), F...)                           // global.get F
	check = append(check, 0x45, 0x04, 0x40)                             // i32.eqz; if
	check = append(check, 0x41, 0x00, 0x40, 0x00, 0x1a)                 //   i32.const 0; memory.grow 0; drop
	check = append(append(check, 0x23), G...)                           //   global.get G
	check = append(check, 0x04, 0x40, 0x00, 0x0b)                       //   if unreachable end
	check = append(append(check, 0x41), appendS32(nil, guardFuel)...)   //   i32.const guardFuel
	check = append(append(check, 0x24), F...)                           //   global.set F
	check = append(check, 0x0b)                                         // end

	out := append([]byte(nil), code[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// Section order rank (custom sections keep their place).
	rank := map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
	for _, s := range secs {
		if !haveGlobal && s.id != 0 && rank[s.id] > rank[6] {
			emit(6, append([]byte{2}, newGlobal...))
			haveGlobal = true
		}
		switch s.id {
		case 6:
			n, k, _ := readU32(s.body)
			body := appendU32(nil, n+2)
			body = append(append(body, s.body[k:]...), newGlobal...)
			emit(6, body)
		case 7:
			n, k, ok := readU32(s.body)
			if !ok {
				return nil, errNoGuard
			}
			body := appendU32(nil, n+1)
			body = append(body, s.body[k:]...)
			body = appendU32(body, uint32(len(guardExport)))
			body = append(body, guardExport...)
			body = append(body, 0x03) // global
			body = appendU32(body, guard)
			emit(7, body)
		case 10:
			body, err := instrumentCode(s.body, fuel, check)
			if err != nil {
				return nil, err
			}
			emit(10, body)
		default:
			emit(s.id, s.body)
		}
	}
	return out, nil
}

// importedGlobals counts the global imports of an import section, and
// tells whether it imports a memory.
func importedGlobals(b []byte) (uint32, bool, error) {
	globals, mem, err := scanImports(b)
	return globals, mem, err
}

func scanImports(b []byte) (globals uint32, mem bool, err error) {
	n, k, ok := readU32(b)
	if !ok {
		return 0, false, errNoGuard
	}
	b = b[k:]
	for range n {
		for range 2 { // module, name
			l, k, ok := readU32(b)
			if !ok || uint64(len(b)-k) < uint64(l) {
				return 0, false, errNoGuard
			}
			b = b[k+int(l):]
		}
		if len(b) < 1 {
			return 0, false, errNoGuard
		}
		kind := b[0]
		b = b[1:]
		switch kind {
		case 0: // func: type index
			_, k, ok := readU32(b)
			if !ok {
				return 0, false, errNoGuard
			}
			b = b[k:]
		case 1: // table: reftype, limits
			if len(b) < 1 {
				return 0, false, errNoGuard
			}
			var err error
			if b, err = skipLimits(b[1:]); err != nil {
				return 0, false, err
			}
		case 2: // memory: limits
			mem = true
			var err error
			if b, err = skipLimits(b); err != nil {
				return 0, false, err
			}
		case 3: // global: valtype, mut
			if len(b) < 2 {
				return 0, false, errNoGuard
			}
			b = b[2:]
			globals++
		default:
			return 0, false, errNoGuard
		}
	}
	return globals, mem, nil
}

func skipLimits(b []byte) ([]byte, error) {
	if len(b) < 1 {
		return nil, errNoGuard
	}
	flag := b[0]
	if flag > 1 {
		return nil, errNoGuard // shared or 64-bit memories: not ours to rewrite
	}
	b = b[1:]
	for range int(flag) + 1 {
		_, k, ok := readU32(b)
		if !ok {
			return nil, errNoGuard
		}
		b = b[k:]
	}
	return b, nil
}

// instrumentCode rewrites a code section: check after every loop's block
// type.
func instrumentCode(b []byte, first uint32, check []byte) ([]byte, error) {
	n, k, ok := readU32(b)
	if !ok {
		return nil, errNoGuard
	}
	b = b[k:]
	out := appendU32(make([]byte, 0, len(b)+len(b)/8), n)
	var body []byte
	for range n {
		size, k, ok := readU32(b)
		if !ok || uint64(len(b)-k) < uint64(size) {
			return nil, errNoGuard
		}
		fn := b[k : k+int(size)]
		b = b[k+int(size):]
		var err error
		if body, err = instrumentBody(body[:0], fn, first, check); err != nil {
			return nil, err
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if len(b) != 0 {
		return nil, errNoGuard
	}
	return out, nil
}

func instrumentBody(out, fn []byte, first uint32, check []byte) ([]byte, error) {
	// Locals: vec of (count, valtype).
	n, k, ok := readU32(fn)
	if !ok {
		return nil, errNoGuard
	}
	p := k
	for range n {
		_, k, ok := readU32(fn[p:])
		if !ok || p+k >= len(fn) {
			return nil, errNoGuard
		}
		p += k + 1
	}
	out = append(out, fn[:p]...)
	r := reader{b: fn, p: p}
	for r.p < len(fn) {
		start := r.p
		op := r.byte()
		switch {
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
		case op == 0x03: // loop
			r.blockType()
			if r.bad {
				return nil, errNoGuard
			}
			out = append(out, fn[start:r.p]...)
			out = append(out, check...)
			continue
		case op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26 || op == 0xd2:
			r.u32()
		case op == 0x23 || op == 0x24: // global.get, global.set
			if r.u32() >= first { // the guard's globals: not the guest's to touch
				return nil, fmt.Errorf("%w: global index out of range", errNoGuard)
			}
		case op == 0x0e: // br_table
			for range r.u32() {
				r.u32()
			}
			r.u32()
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			for range r.u32() {
				r.byte()
			}
		case op >= 0x28 && op <= 0x3e: // loads, stores: memarg
			if r.u32()&0x40 != 0 { // multi-memory
				return nil, errNoGuard
			}
			r.u32()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.leb(32)
		case op == 0x42:
			r.leb(64)
		case op == 0x43:
			r.skip(4)
		case op == 0x44:
			r.skip(8)
		case op == 0xd0: // ref.null t
			r.byte()
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 ||
			(op >= 0x45 && op <= 0xc4):
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7: // saturating truncations
			case sub == 8: // memory.init data, mem
				r.u32()
				r.u32()
			case sub == 9 || sub == 11 || sub == 13 || sub == 15 || sub == 16 || sub == 17:
				r.u32()
			case sub == 10 || sub == 12 || sub == 14:
				r.u32()
				r.u32()
			default:
				return nil, errNoGuard
			}
		default: // SIMD, threads, exceptions, tail calls, GC...
			return nil, fmt.Errorf("%w: opcode 0x%02x", errNoGuard, op)
		}
		if r.bad {
			return nil, errNoGuard
		}
		out = append(out, fn[start:r.p]...)
	}
	return out, nil
}

type reader struct {
	b   []byte
	p   int
	bad bool
}

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.bad = true
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) skip(n int) {
	if r.p+n > len(r.b) {
		r.bad = true
		return
	}
	r.p += n
}

func (r *reader) u32() uint32 {
	v, k, ok := readU32(r.b[min(r.p, len(r.b)):])
	if !ok {
		r.bad = true
		return 0
	}
	r.p += k
	return v
}

// leb skips a signed LEB128 of at most bits bits.
func (r *reader) leb(bits int) {
	for i := 0; i < (bits+6)/7; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.bad = true
}

// blockType skips a block type: 0x40, a value type, or a type index (s33).
func (r *reader) blockType() {
	if r.p >= len(r.b) {
		r.bad = true
		return
	}
	switch c := r.b[r.p]; c {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.p++
	default:
		r.leb(33)
	}
}

func readU32(b []byte) (v uint32, n int, ok bool) {
	var shift uint
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, true
		}
		shift += 7
	}
	return 0, 0, false
}

// appendS32 appends v as a signed LEB128 (i32.const's immediate).
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendU32(b []byte, v uint32) []byte {
	return binary.AppendUvarint(b, uint64(v))
}

// guarded runs f (a call into the instance) with the watchdog armed: when
// ctx ends before f returns, the guard global is set and the guest traps at
// its next loop header. Without a guard (trusted code, or a module on
// wazero's own guard) it just runs f.
func (inst *instance) guarded(ctx context.Context, f func() error) error {
	if inst.guard == nil {
		return f()
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		inst.guard.Set(1)
		close(fired)
	})
	err := f()
	if !stop() {
		// The watchdog ran (or is running): wait for it, then clear the
		// flag for the instance's next call if it is kept.
		<-fired
		inst.guard.Set(0)
	}
	return err
}

// guardOf returns the guard global of an instrumented module's instance.
func guardOf(mod api.Module) api.MutableGlobal {
	g, _ := mod.ExportedGlobal(guardExport).(api.MutableGlobal)
	return g
}
