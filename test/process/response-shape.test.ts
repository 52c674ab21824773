/**
 * Responses a server may send without being asked, through the spawned proxy: large
 * response headers, and bodies compressed with gzip, deflate (zlib or raw) or br — JSON
 * and event streams — plus the clear errors when a limit or an unknown coding is hit.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { initializedProxy, type RawProxy } from '../helpers/spawn-proxy.js';
import { result, sse, startFakeMcp, type FakeMcp, type RequestScript } from '../helpers/catalogue-upstream.js';

const cleanups = useCleanups();

async function setup(onRequest: RequestScript): Promise<{ s: FakeMcp; p: RawProxy }> {
  const s = await startFakeMcp({ onRequest });
  cleanups.push(() => s.close());
  const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'tok' }, cleanups);
  return { s, p };
}

let nextId = 1;
async function call(p: RawProxy, args: Record<string, unknown>): Promise<any> {
  const id = nextId++;
  p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't', arguments: args } });
  return p.waitFor((m) => m.id === id);
}

describe('large response headers', () => {
  it('accepts 40 KB of headers; past the limit, names the headers instead of connectivity', async () => {
    const { p } = await setup((m, res) => {
      const size = m.params.arguments.headerBytes as number;
      res.writeHead(200, { 'content-type': 'application/json', 'x-policy': 'p'.repeat(size) }).end(JSON.stringify(result(m.id, { ok: true })));
    });
    expect((await call(p, { headerBytes: 40_000 })).result).toEqual({ ok: true });
    const tooBig = await call(p, { headerBytes: 200_000 });
    expect(tooBig.error.message).toMatch(/^mcp-signing-proxy: the response headers from 127\.0\.0\.1:\d+ exceed 128 KiB/);
    expect(tooBig.error.message).not.toMatch(/cannot reach|MCP_ENDPOINT/);
    // The relay goes on working after the failed response.
    expect((await call(p, { headerBytes: 10 })).result).toEqual({ ok: true });
  });
});

const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  'x-gzip': (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  'deflate-raw': (b) => zlib.deflateRawSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  'gzip, br': (b) => zlib.brotliCompressSync(zlib.gzipSync(b)),
};

describe('compressed bodies the client did not ask to be identity', () => {
  it('offers gzip, deflate, br and decodes every one of them, JSON bodies', async () => {
    const { s, p } = await setup((m, res) => {
      const coding = m.params.arguments.coding as string;
      const body = Buffer.from(JSON.stringify(result(m.id, { coding, text: 'ünï🚀'.repeat(2000) })));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding === 'deflate-raw' ? 'deflate' : coding }).end(ENCODERS[coding]?.(body));
    });
    for (const coding of Object.keys(ENCODERS)) {
      const answer = await call(p, { coding });
      expect(answer.result, coding).toEqual({ coding, text: 'ünï🚀'.repeat(2000) });
    }
    expect(s.hits.find((h) => h.msg?.method === 'tools/call')?.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('decodes a gzip event stream as it arrives: progress and the result come while the stream stays open', async () => {
    const { p } = await setup((m, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const gz = zlib.createGzip();
      gz.pipe(res);
      gz.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p1', progress: 1 } } }));
      gz.flush(() => {
        gz.write(sse({ id: 'e2', data: result(m.id, { streamed: true }) }));
        gz.flush(); // never ended: the proxy must not wait for the end of the body
      });
    });
    const id = nextId++;
    p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't', arguments: {}, _meta: { progressToken: 'p1' } } });
    await p.waitFor((m) => m.method === 'notifications/progress' && m.params.progressToken === 'p1');
    expect((await p.waitFor((m) => m.id === id)).result).toEqual({ streamed: true });
  });

  it('a coding it cannot decode, or a corrupt body, gets an error naming the encoding', async () => {
    const { p } = await setup((m, res) => {
      const { coding, corrupt } = m.params.arguments as { coding: string; corrupt?: boolean };
      const body = corrupt ? Buffer.from('not gzip at all') : Buffer.from(JSON.stringify(result(m.id)));
      res.writeHead(200, { 'content-type': m.params.arguments.sse ? 'text/event-stream' : 'application/json', 'content-encoding': coding }).end(body);
    });
    const zstd = await call(p, { coding: 'zstd' });
    expect(zstd.error.message).toMatch(/^mcp-signing-proxy: the server compressed its answer with Content-Encoding "zstd", which the proxy cannot decode/);
    const badJson = await call(p, { coding: 'gzip', corrupt: true });
    expect(badJson.error.message).toMatch(/^mcp-signing-proxy: the gzip-compressed body from 127\.0\.0\.1:\d+ does not decode/);
    const badSse = await call(p, { coding: 'gzip', corrupt: true, sse: true });
    expect(badSse.error.message).toMatch(/^mcp-signing-proxy: the gzip-compressed body from 127\.0\.0\.1:\d+ does not decode/);
  });
});
