import { closingQuote } from '../../json-depth.js';
import { COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../../json-bytes.js';

/**
 * The members of a JSON object in already validated bytes (every message from the server
 * passed parseRemote's full check), located without building values: the bridge edits a few
 * small members of a result whose content may be megabytes, and copies the rest as bytes.
 */
export interface Member {
  /** The decoded key. */
  readonly key: string;
  /** From the key's opening quote to the end of the value. */
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

function skipWs(b: Buffer, i: number): number {
  while (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d) i++;
  return i;
}

/** The index just after the value starting at `i`. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return closingQuote(b, i) + 1;
  if (c !== LBRACE && c !== LBRACKET) {
    while (i < b.length && b[i] !== COMMA && b[i] !== RBRACE && b[i] !== RBRACKET && skipWs(b, i) === i) i++;
    return i;
  }
  for (let depth = 0; ; ) {
    const d = b[i];
    if (d === QUOTE) {
      i = closingQuote(b, i) + 1;
      continue;
    }
    if (d === LBRACE || d === LBRACKET) depth++;
    else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return i + 1;
    i++;
  }
}

/** The members of the object whose `{` is at `open`. */
export function members(b: Buffer, open: number): Member[] {
  const out: Member[] = [];
  let i = skipWs(b, open + 1);
  while (b[i] === QUOTE) {
    const start = i;
    const keyEnd = closingQuote(b, i) + 1;
    const valueStart = skipWs(b, skipWs(b, keyEnd) + 1);
    const end = valueEnd(b, valueStart);
    out.push({ key: JSON.parse(b.toString('utf8', start, keyEnd)) as string, start, valueStart, end });
    i = skipWs(b, end);
    if (b[i] === COMMA) i = skipWs(b, i + 1);
  }
  return out;
}

/** A member's value as bytes. */
export function valueBytes(b: Buffer, m: Member): Buffer {
  return b.subarray(m.valueStart, m.end);
}

/** An object of the given members, each as its original bytes unless `replace` gives new value bytes (undefined: dropped). */
export function rebuild(b: Buffer, list: readonly Member[], replace: ReadonlyMap<Member, Buffer | undefined>): Buffer {
  const parts: Buffer[] = [Buffer.from('{')];
  for (const m of list) {
    const value = replace.has(m) ? replace.get(m) : valueBytes(b, m);
    if (value === undefined) continue;
    if (parts.length > 1) parts.push(Buffer.from(','));
    parts.push(b.subarray(m.start, m.valueStart), value);
  }
  parts.push(Buffer.from('}'));
  return Buffer.concat(parts);
}
