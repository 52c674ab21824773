import { tooLarge, type MessageCap } from './response-cap.js';

/** Above this, a Content-Length is not trusted for one allocation before the bytes arrive. */
const MAX_PREALLOCATE = 1024 * 1024 * 1024;

/**
 * Reads a whole body into one Buffer. With a Content-Length the bytes are copied into a
 * buffer of that size as they arrive, so each chunk can be collected at once and the body
 * exists about once in memory; without one (or when the body turns out longer, e.g. after
 * decoding) the chunks are joined at the end. A body over `cap` throws as soon as it is
 * known to be (before reading, from the Content-Length); the caller discards the rest.
 */
export async function readBody(chunks: AsyncIterable<Uint8Array>, announced: number, cap?: MessageCap): Promise<Buffer> {
  const known = Number.isSafeInteger(announced) && announced >= 0;
  if (cap !== undefined && known && announced > cap.limit) throw tooLarge(announced, true, cap);
  const sized = Number.isSafeInteger(announced) && announced > 0 && announced <= MAX_PREALLOCATE;
  let target = sized ? Buffer.allocUnsafe(announced) : undefined;
  let filled = 0;
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) {
    if (cap !== undefined && filled + chunk.length > cap.limit) throw tooLarge(filled + chunk.length, false, cap);
    if (target !== undefined && filled + chunk.length <= target.length) {
      target.set(chunk, filled);
      filled += chunk.length;
      continue;
    }
    if (target !== undefined) {
      parts.push(target.subarray(0, filled));
      target = undefined;
    }
    parts.push(chunk);
    filled += chunk.length;
  }
  if (target !== undefined) return target.subarray(0, filled);
  return Buffer.concat(parts, filled);
}
