package triggers

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/eddydb/eddy/triggers/guest"
)

// abiModule is the import module of the eddy-abi-v1 host functions. The
// contract is written down in ABI.md; keep the two in step.
const abiModule = "eddy"

// Status codes host functions return to the guest.
const (
	statusOK    = 0
	statusError = 1
)

var abiFuncs = map[string]bool{
	"input_len": true, "input_read": true, "output_write": true,
	"result_len": true, "result_read": true,
	"table_call": true, "emit": true, "log": true, "call_many": true,
	"input_index": true,
}

type invocationKey struct{}

// invocation is the per-call state the host functions reach through the
// context passed to the handler export.
type invocation struct {
	h      *Host
	input  []byte
	output []byte
	hasOut bool
	// tooLarge: the guest wrote a response longer than maxResponse.
	tooLarge bool
	result   []byte // response of the last table_call / emit
	// index is the input's event index (input_index), built on the
	// guest's first ask; indexed: it was built (nil: not a stream event).
	index   []byte
	indexed bool
	// indexBuf is the instance's buffer for index, kept across invocations.
	indexBuf []byte
	logs     *logBuffer
	// cpu is the invocation's hold on the host's cpuGate, given back while
	// a table call or emit waits.
	cpu *cpuHold
}

// waitOutside runs f, a host call that may wait, with the invocation's CPU
// slot given back, and takes it again before the guest resumes. If ctx
// ends meanwhile the guest resumes without one only to be stopped at its
// next termination check (the module is closed on context done).
func (inv *invocation) waitOutside(ctx context.Context, f func()) {
	inv.cpu.release()
	f()
	_ = inv.cpu.acquire(ctx)
}

func invocationOf(ctx context.Context) *invocation {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	if inv == nil {
		// Host functions called outside an invocation (from _initialize).
		panic(fmt.Errorf("eddy host function called outside an invocation"))
	}
	return inv
}

// read copies guest memory [ptr, ptr+n); an out-of-range slice traps the
// guest.
func read(mod api.Module, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("eddy: guest memory access out of range [%d,+%d)", ptr, n))
	}
	return append([]byte(nil), b...)
}

func write(mod api.Module, ptr, n uint32, src []byte) uint32 {
	if uint32(len(src)) < n {
		n = uint32(len(src))
	}
	if !mod.Memory().Write(ptr, src[:n]) {
		panic(fmt.Errorf("eddy: guest memory access out of range [%d,+%d)", ptr, n))
	}
	return n
}

var (
	i32 = api.ValueTypeI32
)

func instantiateABI(ctx context.Context, h *Host, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(abiModule)
	fn := func(name string, params, results []api.ValueType, f api.GoModuleFunc) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("input_len", nil, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		s[0] = uint64(len(invocationOf(ctx).input))
	})
	fn("input_read", []api.ValueType{i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		s[0] = uint64(write(mod, uint32(s[0]), uint32(s[1]), invocationOf(ctx).input))
	})
	fn("input_index", []api.ValueType{i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		if !inv.indexed {
			inv.indexed = true
			// An index is about 0.6 of its event's size (228 bytes of a
			// 400-byte record with four attributes): at most one
			// allocation, none once the instance's buffer is large enough.
			buf := inv.indexBuf[:0]
			if cap(buf) < len(inv.input) {
				buf = make([]byte, 0, len(inv.input))
			}
			if idx, err := guest.AppendEventIndex(buf, inv.input); err == nil {
				inv.index, inv.indexBuf = idx, idx
			}
		}
		if uint32(len(inv.index)) <= uint32(s[1]) {
			write(mod, uint32(s[0]), uint32(s[1]), inv.index)
		}
		s[0] = uint64(len(inv.index))
	})
	fn("output_write", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		if int(uint32(s[1])) > h.maxResponse() {
			// Not a trap: Lambda fails the invocation and keeps the instance.
			inv.output, inv.hasOut, inv.tooLarge = nil, false, true
			return
		}
		inv.output, inv.hasOut, inv.tooLarge = read(mod, uint32(s[0]), uint32(s[1])), true, false
	})
	fn("result_len", nil, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		s[0] = uint64(len(invocationOf(ctx).result))
	})
	fn("result_read", []api.ValueType{i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		s[0] = uint64(write(mod, uint32(s[0]), uint32(s[1]), invocationOf(ctx).result))
	})
	fn("table_call", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		op := string(read(mod, uint32(s[0]), uint32(s[1])))
		req := read(mod, uint32(s[2]), uint32(s[3]))
		s[0] = statusOK
		switch op {
		case "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query":
		default:
			inv.result, s[0] = tableErrorJSON(&TableError{
				Type:    "com.amazon.coral.service#UnknownOperationException",
				Message: "eddy.table_call does not support operation " + op,
			}), statusError
			return
		}
		if h.deps.Tables == nil {
			inv.result, s[0] = tableErrorJSON(fmt.Errorf("no tables configured")), statusError
			return
		}
		var resp []byte
		var err error
		inv.waitOutside(ctx, func() { resp, err = h.deps.Tables.Call(ctx, op, req) })
		if err != nil {
			inv.result, s[0] = tableErrorJSON(err), statusError
			return
		}
		inv.result = resp
	})
	fn("emit", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		sink := string(read(mod, uint32(s[0]), uint32(s[1])))
		doc := read(mod, uint32(s[2]), uint32(s[3]))
		s[0], inv.result = statusOK, nil
		var err error
		if h.deps.Sinks == nil {
			err = fmt.Errorf("no sinks configured")
		} else {
			inv.waitOutside(ctx, func() { err = h.deps.Sinks.Emit(ctx, sink, doc) })
		}
		if err != nil {
			inv.result = mustJSON(map[string]string{"__type": "eddy#SinkError", "message": err.Error()})
			s[0] = statusError
		}
	})
	fn("call_many", []api.ValueType{i32, i32}, []api.ValueType{i32}, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		frames := read(mod, uint32(s[0]), uint32(s[1]))
		var done uint64
		inv.result = nil
		inv.waitOutside(ctx, func() { done, inv.result = h.callMany(ctx, frames) })
		s[0] = done
	})
	fn("log", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, s []uint64) {
		inv := invocationOf(ctx)
		b, ok := mod.Memory().Read(uint32(s[0]), uint32(s[1]))
		if !ok {
			panic(fmt.Errorf("eddy: guest memory access out of range"))
		}
		inv.logs.writeLine(b)
	})
	_, err := b.Instantiate(ctx)
	return err
}

// callMany runs eddy-abi-v2's call_many frames in order (ABI.md): table
// writes through Tables, emits through Sinks, as table_call and emit do.
// It stops at the first failure and returns how many calls succeeded and
// that failure's error JSON. One host crossing serves a batch's writes.
func (h *Host) callMany(ctx context.Context, frames []byte) (uint64, []byte) {
	var done uint64
	for len(frames) > 0 {
		kind, name, body, rest, ok := nextFrame(frames)
		if !ok {
			return done, tableErrorJSON(&TableError{Type: "com.amazon.coral.validate#ValidationException",
				Message: "eddy.call_many: malformed call list"})
		}
		frames = rest
		switch kind {
		case 'T':
			switch name {
			case "PutItem", "UpdateItem", "DeleteItem":
			default:
				return done, tableErrorJSON(&TableError{
					Type:    "com.amazon.coral.service#UnknownOperationException",
					Message: "eddy.call_many does not support operation " + name + " (only PutItem, UpdateItem, DeleteItem and emits)",
				})
			}
			if h.deps.Tables == nil {
				return done, tableErrorJSON(fmt.Errorf("no tables configured"))
			}
			if _, err := h.deps.Tables.Call(ctx, name, body); err != nil {
				return done, tableErrorJSON(err)
			}
		case 'E':
			err := fmt.Errorf("no sinks configured")
			if h.deps.Sinks != nil {
				err = h.deps.Sinks.Emit(ctx, name, body)
			}
			if err != nil {
				return done, mustJSON(map[string]string{"__type": "eddy#SinkError", "message": err.Error()})
			}
		default:
			return done, tableErrorJSON(&TableError{Type: "com.amazon.coral.validate#ValidationException",
				Message: fmt.Sprintf("eddy.call_many: unknown call kind %q", kind)})
		}
		done++
	}
	return done, nil
}

// nextFrame splits one call off a call_many list: kind (1 byte), name
// length (u32 little endian), name, body length (u32), body.
func nextFrame(b []byte) (kind byte, name string, body, rest []byte, ok bool) {
	if len(b) < 5 {
		return 0, "", nil, nil, false
	}
	kind, b = b[0], b[1:]
	n := binary.LittleEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n)+4 {
		return 0, "", nil, nil, false
	}
	name, b = string(b[4:4+n]), b[4+n:]
	m := binary.LittleEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(m) {
		return 0, "", nil, nil, false
	}
	return kind, name, b[4 : 4+m], b[4+m:], true
}
