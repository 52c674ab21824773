/**
 * --max-response-bytes through the spawned proxy (README "Response caps"): a JSON body or
 * an event over the cap is answered with an error naming its size and the fix, the rest is
 * not read, and the proxy goes on serving.
 */
import { gzipSync } from 'node:zlib';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { result, sse, startFakeMcp, type FakeMcp } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startLegacySseServer } from '../helpers/legacy-sse-server.js';
import { INIT, initializedProxy, type RawProxy, spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const CAP = 64 * 1024;

const big = (id: unknown, bytes: number) => JSON.stringify(result(id, { content: [{ type: 'text', text: 'x'.repeat(bytes) }] }));

async function server(): Promise<FakeMcp> {
  const s = await startFakeMcp({
    onRequest: (m, res) => {
      const name = m.params?.name;
      if (name === 'sized') {
        const body = big(m.id, 200_000);
        return res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
      }
      if (name === 'chunked') {
        // No Content-Length: the size shows only while reading; the server keeps sending.
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = big(m.id, 10 * 1024 * 1024);
        for (let i = 0; i < body.length; i += 16 * 1024) res.write(body.slice(i, i + 16 * 1024));
        return res.end();
      }
      if (name === 'gzip') return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(big(m.id, 5 * 1024 * 1024)));
      if (name === 'event') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'small' } } }));
        return res.end(sse({ data: big(m.id, 300_000) }));
      }
      const body = big(m.id, 1000);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    },
  });
  cleanups.push(() => s.close());
  return s;
}

function proxy(s: FakeMcp, args: string[], env: Record<string, string> = {}): Promise<RawProxy> {
  return initializedProxy({ MCP_ENDPOINT: s.url, ...env }, cleanups, { args });
}

let nextId = 1;
async function call(p: RawProxy, name: string): Promise<any> {
  const id = nextId++;
  p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
  return p.waitFor((m) => m.id === id, 20_000);
}

describe('--max-response-bytes', () => {
  it('answers a JSON body over the cap with its exact size (Content-Length) and the fix', async () => {
    const s = await server();
    const p = await proxy(s, ['--max-response-bytes', String(CAP)]);
    const answer = await call(p, 'sized');
    const size = Buffer.byteLength(big(answer.id, 200_000));
    expect(answer.error.code).toBe(-32603);
    expect(answer.error.data.code).toBe('ESP_RESPONSE_TOO_LARGE');
    expect(answer.error.message).toBe(`mcp-signing-proxy: the server's message is ${size} bytes, over --max-response-bytes ${CAP}; the rest was discarded (fix: raise --max-response-bytes / MCP_MAX_RESPONSE_BYTES above ${size} (or unset it), or ask the tool for less)`);
    expect((await call(p, 'small')).result).toBeDefined();
    expect(p.lines.every((l) => l.length < CAP)).toBe(true);
  });

  it('stops reading a body without Content-Length, a decoded body and an event once they pass the cap', async () => {
    const s = await server();
    const p = await proxy(s, [], { MCP_MAX_RESPONSE_BYTES: String(CAP) });
    for (const name of ['chunked', 'gzip', 'event']) {
      const answer = await call(p, name);
      expect(answer.error?.data?.code, name).toBe('ESP_RESPONSE_TOO_LARGE');
      const at = Number(/the server's message is at least (\d+) bytes, over --max-response-bytes 65536/.exec(answer.error.message)?.[1]);
      expect(at, name).toBeGreaterThan(CAP);
      // Refused while it streamed in: far less than the whole message was counted.
      expect(at, name).toBeLessThan(CAP + 256 * 1024);
    }
    // The small event before the big one was relayed.
    expect(p.lines.some((l) => l.includes('"small"'))).toBe(true);
    expect((await call(p, 'small')).result).toBeDefined();
    expect(p.lines.every((l) => l.length < CAP)).toBe(true);
  });

  it('applies to an event on the legacy SSE stream: the request it answers gets the same error', async () => {
    const legacy = await startLegacySseServer({
      build: () => {
        const server = new McpServer({ name: 'legacy-big', version: '1.0.0' });
        server.registerTool('text', { description: 'n bytes of text', inputSchema: { bytes: z.number() } }, async ({ bytes }) => ({ content: [{ type: 'text', text: 'x'.repeat(bytes) }] }));
        return server;
      },
    });
    cleanups.push(() => legacy.close());
    const p = spawnRaw({ MCP_ENDPOINT: legacy.url }, ['--transport', 'sse', '--max-response-bytes', String(CAP)]);
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const ask = (id: number, bytes: number) => {
      p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'text', arguments: { bytes } } });
      return p.waitFor((m) => m.id === id, 20_000);
    };
    // The SDK writes the id after the result: the proxy finds it at the event's end.
    const answer = await ask(1, 300_000);
    expect(answer.error.data.code).toBe('ESP_RESPONSE_TOO_LARGE');
    expect(answer.error.message).toMatch(/^mcp-signing-proxy: the server's message is at least \d+ bytes, over --max-response-bytes 65536; the rest was discarded \(fix: raise --max-response-bytes/);
    expect((await ask(2, 1000)).result.content[0].text).toHaveLength(1000);
    expect(p.lines.every((l) => l.length < CAP)).toBe(true);
  });

  it('without the setting, large messages pass', async () => {
    const s = await server();
    const p = await proxy(s, []);
    expect((await call(p, 'event')).result.content[0].text).toHaveLength(300_000);
    expect((await call(p, 'gzip')).result.content[0].text).toHaveLength(5 * 1024 * 1024);
  });

  it('refuses a value that is not a number, naming the flag', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: 'http://127.0.0.1:9/mcp' }, ['--max-response-bytes', '10k']);
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.child.stdin.end();
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/mcp-signing-proxy: --max-response-bytes \/ MCP_MAX_RESPONSE_BYTES must be a whole number, got "10k"/);
  });
});
