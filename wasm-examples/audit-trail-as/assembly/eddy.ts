// eddy-abi-v1, guest side, written from triggers/ABI.md.
//
// The host passes UTF-8 bytes; AssemblyScript strings are UTF-16. Every
// string crossing the boundary goes through String.UTF8.encode/decode here,
// so the rest of the handler works with ordinary strings.

// Host functions (module "eddy"). Pointers and lengths are i32 offsets and
// byte counts in this module's memory; the guest always allocates.
@external("eddy", "input_len") declare function input_len(): i32;
@external("eddy", "input_read") declare function input_read(ptr: usize, len: i32): i32;
@external("eddy", "output_write") declare function output_write(ptr: usize, len: i32): void;
@external("eddy", "table_call") declare function table_call(opPtr: usize, opLen: i32, reqPtr: usize, reqLen: i32): i32;
@external("eddy", "emit") declare function eddy_emit(sinkPtr: usize, sinkLen: i32, docPtr: usize, docLen: i32): i32;
@external("eddy", "result_len") declare function result_len(): i32;
@external("eddy", "result_read") declare function result_read(ptr: usize, len: i32): i32;
@external("eddy", "log") declare function eddy_log(ptr: usize, len: i32): void;

// WASI, for the environment (the function's Environment.Variables) and
// stderr (abort below). eddy allows no other import module.
@external("wasi_snapshot_preview1", "environ_sizes_get") declare function environ_sizes_get(countPtr: usize, sizePtr: usize): u16;
@external("wasi_snapshot_preview1", "environ_get") declare function environ_get(environPtr: usize, bufPtr: usize): u16;
@external("wasi_snapshot_preview1", "fd_write") declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, written: usize): u16;

/** The invocation's input (the stream event), decoded from UTF-8. */
export function input(): string {
  const buf = new ArrayBuffer(input_len());
  const n = input_read(changetype<usize>(buf), buf.byteLength);
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>n);
}

/** Sets the invocation's response (replacing any earlier one). */
export function output(s: string): void {
  const b = String.UTF8.encode(s);
  output_write(changetype<usize>(b), b.byteLength);
}

/** Appends a line to the invocation log. */
export function log(s: string): void {
  const b = String.UTF8.encode(s);
  eddy_log(changetype<usize>(b), b.byteLength);
}

/**
 * The outcome of a table call or an emit: ok, and the body the host set as
 * the result (the DynamoDB response, or the error JSON when !ok).
 */
export class Result {
  constructor(public ok: bool, public body: string) {}
}

function lastResult(status: i32): Result {
  const buf = new ArrayBuffer(result_len());
  const n = result_read(changetype<usize>(buf), buf.byteLength);
  return new Result(status == 0, String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>n));
}

/**
 * Calls DynamoDB operation op (GetItem, PutItem, UpdateItem, DeleteItem,
 * Query) with request, that operation's JSON request body.
 */
export function tableCall(op: string, request: string): Result {
  const o = String.UTF8.encode(op);
  const r = String.UTF8.encode(request);
  const status = table_call(changetype<usize>(o), o.byteLength, changetype<usize>(r), r.byteLength);
  return lastResult(status);
}

/** Sends the JSON document doc to the sink named sink. */
export function emit(sink: string, doc: string): Result {
  const s = String.UTF8.encode(sink);
  const d = String.UTF8.encode(doc);
  const status = eddy_emit(changetype<usize>(s), s.byteLength, changetype<usize>(d), d.byteLength);
  return lastResult(status);
}

/** The environment variable name, or def when it is unset or empty. */
export function getenv(name: string, def: string): string {
  const sizes = new ArrayBuffer(8); // count, then total bytes
  if (environ_sizes_get(changetype<usize>(sizes), changetype<usize>(sizes) + 4) != 0) return def;
  const count = load<u32>(changetype<usize>(sizes));
  const size = load<u32>(changetype<usize>(sizes), 4);
  const ptrs = new ArrayBuffer(<i32>count * 4);
  const buf = new ArrayBuffer(<i32>size);
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return def;
  // Each entry is "NAME=value\0"; the pointers point into buf.
  for (let i: u32 = 0; i < count; i++) {
    const p = <usize>load<u32>(changetype<usize>(ptrs) + (<usize>i << 2));
    let end = p;
    while (load<u8>(end) != 0) end++;
    const entry = String.UTF8.decodeUnsafe(p, end - p);
    const eq = entry.indexOf("=");
    if (eq > 0 && entry.substring(0, eq) == name) {
      const v = entry.substring(eq + 1);
      return v.length > 0 ? v : def;
    }
  }
  return def;
}

/** Writes s to stderr, which the host adds to the invocation log. */
function stderr(s: string): void {
  const b = String.UTF8.encode(s);
  const iov = new ArrayBuffer(12); // {buf, len}, then the written count
  store<u32>(changetype<usize>(iov), <u32>changetype<usize>(b));
  store<u32>(changetype<usize>(iov), <u32>b.byteLength, 4);
  fd_write(2, changetype<usize>(iov), 1, changetype<usize>(iov) + 8);
}

/**
 * Replaces AssemblyScript's env.abort import (asconfig.json: "use":
 * abort=assembly/eddy/abort), which eddy would refuse. A failed assertion,
 * an out-of-bounds index or a throw ends here: the message goes to stderr
 * as a "panic:" line, which the host quotes in the Runtime.Trap error (as
 * for a Go panic), and the instance traps.
 */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let where = "";
  if (fileName !== null) where = " at " + fileName + ":" + line.toString() + ":" + column.toString();
  stderr("panic: abort: " + (message !== null ? message : "") + where + "\n");
  unreachable();
}
