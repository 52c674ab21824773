import { BACKSLASH, QUOTE } from './json-bytes.js';

/**
 * The deepest nesting of arrays and objects the proxy accepts in a message, either way.
 * JSON.parse has no such bound: a 32 MiB line of brackets costs it well over a gigabyte and
 * seconds of a blocked event loop. Real MCP messages nest a few dozen levels at most.
 */
export const MAX_JSON_DEPTH = 1000;

/** The index of the quote that closes the string opening at `open`: the first one not preceded by an odd run of backslashes; -1 if none. */
export function closingQuote(b: Buffer, open: number): number {
  for (let q = open; ;) {
    q = b.indexOf(QUOTE, q + 1);
    if (q === -1) return -1;
    let k = q - 1;
    while (b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q;
  }
}

/**
 * Whether the JSON text in `bytes` opens more than `max` arrays/objects at once. Only
 * brackets outside strings count; strings are skipped with indexOf, so the check costs a
 * fraction of a parse. Malformed text is not judged here (the parser that follows does).
 */
export function exceedsJsonDepth(bytes: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let depth = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === QUOTE) {
      i = closingQuote(b, i);
      if (i === -1) return false;
    }
  }
  return false;
}
