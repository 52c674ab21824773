/**
 * Reads the top-level fields of one JSON-RPC message (jsonrpc, id, method, and whether
 * result/error/params are present) without building the whole value. A large tool result
 * is one long string: JSON.parse would copy it and hand the garbage collector megabytes per
 * message, while the relay only needs the id to route it (DESIGN.md principle 5: parse
 * only what routing needs). Values are skipped by structure: strings via indexOf, brackets
 * counted. The structure is checked (balanced, terminated, nothing after the object), so a
 * truncated body is caught; literals deep inside values are not validated.
 *
 * Returns undefined for anything that is not a single well-formed-looking object; the
 * caller then falls back to JSON.parse.
 */
export interface Envelope {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  /** Present (true) when the message has the member; the value itself is not read. */
  result?: true;
  error?: true;
  params?: true;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** `i` is at an opening quote; returns the index after the closing one, or -1. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q === -1) return -1;
    let backslashes = 0;
    for (let b = q - 1; s.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === 0x7b || c === 0x5b) {
    // Brackets must pair up ({…] is refused), so a mangled body falls back to JSON.parse.
    const open: number[] = [];
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d === QUOTE) {
        i = skipString(s, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) open.push(d);
      else if (d === 0x7d || d === 0x5d) {
        if (open.pop() !== (d === 0x7d ? 0x7b : 0x5b)) return -1;
        if (open.length === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

const READ = new Set(['jsonrpc', 'id', 'method']);
const NOTED = new Set(['result', 'error', 'params']);

// Raw control characters are never valid inside JSON strings; outside them only as whitespace.
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

export function scanEnvelope(s: string): Envelope | undefined {
  if (CONTROL.test(s)) return undefined;
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 0x7b) return undefined;
  i = skipWs(s, i + 1);
  const out: Record<string, unknown> = {};
  if (s.charCodeAt(i) === 0x7d) return skipWs(s, i + 1) === s.length ? out : undefined;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = skipString(s, i);
    if (keyEnd < 0) return undefined;
    let key: string;
    try {
      key = JSON.parse(s.slice(i, keyEnd)) as string;
    } catch {
      return undefined;
    }
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    i = skipWs(s, i + 1);
    const valueEnd = skipValue(s, i);
    if (valueEnd < 0) return undefined;
    if (READ.has(key)) {
      try {
        out[key] = JSON.parse(s.slice(i, valueEnd));
      } catch {
        return undefined;
      }
    } else if (NOTED.has(key)) {
      out[key] = true;
    }
    i = skipWs(s, valueEnd);
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c === 0x7d) return skipWs(s, i + 1) === s.length ? (out as Envelope) : undefined;
    return undefined;
  }
}
