import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { toJsonRpcError } from '../../src/errors.js';
import { ContentDecodingError, decodeBody, parseContentEncoding } from '../../src/transport/content-encoding.js';
import { describeNetworkError } from '../../src/transport/network-errors.js';

async function readAll(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** A body arriving in small pieces, as from a socket. */
const pieces = (buf: Buffer, size = 7) => Readable.from(Array.from({ length: Math.ceil(buf.length / size) }, (_v, i) => buf.subarray(i * size, (i + 1) * size)));

const TEXT = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'ünï🚀 '.repeat(5000) } });

describe('parseContentEncoding', () => {
  it.each([
    [undefined, { codings: [] }],
    ['identity', { codings: [] }],
    ['GZip', { codings: ['gzip'] }],
    ['deflate, br', { codings: ['deflate', 'br'] }],
    ['zstd', { unsupported: 'zstd' }],
    ['gzip, compress', { unsupported: 'compress' }],
    ['gzip,gzip,gzip,gzip,gzip,gzip', { unsupported: '6 stacked codings' }],
  ])('%s', (header, expected) => expect(parseContentEncoding(header)).toEqual(expected));
});

describe('decodeBody', () => {
  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['deflate', zlib.deflateRawSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('%s (%o) in small pieces', async (coding, encode) => {
    expect(await readAll(decodeBody(pieces(encode(Buffer.from(TEXT))), [coding]))).toBe(TEXT);
  });

  it('undoes stacked codings last first', async () => {
    const body = zlib.brotliCompressSync(zlib.deflateSync(Buffer.from(TEXT)));
    expect(await readAll(decodeBody(pieces(body, 1000), ['deflate', 'br']))).toBe(TEXT);
  });

  it.each(['gzip', 'deflate', 'br'])('an empty %s body is empty, not an error', async (coding) => {
    expect(await readAll(decodeBody(Readable.from([]), [coding]))).toBe('');
  });

  it('hands out each flushed piece of a stream before the stream ends', async () => {
    const gz = zlib.createGzip();
    const source = new Readable({ read() {} });
    gz.on('data', (d: Buffer) => source.push(d));
    const out = decodeBody(source, ['gzip']);
    gz.write('event one\n\n');
    gz.flush();
    const first = await new Promise<string>((resolve) => out.once('data', (d: Buffer) => resolve(d.toString())));
    expect(first).toBe('event one\n\n');
    out.destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true); // the reader leaving frees the connection
  });

  it.each(['deflate', 'gzip'])('a %s body is pulled only as fast as the reader reads (backpressure)', async (coding) => {
    const plain = randomBytes(8 * 1024 * 1024); // incompressible: input and output sizes match
    const encoded = coding === 'gzip' ? zlib.gzipSync(plain) : zlib.deflateRawSync(plain);
    let pulled = 0;
    const source = new Readable({
      read() {
        const piece = encoded.subarray(pulled, pulled + 16384);
        pulled += piece.length;
        this.push(piece.length > 0 ? piece : null);
      },
    });
    const out = decodeBody(source, [coding]);
    const first = await new Promise<Buffer>((resolve) => out.once('readable', () => resolve(out.read() as Buffer)));
    await new Promise((r) => setTimeout(r, 100)); // nobody reads now
    expect(first.length).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(1024 * 1024);
    let size = first.length;
    for await (const c of out) size += (c as Buffer).length;
    expect(size).toBe(plain.length);
  });

  it('a corrupt body fails with the coding named, which describeNetworkError turns into a clear message', async () => {
    const err = await readAll(decodeBody(pieces(Buffer.from('definitely not gzip data')), ['gzip'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentDecodingError);
    const mapped = describeNetworkError(err, new URL('https://mcp.example.com/mcp'), {});
    expect(toJsonRpcError(mapped).message).toMatch(/^mcp-signing-proxy: the gzip-compressed body from mcp\.example\.com does not decode \(Content-Encoding\) \(fix: .*compression settings\)$/);
  });
});
