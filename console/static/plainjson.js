// Plain JSON with type hints ↔ DynamoDB JSON, exact to the last digit.
//
// Plain JSON maps onto DynamoDB's types as a document SDK does: a string
// is S, a number N, true/false BOOL, null NULL, an array L, an object M.
// What JSON cannot say is written as an object with one "$" key, a hint
// the user sees and edits:
//
//	{"$ss": ["a", "b"]}     string set (SS)
//	{"$ns": [1, 2.5]}       number set (NS)
//	{"$bs": ["AAE="]}       binary set (BS), base64
//	{"$b": "AAE="}          binary (B), base64
//	{"$n": "1e3"}           a number written as a string
//	{"$m": {"$ss": 1}}      a map whose own keys would read as a hint
//
// Numbers never pass through a JS Number (53 bits): the tokenizer below
// keeps each number's text, so DynamoDB's 38 digits survive both ways.
// HINTS is shown in the editor as its legend.
export const HINTS = [
  ['"text"', 'S'], ['123.45 (exact, up to 38 digits)', 'N'], ['true / false', 'BOOL'], ['null', 'NULL'],
  ['[ … ]', 'L'], ['{ … }', 'M'], ['{"$ss": ["a", "b"]}', 'SS'], ['{"$ns": [1, 2.5]}', 'NS'],
  ['{"$bs": ["AAE="]}', 'BS'], ['{"$b": "AAE="}', 'B (base64)'], ['{"$n": "1e3"}', 'N from a string'],
  ['{"$m": {…}}', 'M whose keys start with $'],
];

// put sets an own property, "__proto__" included (as JSON.parse does).
const put = (o, k, v) => Object.defineProperty(o, k, {value: v, enumerable: true, writable: true, configurable: true});

// Num is a number token, kept as its text.
export class Num {
  constructor(text) { this.text = text; }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

// parse reads JSON text into plain values, numbers as Num. Errors name the
// offset (line and column) they were found at.
export function parse(text) {
  let i = 0;
  const fail = msg => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const col = i - before.lastIndexOf('\n');
    throw new SyntaxError(`${msg} at line ${line}, column ${col}`);
  };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const lit = (word, v) => {
    if (text.startsWith(word, i)) { i += word.length; return v; }
    return fail('unexpected token');
  };
  function str() {
    const start = i;
    i++; // "
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try { return JSON.parse(text.slice(start, i)); } catch { i = start; return fail('bad escape in a string'); }
  }
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a quoted key');
        const k = str();
        if (Object.prototype.hasOwnProperty.call(o, k)) fail(`duplicate key "${k}"`);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        put(o, k, value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true', true);
    if (c === 'f') return lit('false', false);
    if (c === 'n') return lit('null', null);
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) { i += m[0].length; return new Num(m[0]); }
    return fail(i >= text.length ? 'unexpected end' : 'unexpected token');
  }
  const v = value();
  ws();
  if (i < text.length) fail('unexpected text after the value');
  return v;
}

// stringify writes plain values (Num as its text) indented by two spaces.
export function stringify(v, indent = '') {
  const next = indent + '  ';
  if (v instanceof Num) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(x => x === null || typeof x !== 'object' || x instanceof Num)) return `[${v.map(x => stringify(x)).join(', ')}]`;
    return `[\n${v.map(x => next + stringify(x, next)).join(',\n')}\n${indent}]`;
  }
  const ks = Object.keys(v);
  if (ks.length === 0) return '{}';
  if (ks.length === 1 && ks[0].startsWith('$')) return `{${JSON.stringify(ks[0])}: ${stringify(v[ks[0]], indent)}}`;
  return `{\n${ks.map(k => `${next}${JSON.stringify(k)}: ${stringify(v[k], next)}`).join(',\n')}\n${indent}}`;
}

const isHint = o => {
  const ks = Object.keys(o);
  return ks.length === 1 && ks[0].startsWith('$');
};

// toDynamo converts a plain value to a DynamoDB JSON attribute value; path
// names where a bad hint is.
export function toDynamo(v, path = 'item') {
  if (v instanceof Num) return {N: v.text};
  if (v === null) return {NULL: true};
  if (typeof v === 'string') return {S: v};
  if (typeof v === 'boolean') return {BOOL: v};
  if (Array.isArray(v)) return {L: v.map((x, i) => toDynamo(x, `${path}[${i}]`))};
  if (isHint(v)) {
    const [k] = Object.keys(v);
    const x = v[k];
    const list = (what, ok) => {
      if (!Array.isArray(x) || !x.every(ok)) throw new TypeError(`${path}: ${k} takes a list of ${what}`);
      return x;
    };
    switch (k) {
      case '$ss': return {SS: list('strings', e => typeof e === 'string')};
      case '$ns': return {NS: list('numbers', e => e instanceof Num || typeof e === 'string').map(e => e instanceof Num ? e.text : e)};
      case '$bs': return {BS: list('base64 strings', e => typeof e === 'string')};
      case '$b':
        if (typeof x !== 'string') throw new TypeError(`${path}: $b takes a base64 string`);
        return {B: x};
      case '$n':
        if (typeof x !== 'string' && !(x instanceof Num)) throw new TypeError(`${path}: $n takes a number as a string`);
        return {N: x instanceof Num ? x.text : x};
      case '$m':
        if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof Num) throw new TypeError(`${path}: $m takes an object`);
        return {M: mapOf(x, path)};
      default:
        throw new TypeError(`${path}: unknown type hint ${k} (the hints are $ss, $ns, $bs, $b, $n and $m; write {"$m": {...}} for a map whose only key starts with $)`);
    }
  }
  return {M: mapOf(v, path)};
}

function mapOf(o, path) {
  const out = {};
  for (const [k, x] of Object.entries(o)) put(out, k, toDynamo(x, `${path}.${k}`));
  return out;
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

// fromDynamo converts a DynamoDB JSON attribute value to a plain value.
export function fromDynamo(av) {
  const [t, v] = Object.entries(av || {})[0] || [];
  switch (t) {
    case 'S': return v;
    case 'N': return typeof v === 'string' && JSON_NUMBER.test(v) ? new Num(v) : {$n: String(v)};
    case 'BOOL': return v;
    case 'NULL': return null;
    case 'L': return v.map(fromDynamo);
    case 'M': {
      const o = {};
      for (const [k, x] of Object.entries(v)) put(o, k, fromDynamo(x));
      return isHint(o) ? {$m: o} : o;
    }
    case 'SS': return {$ss: v};
    case 'NS': return {$ns: v.map(n => JSON_NUMBER.test(n) ? new Num(n) : n)};
    case 'BS': return {$bs: v};
    case 'B': return {$b: v};
    default: throw new TypeError(`unknown attribute value ${JSON.stringify(av)}`);
  }
}

// itemToPlain renders a DynamoDB JSON item as plain JSON text.
export function itemToPlain(item) {
  const o = {};
  for (const [k, av] of Object.entries(item)) put(o, k, fromDynamo(av));
  return stringify(o);
}

// plainToItem reads plain JSON text as a DynamoDB JSON item.
export function plainToItem(text) {
  const v = parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Num) throw new TypeError('an item is a JSON object');
  return mapOf(v, 'item');
}

// ddbToPlain converts DynamoDB JSON text to plain JSON text, numbers
// exact (parsed by the same tokenizer, so {"N": "…"} strings are kept).
export function ddbToPlain(text) {
  const v = parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Num) throw new TypeError('an item is a JSON object');
  const item = {};
  for (const [k, av] of Object.entries(v)) {
    if (av === null || typeof av !== 'object' || Object.keys(av).length !== 1) throw new TypeError(`${k}: not a DynamoDB JSON attribute value`);
    put(item, k, unNum(av));
  }
  return itemToPlain(item);
}

// unNum turns Num tokens of a parsed DynamoDB JSON value back into what
// JSON.parse would give for types that hold numbers as strings only.
function unNum(v) {
  if (v instanceof Num) return v.text;
  if (Array.isArray(v)) return v.map(unNum);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) put(o, k, unNum(x));
    return o;
  }
  return v;
}
