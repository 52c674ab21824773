import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

describe('stdio framing: every bad line is answered and the proxy keeps serving', () => {
  let server: McpTestServer;
  let p: RawProxy;
  let nextId = 100;

  async function ping(): Promise<void> {
    const id = nextId++;
    p.send({ jsonrpc: '2.0', id, method: 'ping' });
    const r = await p.waitFor((m) => m.id === id);
    expect(r.result).toEqual({});
  }

  beforeAll(async () => {
    server = await startMcpServer();
    p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_MAX_LINE_BYTES: String(1024 * 1024) });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  });
  afterAll(async () => {
    p.child.kill('SIGKILL');
    await server.close();
  });

  it('answers a non-JSON line with -32700 and id null', async () => {
    p.send('this is not json');
    const r = await p.waitFor((m) => m.error?.code === -32700 && m.error.message.includes('not JSON'));
    expect(r.id).toBeNull();
    await ping();
  });

  it('answers invalid UTF-8 with -32700', async () => {
    p.child.stdin.write(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]));
    await p.waitFor((m) => m.error?.code === -32700 && m.error.message.includes('UTF-8'));
    await ping();
  });

  it('answers a non-JSON-RPC object with -32600 and its id', async () => {
    p.send({ id: 77, hello: 'world' });
    const r = await p.waitFor((m) => m.id === 77);
    expect(r.error.code).toBe(-32600);
    await ping();
  });

  it('answers a batch with -32600', async () => {
    p.send([{ jsonrpc: '2.0', id: 78, method: 'ping' }]);
    const r = await p.waitFor((m) => m.error?.code === -32600 && m.error.message.includes('batch'));
    expect(r.id).toBeNull();
    await ping();
  });

  it('discards an oversized line with bounded memory and answers it', async () => {
    const big = '{"jsonrpc":"2.0","id":79,"method":"ping","params":{"pad":"' + 'a'.repeat(3 * 1024 * 1024) + '"}}';
    p.send(big);
    const r = await p.waitFor((m) => m.error?.code === -32600 && m.error.message.includes('limit'));
    expect(r.error.message).toContain('MCP_MAX_LINE_BYTES');
    await ping();
  });

  it('tolerates CRLF, blank lines and a BOM', async () => {
    p.child.stdin.write('\n\r\n');
    p.child.stdin.write('\ufeff{"jsonrpc":"2.0","id":80,"method":"ping"}\r\n');
    const r = await p.waitFor((m) => m.id === 80);
    expect(r.result).toEqual({});
  });

  it('drops a duplicate in-flight id: the first request gets its one answer', async () => {
    p.send({ jsonrpc: '2.0', id: 81, method: 'tools/call', params: { name: 'slow', arguments: { ms: 300 } } });
    p.send({ jsonrpc: '2.0', id: 81, method: 'ping' });
    const real = await p.waitFor((m) => m.id === 81);
    expect(real.result.content[0].text).toBe('slept 300');
    await ping();
    expect(p.lines.filter((l) => JSON.parse(l).id === 81)).toHaveLength(1);
    expect(server.requests.filter((r) => r.body.includes('"id":81'))).toHaveLength(1);
    expect(p.stderr()).toContain('dropped a request whose id is still in flight');
  });

  it('forwards unknown envelope fields unchanged and keeps ids as sent', async () => {
    p.send({ jsonrpc: '2.0', id: 'str-id-1', method: 'ping', extra: { kept: true } });
    await p.waitFor((m) => m.id === 'str-id-1');
    const seen = server.requests.find((r) => r.body.includes('str-id-1'));
    expect(JSON.parse(seen!.body)).toEqual({ jsonrpc: '2.0', id: 'str-id-1', method: 'ping', extra: { kept: true } });
  });

  it('writes nothing but JSON-RPC lines to stdout', () => {
    expect(p.lines.length).toBeGreaterThan(5);
    for (const line of p.lines) {
      const m = JSON.parse(line);
      expect(m.jsonrpc).toBe('2.0');
    }
  });
});

describe('large results to a raw stdio reader', () => {
  it('delivers a 30 MB result intact', async () => {
    const server = await startMcpServer();
    const p = spawnRaw({ MCP_ENDPOINT: server.url });
    try {
      p.send(INIT);
      await p.waitFor((m) => m.id === 0);
      p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'big', arguments: { bytes: 30 * 1024 * 1024 } } });
      const r = await p.waitFor((m) => m.id === 1, 30_000);
      expect(r.result.content[0].text.length).toBe(30 * 1024 * 1024);
    } finally {
      p.child.kill('SIGKILL');
      await server.close();
    }
  });
});
