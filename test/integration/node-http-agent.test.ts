/**
 * The node:http agent for direct connections keeps the HttpAgent contract (http-agent.ts)
 * that undici's agents give: against real loopback servers.
 */
import http from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import type { AgentResponse } from '../../src/transport/http-agent.js';
import { describeNetworkError } from '../../src/transport/network-errors.js';
import { NodeHttpAgent } from '../../src/transport/node-http-agent.js';

const cleanups = useCleanups();

function agent(opts: Partial<ConstructorParameters<typeof NodeHttpAgent>[0]> = {}): NodeHttpAgent {
  const a = new NodeHttpAgent({ connectTimeoutMs: 10_000, maxConnections: 16, maxHeaderSize: 128 * 1024, idleTimeoutMs: 4_000, tls: {}, ...opts });
  cleanups.push(() => a.destroy());
  return a;
}

async function serve(handler: http.RequestListener): Promise<{ origin: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer(handler);
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => {
    server.closeAllConnections();
    server.close(r);
  }));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

async function bodyOf(res: AgentResponse): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res.body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const get = (origin: string, extra: { signal?: AbortSignal } = {}) => ({ origin, path: '/mcp?x=1', method: 'GET', headers: { accept: 'application/json' }, ...extra });

describe('NodeHttpAgent', () => {
  it('sends method, path, headers and body; a repeated response header arrives as an array', async () => {
    let seen: { method?: string; url?: string; accept?: string; body?: string } = {};
    const { origin } = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, accept: req.headers.accept, body };
        res.setHeader('www-authenticate', ['Bearer realm="a"', 'Basic realm="b"']);
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    const res = await agent().request({ origin, path: '/mcp?q=1', method: 'POST', headers: { accept: 'application/json' }, body: new TextEncoder().encode('{"a":1}') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['www-authenticate']).toEqual(['Bearer realm="a"', 'Basic realm="b"']);
    expect(res.headers['content-type']).toBe('application/json');
    expect((await bodyOf(res)).toString()).toBe('{"ok":true}');
    expect(seen).toEqual({ method: 'POST', url: '/mcp?q=1', accept: 'application/json', body: '{"a":1}' });
  });

  it('neither follows redirects nor decodes a compressed body', async () => {
    const gz = gzipSync('{"compressed":true}');
    const { origin } = await serve((req, res) => {
      if (req.url === '/mcp?x=1') return void res.writeHead(302, { location: '/elsewhere' }).end();
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gz);
    });
    const a = agent();
    const redirect = await a.request(get(origin));
    expect(redirect.statusCode).toBe(302);
    await bodyOf(redirect);
    const res = await a.request({ ...get(origin), path: '/gz' });
    expect(await bodyOf(res)).toEqual(gz);
  });

  it('an abort rejects with the signal\'s reason before the response, and ends the body with it after', async () => {
    const { origin } = await serve((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const a = agent();
    const before = new AbortController();
    const pending = a.request({ ...get(origin), path: '/slow', signal: before.signal });
    setTimeout(() => before.abort(new Error('cancelled before')), 50);
    await expect(pending).rejects.toThrow('cancelled before');

    const after = new AbortController();
    const res = await a.request(get(origin, { signal: after.signal }));
    const reading = bodyOf(res);
    after.abort(new Error('cancelled after'));
    await expect(reading).rejects.toThrow('cancelled after');
  });

  it('a server that closes without answering is named as undici names it', async () => {
    const { origin } = await serve((req) => req.socket.destroy());
    const err = await agent().request(get(origin)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(describeNetworkError(err, new URL(origin)).message).toBe(`${new URL(origin).host} closed the connection without answering`);
  });

  it('the connect timeout covers the TLS handshake', async () => {
    // Accepts TCP, never speaks TLS.
    const accepted = new Set<Socket>();
    const silent = createTcpServer((s) => accepted.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => {
      for (const s of accepted) s.destroy();
      silent.close(r);
    }));
    const origin = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const err = await agent({ connectTimeoutMs: 200 }).request(get(origin)).catch((e: unknown) => e);
    expect(describeNetworkError(err, new URL(origin)).message).toBe(`connecting to ${new URL(origin).host} timed out`);
  });

  it('opens at most maxConnections sockets per origin and reuses them', async () => {
    const { origin, sockets } = await serve((_req, res) => setTimeout(() => res.end('x'), 20));
    const a = agent({ maxConnections: 2 });
    const all = await Promise.all(Array.from({ length: 6 }, () => a.request(get(origin)).then(bodyOf)));
    expect(all.map(String)).toEqual(Array(6).fill('x'));
    expect(sockets.size).toBe(2);
  });

  it('close() lets a request in flight finish; later requests are refused as aborted', async () => {
    const { origin } = await serve((_req, res) => setTimeout(() => res.end('done'), 50));
    const a = agent();
    const inFlight = a.request(get(origin)).then(bodyOf);
    await new Promise((r) => setTimeout(r, 10));
    const closed = a.close();
    expect(String(await inFlight)).toBe('done');
    await closed;
    const err = await a.request(get(origin)).catch((e: unknown) => e);
    expect(describeNetworkError(err, new URL(origin)).message).toBe(`the request to ${new URL(origin).host} was aborted`);
  });
});
