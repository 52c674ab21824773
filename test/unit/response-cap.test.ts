/**
 * The response cap where it is enforced, while reading (README "Response caps"): readBody
 * for JSON bodies, SseParser for events, and the ceiling on decoded bodies without a cap.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UpstreamResponse } from '../../src/transport/http-client.js';
import { readBody } from '../../src/transport/read-body.js';
import { DECODED_CEILING, ResponseTooLargeError } from '../../src/transport/response-cap.js';
import { SseParser } from '../../src/transport/sse-parser.js';
import type { ResponseData } from '../../src/transport/undici.js';

const cap = (limit: number, configured = true) => ({ limit, configured });

/** Chunks that count how many were pulled: a refused body must not be read to its end. */
function counted(chunks: number, size: number): { body: AsyncIterable<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  return {
    body: (async function* () {
      for (let i = 0; i < chunks; i++) {
        pulled++;
        yield Buffer.alloc(size, 0x61);
      }
    })(),
    pulled: () => pulled,
  };
}

describe('readBody with a cap', () => {
  it('refuses at once from the Content-Length, with the exact size', async () => {
    const src = counted(10, 1000);
    await expect(readBody(src.body, 10_000, cap(4096))).rejects.toThrow(/^the server's message is 10000 bytes, over --max-response-bytes 4096/);
    expect(src.pulled()).toBe(0);
  });

  it('stops reading as soon as the bytes pass the cap ("at least")', async () => {
    const src = counted(1000, 1000);
    const err = await readBody(src.body, Number.NaN, cap(4096)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect((err as Error).message).toMatch(/is at least 5000 bytes/);
    expect(src.pulled()).toBe(5);
  });

  it('takes a body of exactly the cap', async () => {
    expect((await readBody(counted(4, 1024).body, 4096, cap(4096))).length).toBe(4096);
  });

  it('names the ceiling, not the flag, for a decoded body without a cap', async () => {
    await expect(readBody(counted(10, 1000).body, Number.NaN, cap(2000, false))).rejects.toThrow(/compressed message decodes to at least 3000 bytes, over the proxy's ceiling of 2000 bytes/);
  });
});

describe('UpstreamResponse.cap', () => {
  const response = (headers: Record<string, string>, body: Buffer) => ({ statusCode: 200, headers, body: Readable.from([body]) }) as unknown as ResponseData;

  it('is the setting when set, the decoded ceiling for a compressed body, else none', () => {
    expect(new UpstreamResponse(response({}, Buffer.from('{}')), 1234).cap).toEqual(cap(1234));
    expect(new UpstreamResponse(response({ 'content-encoding': 'gzip' }, gzipSync('{}'))).cap).toEqual(cap(DECODED_CEILING, false));
    expect(new UpstreamResponse(response({}, Buffer.from('{}'))).cap).toBeUndefined();
  });

  it('discards the rest of a body it refused', async () => {
    const data = response({ 'content-type': 'application/json' }, Buffer.alloc(10_000, 0x20));
    const res = new UpstreamResponse(data, 1024);
    await expect(res.bytes()).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(data.body.destroyed).toBe(true);
  });
});

describe('SseParser.maxEventBytes', () => {
  const enc = (s: string) => Buffer.from(s);

  it('drops an event over the cap as it streams, keeps the next one, and holds nothing of it', () => {
    const p = new SseParser();
    p.maxEventBytes = 100;
    const out = [...p.push(enc('id: 1\ndata: ')), ...p.push(enc('x'.repeat(80)))];
    // The partial line was over the cap only with the next chunk: nothing is kept of it.
    for (let i = 0; i < 50; i++) out.push(...p.push(enc('y'.repeat(1000))));
    out.push(...p.push(enc('\ndata: more\n\nid: 2\ndata: {"ok":1}\n\n')));
    expect(out.map((e) => ({ data: e.data.toString(), tooLarge: e.tooLarge }))).toEqual([
      { data: '', tooLarge: expect.any(Number) },
      { data: '{"ok":1}', tooLarge: undefined },
    ]);
    expect(out[0]?.tooLarge).toBeGreaterThan(50_000);
    expect(p.lastEventId).toBe('2');
  });

  it('counts several data lines together', () => {
    const p = new SseParser();
    p.maxEventBytes = 10;
    const [ev] = p.push(enc('data: 123456\ndata: 789012\n\n'));
    expect(ev?.tooLarge).toBe(13);
    const [ok] = p.push(enc('data: 1234\ndata: 56789\n\n'));
    expect(ok?.data.toString()).toBe('1234\n56789');
  });
});
