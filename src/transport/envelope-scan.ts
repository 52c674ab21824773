import { MAX_JSON_DEPTH, closingQuote } from '../json-depth.js';
import { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, MINUS, QUOTE, RBRACE, RBRACKET } from '../json-bytes.js';

/**
 * Validates one JSON text (RFC 8259 grammar: literals, numbers, string escapes, no raw
 * control characters, no trailing commas, nothing after the value) and reads the top-level
 * fields of a JSON-RPC message (jsonrpc, id, method, and whether result/error/params are
 * present) without building the value. A large tool result is one long string: JSON.parse
 * would copy it and hand the garbage collector megabytes per message, while the relay only
 * needs the id to route it (parse only what routing needs). Every
 * message is still checked in full, because each one becomes a stdout line and the MCP
 * stdio transport allows only valid JSON-RPC there.
 *
 * Works on bytes; UTF-8 validity is the caller's check (node:buffer isUtf8 is native).
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

/** The text nests arrays/objects deeper than MAX_JSON_DEPTH; it was not parsed. */
export class JsonDepthError extends Error {
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.name = 'JsonDepthError';
  }
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
/** Bytes that end a run of plain string content: controls, the quote, the backslash. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;
/** The characters allowed after a backslash, besides u. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const READ = new Set(['jsonrpc', 'id', 'method']);
const NOTED = new Set(['result', 'error', 'params']);
/** No key we read is longer than this, even with every character \u-escaped. */
const MAX_READ_KEY_BYTES = 2 + 7 * 6;

function fail(at: number): never {
  throw new SyntaxError(`not JSON at byte ${at}`);
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

class Scanner {
  readonly #b: Buffer;
  readonly #n: number;
  /** 4-byte words over the aligned part of the buffer, for scanning long strings. */
  readonly #words: Int32Array;
  /** Index in #b of #words[0]. */
  readonly #wordBase: number;
  /** Open containers (LBRACE / LBRACKET) by depth. */
  readonly #stack = new Uint8Array(MAX_JSON_DEPTH + 1);

  constructor(b: Buffer) {
    this.#b = b;
    this.#n = b.length;
    this.#wordBase = Math.min(b.length, (4 - (b.byteOffset & 3)) & 3);
    this.#words = new Int32Array(b.buffer, b.byteOffset + this.#wordBase, (b.length - this.#wordBase) >> 2);
  }

  get length(): number {
    return this.#n;
  }

  byte(i: number): number | undefined {
    return this.#b[i];
  }

  ws(i: number): number {
    const b = this.#b;
    while (i < this.#n && WS[b[i] as number] === 1) i++;
    return i;
  }

  /** The first index at or after `i` holding a STRING_STOP byte, or the length. */
  #plainRun(i: number): number {
    const b = this.#b;
    const n = this.#n;
    while (i < n && ((i - this.#wordBase) & 3) !== 0) {
      if (STRING_STOP[b[i] as number] === 1) return i;
      i++;
    }
    if (i >= n) return n;
    // Four bytes per step: a word holds a stop byte when one of its bytes is below 0x20
    // or equals '"' or '\' (the "has a byte less than n / has a zero byte" bit tricks).
    const words = this.#words;
    let k = (i - this.#wordBase) >> 2;
    for (; k < words.length; k++) {
      const v = words[k] as number;
      const q = v ^ 0x22222222;
      const s = v ^ 0x5c5c5c5c;
      if ((((v - 0x20202020) & ~v) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
    }
    i = this.#wordBase + k * 4;
    while (i < n && STRING_STOP[b[i] as number] === 0) i++;
    return i;
  }

  /** `i` is at an opening quote; returns the index after the closing one. */
  string(i: number): number {
    const b = this.#b;
    i++;
    for (;;) {
      i = this.#plainRun(i);
      const c = b[i];
      if (c === QUOTE) return i + 1;
      if (c !== BACKSLASH) fail(i); // a raw control character, or the end
      const e = b[i + 1] ?? 0;
      if (e === 0x75) {
        if (HEX[b[i + 2] ?? 0] !== 1 || HEX[b[i + 3] ?? 0] !== 1 || HEX[b[i + 4] ?? 0] !== 1 || HEX[b[i + 5] ?? 0] !== 1) fail(i);
        i += 6;
      } else if (SIMPLE_ESCAPE[e] === 1) {
        i += 2;
      } else {
        fail(i);
      }
    }
  }

  #number(i: number): number {
    const b = this.#b;
    if (b[i] === MINUS) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else fail(i);
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) fail(i);
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === MINUS) i++;
      if (!isDigit(b[i])) fail(i);
      while (isDigit(b[i])) i++;
    }
    return i;
  }

  #literal(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.#b[i + k] !== word.charCodeAt(k)) fail(i);
    return i + word.length;
  }

  /** `i` is at a member's key; returns the index after its colon. */
  #key(i: number): number {
    if (this.#b[i] !== QUOTE) fail(i);
    i = this.ws(this.string(i));
    if (this.#b[i] !== COLON) fail(i);
    return i + 1;
  }

  /**
   * Skips one value starting at or after `i` (leading whitespace allowed) inside `depth`
   * open containers; returns the index after it. Iterative, so depth costs no stack.
   */
  value(i: number, depth: number): number {
    const b = this.#b;
    const stack = this.#stack;
    const base = depth;
    for (;;) {
      i = this.ws(i);
      const c = b[i];
      if (c === LBRACE || c === LBRACKET) {
        if (++depth > MAX_JSON_DEPTH) throw new JsonDepthError();
        stack[depth] = c;
        i = this.ws(i + 1);
        if (b[i] !== (c === LBRACE ? RBRACE : RBRACKET)) {
          if (c === LBRACE) i = this.#key(i);
          continue;
        }
        depth--;
        i++;
      } else if (c === QUOTE) {
        i = this.string(i);
      } else if (c === 0x74) {
        i = this.#literal(i, 'true');
      } else if (c === 0x66) {
        i = this.#literal(i, 'false');
      } else if (c === 0x6e) {
        i = this.#literal(i, 'null');
      } else if (c === MINUS || isDigit(c)) {
        i = this.#number(i);
      } else {
        fail(i);
      }
      // After a value: close containers until a comma asks for the next value.
      for (;;) {
        if (depth === base) return i;
        i = this.ws(i);
        const d = b[i];
        const open = stack[depth];
        if (d === COMMA) {
          i = this.ws(i + 1);
          if (open === LBRACE) i = this.#key(i);
          break;
        }
        if (d !== (open === LBRACE ? RBRACE : RBRACKET)) fail(i);
        depth--;
        i++;
      }
    }
  }

  /** A key we might read, decoded; undefined for keys that cannot be one of them. */
  keyName(start: number, end: number): string | undefined {
    if (end - start > MAX_READ_KEY_BYTES) return undefined;
    return JSON.parse(this.#b.toString('utf8', start, end)) as string;
  }

  parse(start: number, end: number): unknown {
    return JSON.parse(this.#b.toString('utf8', start, end));
  }
}

/**
 * Returns the envelope of a JSON object, undefined for valid JSON that is not an object
 * (a batch, a scalar), and throws a SyntaxError for text that is not JSON or a
 * JsonDepthError for text nested deeper than MAX_JSON_DEPTH.
 */
export function scanEnvelope(bytes: Uint8Array): Envelope | undefined {
  const s = new Scanner(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  let i = s.ws(0);
  if (s.byte(i) !== LBRACE) {
    i = s.ws(s.value(i, 0));
    if (i !== s.length) fail(i);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  i = s.ws(i + 1);
  if (s.byte(i) === RBRACE) {
    i = s.ws(i + 1);
    if (i !== s.length) fail(i);
    return out;
  }
  for (;;) {
    if (s.byte(i) !== QUOTE) fail(i);
    const keyEnd = s.string(i);
    const key = s.keyName(i, keyEnd);
    i = s.ws(keyEnd);
    if (s.byte(i) !== COLON) fail(i);
    const valueStart = s.ws(i + 1);
    i = s.value(valueStart, 1);
    if (key !== undefined && READ.has(key)) out[key] = s.parse(valueStart, i);
    else if (key !== undefined && NOTED.has(key)) out[key] = true;
    i = s.ws(i);
    const c = s.byte(i);
    if (c === COMMA) {
      i = s.ws(i + 1);
      continue;
    }
    if (c !== RBRACE) fail(i);
    i = s.ws(i + 1);
    if (i !== s.length) fail(i);
    return out as Envelope;
  }
}

/**
 * The first key that occurs twice among the members of the top-level object or of its
 * `params` object, if any (the text must be valid JSON: scan or parse it first). JSON.parse
 * keeps the last duplicate and some servers the first, so a line such as
 * `{"params":{"name":"delete_service","name":"echo"}}` would be checked as one tool by the
 * proxy and run as another by the server.
 */
export function duplicateMemberKey(bytes: Uint8Array): string | undefined {
  const s = new Scanner(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  const members = (start: number, nested: string | undefined): string | undefined => {
    let i = s.ws(start + 1);
    if (s.byte(i) === RBRACE) return undefined;
    const seen = new Set<string>();
    for (;;) {
      const keyEnd = s.string(i);
      const key = s.parse(i, keyEnd) as string;
      if (seen.has(key)) return key;
      seen.add(key);
      const valueStart = s.ws(s.ws(keyEnd) + 1);
      if (key === nested && s.byte(valueStart) === LBRACE) {
        const inner = members(valueStart, undefined);
        if (inner !== undefined) return `${nested}.${inner}`;
      }
      i = s.ws(s.value(valueStart, 1));
      if (s.byte(i) !== COMMA) return undefined;
      i = s.ws(i + 1);
    }
  };
  const i = s.ws(0);
  return s.byte(i) === LBRACE ? members(i, 'params') : undefined;
}

/**
 * Removes the whitespace between the tokens of valid JSON (scan it first), in place, and
 * returns the shortened view: a pretty-printed message becomes one compact line without a
 * second copy.
 */
export function compactJson(b: Buffer): Buffer {
  let w = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === QUOTE) {
      const q = closingQuote(b, i);
      b.copyWithin(w, i, q + 1);
      w += q + 1 - i;
      i = q + 1;
    } else {
      if (WS[c] !== 1) b[w++] = c;
      i++;
    }
  }
  return b.subarray(0, w);
}
