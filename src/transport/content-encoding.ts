import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import type * as Zlib from 'node:zlib';

/**
 * The content codings we decode, sent as Accept-Encoding — what fetch-based MCP clients
 * (the SDK's) send too, so servers see the same offer. Sent unsigned (README, AWS).
 */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** More codings than this on one body is an attack, not a server (as fetch and curl limit). */
const MAX_CODINGS = 5;

/** node:zlib takes ~3.5 ms to load and most servers never compress: loaded on first use. */
let loaded: typeof Zlib | undefined;
function zlib(): typeof Zlib {
  return (loaded ??= process.getBuiltinModule('node:zlib'));
}

// Lenient like fetch and curl: a body missing its trailer still yields what it carried.
// SYNC_FLUSH also hands out each flushed chunk at once, which event streams need.
const zlibOptions = (): Zlib.ZlibOptions => ({ flush: zlib().constants.Z_SYNC_FLUSH, finishFlush: zlib().constants.Z_SYNC_FLUSH });
const brotliOptions = (): Zlib.BrotliOptions => ({ flush: zlib().constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib().constants.BROTLI_OPERATION_FLUSH });

/** A compressed body that does not decode; describeNetworkError names it. */
export class ContentDecodingError extends Error {
  readonly code = 'ESP_CONTENT_DECODING';
  readonly coding: string;

  constructor(coding: string, detail: string) {
    super(`${coding} body does not decode: ${detail}`);
    this.coding = coding;
  }
}

export type ContentCodings = { readonly codings: readonly string[] } | { readonly unsupported: string };

/**
 * The codings of a Content-Encoding header in the order the server applied them
 * (https://www.rfc-editor.org/rfc/rfc9110#section-8.4), `identity` dropped; or the first one we cannot decode.
 */
export function parseContentEncoding(header: string | undefined): ContentCodings {
  if (header === undefined) return { codings: [] };
  const codings = header.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'identity');
  if (codings.length > MAX_CODINGS) return { unsupported: `${codings.length} stacked codings` };
  const unknown = codings.find((c) => c !== 'gzip' && c !== 'x-gzip' && c !== 'deflate' && c !== 'br');
  return unknown === undefined ? { codings } : { unsupported: unknown };
}

/** The decoded body, streaming: each chunk comes out as soon as it is decodable. */
export function decodeBody(body: Readable, codings: readonly string[]): Readable {
  const out = new PassThrough();
  const decoders = [...codings].reverse().map((coding) => {
    const decoder = coding === 'br' ? zlib().createBrotliDecompress(brotliOptions()) : coding === 'deflate' ? new InflateEither() : zlib().createGunzip(zlibOptions());
    // Registered before pipeline()'s own listeners, so the reader sees what failed. Errors
    // that pipeline() spreads after the body broke or the reader left find `out` destroyed.
    decoder.once('error', (err: Error) => {
      if (!out.destroyed) out.destroy(new ContentDecodingError(coding, err.message));
    });
    return decoder;
  });
  pipeline([body, ...decoders, out], () => undefined);
  return out;
}

/**
 * `deflate` is zlib-wrapped (https://www.rfc-editor.org/rfc/rfc9110#section-8.4.1.2), yet some servers send raw deflate; the
 * first byte tells them apart (a zlib header's low nibble is 8), as browsers decide.
 */
class InflateEither extends Transform {
  #inner: Zlib.Inflate | Zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) return done();
      const inner = ((chunk[0] as number) & 0x0f) === 8 ? zlib().createInflate(zlibOptions()) : zlib().createInflateRaw(zlibOptions());
      inner.on('data', (d: Buffer) => {
        if (!this.push(d)) inner.pause();
      });
      inner.once('error', (err) => this.destroy(err));
      this.#inner = inner;
    }
    if (this.#inner.write(chunk)) done();
    else this.#inner.once('drain', () => done());
  }

  override _read(size: number): void {
    this.#inner?.resume();
    super._read(size);
  }

  override _flush(done: TransformCallback): void {
    if (this.#inner === undefined) return done();
    this.#inner.once('end', () => done());
    this.#inner.end();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    done(err);
  }
}
