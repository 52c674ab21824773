/**
 * The deepest nesting of arrays and objects the proxy accepts in a message, either way.
 * JSON.parse has no such bound: a 32 MiB line of brackets costs it well over a gigabyte and
 * seconds of a blocked event loop. Real MCP messages nest a few dozen levels at most.
 */
export const MAX_JSON_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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
      // Find the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const q = b.indexOf(QUOTE, i + 1);
        if (q === -1) return false;
        let slashes = 0;
        for (let k = q - 1; b[k] === BACKSLASH; k--) slashes++;
        i = q;
        if (slashes % 2 === 0) break;
      }
    }
  }
  return false;
}
