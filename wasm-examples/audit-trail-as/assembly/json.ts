// A small JSON reader and string quoter: enough for DynamoDB stream events.
//
// parse builds a tree of Values. Each Value remembers where it was in the
// input, so a handler can copy a sub-tree (an image in DynamoDB JSON)
// into its output as is with raw(), without re-encoding it. Strings are
// decoded (escapes resolved); numbers are kept as their text, so nothing
// is rounded.

export enum Kind { Null, Bool, Number, String, Array, Object }

export class Value {
  /** The decoded string (String), or "true"/"false" (Bool). */
  str: string = "";
  /** The elements (Array). */
  items: Value[] = [];
  /** The member names, in input order (Object). */
  names: string[] = [];
  /** The member values, parallel to names (Object). */
  values: Value[] = [];

  constructor(public kind: Kind, public src: string, public start: i32, public end: i32) {}

  /** The value's JSON text, exactly as in the input. */
  raw(): string {
    return this.src.substring(this.start, this.end);
  }

  /** The member name of an Object, or null when there is none. */
  get(name: string): Value | null {
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] == name) return this.values[i];
    }
    return null;
  }

  /** The string member name, or def when it is missing or not a string. */
  getString(name: string, def: string = ""): string {
    const v = this.get(name);
    return v !== null && v.kind == Kind.String ? v.str : def;
  }

  /** The object member name, or null when it is missing or not an object. */
  getObject(name: string): Value | null {
    const v = this.get(name);
    return v !== null && v.kind == Kind.Object ? v : null;
  }
}

/** Parses text; on malformed JSON it returns null and sets parseError. */
export function parse(text: string): Value | null {
  const p = new Parser(text);
  p.space();
  const v = p.value(0);
  p.space();
  if (v !== null && p.i < text.length) p.fail("data after the value");
  if (p.err.length > 0) {
    parseError = p.err + " at offset " + p.i.toString();
    return null;
  }
  return v;
}

/** Why the last parse returned null. */
export let parseError = "";

// DynamoDB nests at most 32 levels; the event adds a few.
const MAX_DEPTH = 64;

class Parser {
  i: i32 = 0;
  err: string = "";

  constructor(public s: string) {}

  fail(msg: string): Value | null {
    if (this.err.length == 0) this.err = msg;
    return null;
  }

  space(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.i++;
    }
  }

  value(depth: i32): Value | null {
    if (depth > MAX_DEPTH) return this.fail("too deeply nested");
    if (this.i >= this.s.length) return this.fail("unexpected end of input");
    const c = this.s.charCodeAt(this.i);
    if (c == 0x7b) return this.object(depth); // {
    if (c == 0x5b) return this.array(depth); // [
    if (c == 0x22) { // "
      const start = this.i;
      const str = this.string();
      if (str === null) return null;
      const v = new Value(Kind.String, this.s, start, this.i);
      v.str = str;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(); // - 0-9
    if (this.s.startsWith("true", this.i)) return this.literal(Kind.Bool, "true");
    if (this.s.startsWith("false", this.i)) return this.literal(Kind.Bool, "false");
    if (this.s.startsWith("null", this.i)) return this.literal(Kind.Null, "null");
    return this.fail("unexpected character");
  }

  literal(kind: Kind, text: string): Value {
    const start = this.i;
    this.i += text.length;
    const v = new Value(kind, this.s, start, this.i);
    if (kind == Kind.Bool) v.str = text;
    return v;
  }

  number(): Value | null {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      const numeric = (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45;
      if (!numeric) break;
      this.i++;
    }
    if (this.i == start + 1 && this.s.charCodeAt(start) == 0x2d) return this.fail("bad number");
    return new Value(Kind.Number, this.s, start, this.i);
  }

  // string reads a quoted string at i and returns it decoded.
  string(): string | null {
    this.i++; // opening quote
    let out = "";
    let run = this.i; // start of the current run without escapes
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) { // closing quote
        out += this.s.substring(run, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c != 0x5c) { this.i++; continue; } // not a backslash
      out += this.s.substring(run, this.i);
      if (this.i + 1 >= this.s.length) break;
      const e = this.s.charCodeAt(this.i + 1);
      this.i += 2;
      if (e == 0x75) { // \uXXXX (a surrogate pair is two of them: two UTF-16 units, as AS strings hold)
        if (this.i + 4 > this.s.length) break;
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const d = hexValue(this.s.charCodeAt(this.i + k));
          if (d < 0) { this.fail("bad \\u escape"); return null; }
          code = code * 16 + d;
        }
        out += String.fromCharCode(code);
        this.i += 4;
      } else if (e == 0x22 || e == 0x5c || e == 0x2f) {
        out += String.fromCharCode(e);
      } else if (e == 0x62) { out += "\b";
      } else if (e == 0x66) { out += "\f";
      } else if (e == 0x6e) { out += "\n";
      } else if (e == 0x72) { out += "\r";
      } else if (e == 0x74) { out += "\t";
      } else { this.fail("bad escape"); return null; }
      run = this.i;
    }
    this.fail("unterminated string");
    return null;
  }

  array(depth: i32): Value | null {
    const v = new Value(Kind.Array, this.s, this.i, 0);
    this.i++; // [
    this.space();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x5d) {
      this.i++;
      v.end = this.i;
      return v;
    }
    while (true) {
      this.space();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.space();
      if (this.i >= this.s.length) return this.fail("unterminated array");
      const c = this.s.charCodeAt(this.i++);
      if (c == 0x5d) break; // ]
      if (c != 0x2c) return this.fail("expected , or ] in array");
    }
    v.end = this.i;
    return v;
  }

  object(depth: i32): Value | null {
    const v = new Value(Kind.Object, this.s, this.i, 0);
    this.i++; // {
    this.space();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x7d) {
      this.i++;
      v.end = this.i;
      return v;
    }
    while (true) {
      this.space();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x22) return this.fail("expected a member name");
      const name = this.string();
      if (name === null) return null;
      this.space();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x3a) return this.fail("expected :");
      this.i++;
      this.space();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.names.push(name);
      v.values.push(item);
      this.space();
      if (this.i >= this.s.length) return this.fail("unterminated object");
      const c = this.s.charCodeAt(this.i++);
      if (c == 0x7d) break; // }
      if (c != 0x2c) return this.fail("expected , or } in object");
    }
    v.end = this.i;
    return v;
  }
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10; // a-f
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10; // A-F
  return -1;
}

const HEX = "0123456789abcdef";

/** s as a JSON string literal, quotes included. */
export function quote(s: string): string {
  let out = "\"";
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(run, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    run = i + 1;
  }
  return out + s.substring(run) + "\"";
}
