/**
 * Legacy HTTP+SSE (2024-11-05,
 * https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse)
 * and auto-detection (2025-11-25 "Backwards Compatibility"), in process: the relay with the
 * transport createTransport builds, against the SDK's SSE server and scripted upstreams.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Relay } from '../../src/proxy.js';
import { StdoutWriter } from '../../src/stdio/stdout-writer.js';
import { createTransport, type TransportMode } from '../../src/transport/create-transport.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { LegacySseTransport, type LegacySseOptions } from '../../src/transport/legacy-sse/transport.js';
import type { RemoteTransport } from '../../src/transport/remote-transport.js';
import { Agent } from '../../src/transport/undici.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startLegacySseServer } from '../helpers/legacy-sse-server.js';
import { captureLog } from '../helpers/log-capture.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { MemoryStdout } from '../helpers/memory-stdout.js';

const cleanups = useCleanups();

const INIT = { id: 0, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: { elicitation: {} }, clientInfo: { name: 't', version: '1' } } };
const call = (id: number, name: string, args: object, meta?: object) => ({ id, method: 'tools/call', params: { name, arguments: args, ...(meta && { _meta: meta }) } });

interface Harness {
  out: MemoryStdout;
  transport: RemoteTransport;
  send(msg: object): void;
  /** Sends a request and waits for its answer. */
  ask(msg: { id: number; [k: string]: unknown }): Promise<any>;
}

function harness(url: string, build: (endpoint: URL, http: HttpClient, logger: ReturnType<typeof captureLog>['logger']) => RemoteTransport): Harness {
  const log = captureLog();
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.destroy());
  const httpClient = new HttpClient({ dispatcher, signers: [], logger: log.logger });
  const out = new MemoryStdout();
  const relay = new Relay({ writer: new StdoutWriter(out, () => undefined), logger: log.logger });
  const transport = build(new URL(url), httpClient, log.logger);
  relay.attach(transport);
  cleanups.push(() => relay.shutdown('test finished'));
  const send = (msg: object) => relay.handleLine(Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg })));
  const ask = (msg: { id: number; [k: string]: unknown }) => {
    send(msg);
    return out.waitFor((m) => m.id === msg.id && m.method === undefined);
  };
  return { out, transport, send, ask };
}

const viaFactory = (url: string, mode: TransportMode) => harness(url, (endpoint, http, logger) => createTransport({ endpoint, http, logger, mode }));
const legacyWith = (url: string, opts: Partial<LegacySseOptions>) => harness(url, (endpoint, http, logger) => new LegacySseTransport({ endpoint, http, logger, ...opts }));

async function initialized(h: Harness): Promise<any> {
  const init = await h.ask(INIT);
  h.send({ method: 'notifications/initialized' });
  return init;
}

/** A scripted server on 127.0.0.1:0. */
async function scripted(handler: http.RequestListener): Promise<{ url: string; origin: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const s = {
    url: `${origin}/sse`,
    origin,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  cleanups.push(() => s.close());
  return s;
}

describe('legacy HTTP+SSE against the SDK SSE server', () => {
  it('relays initialize, tools/list, a call with progress and a server→client request', async () => {
    const server = await startLegacySseServer();
    cleanups.push(() => server.close());
    const h = viaFactory(server.url, 'sse');
    const init = await initialized(h);
    expect(init.result.serverInfo.name).toBe('legacy-remote');
    const list = await h.ask({ id: 1, method: 'tools/list', params: {} });
    expect(list.result.tools.map((t: { name: string }) => t.name)).toEqual(['echo', 'progress', 'ask', 'slow']);
    const progress = await h.ask(call(2, 'progress', { steps: 3 }, { progressToken: 'p' }));
    expect(progress.result.content[0].text).toBe('done 3');
    expect(h.out.lines.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress)).toEqual([1, 2, 3]);

    h.send(call(3, 'ask', {}));
    const elicit = await h.out.waitFor((m) => m.method === 'elicitation/create');
    h.send({ id: elicit.id, result: { action: 'accept', content: { name: 'Ada' } } });
    const asked = await h.out.waitFor((m) => m.id === 3 && m.method === undefined);
    expect(JSON.parse(asked.result.content[0].text)).toEqual({ action: 'accept', content: { name: 'Ada' } });
    // Every message went to the session's endpoint, on the server's own origin.
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.every((r) => r.url.startsWith('/messages?sessionId='))).toBe(true);
    expect(h.transport.transportName?.()).toBe('sse');
  });

  it('reconnects and re-initializes when the stream drops; the request in flight gets an error that says so', async () => {
    const server = await startLegacySseServer();
    cleanups.push(() => server.close());
    const h = legacyWith(server.url, { reconnectDelayMs: 50 });
    await initialized(h);
    h.send(call(1, 'slow', { ms: 3000 }));
    // Drop once the server has the call (it answers in 3 s), not after a guessed pause.
    const deadline = Date.now() + 10_000;
    while (!server.requests.some((r) => r.body.includes('"tools/call"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.dropStreams();
    const lost = await h.out.waitFor((m) => m.id === 1);
    expect(lost.error.message).toMatch(/session ended while tools\/call was in flight, so its answer is lost/);
    const echo = await h.ask(call(2, 'echo', { text: 'again' }));
    expect(echo.result.content[0].text).toBe('again');
    expect(server.sessions()).toBe(2);
    // The replayed initialize (private id) and its result never reach the client.
    expect(h.out.lines.filter((m) => m.result?.serverInfo !== undefined)).toHaveLength(1);
    const replay = server.requests.filter((r) => r.body.includes('"initialize"')).map((r) => JSON.parse(r.body).id);
    expect(replay).toEqual([0, 'mcp-signing-proxy-reinit-1']);
    expect(server.requests.filter((r) => r.body.includes('notifications/initialized'))).toHaveLength(2);
  });

  it('a POST answered 404 (session gone) is retried once on a new session', async () => {
    let sessions = 0;
    const server = await scripted((req, res) => {
      if (req.method === 'GET') {
        const n = ++sessions;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: endpoint\ndata: /messages?sessionId=s${n}\n\n`);
        (res as any).n = n;
        streams.set(`s${n}`, res);
        return;
      }
      const sid = new URL(req.url ?? '', 'http://x').searchParams.get('sessionId') ?? '';
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const msg = JSON.parse(body);
        if (sid === 's1' && msg.method === 'tools/list') return void res.writeHead(404).end();
        res.writeHead(202).end();
        if (msg.id !== undefined) streams.get(sid)?.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: msg.method === 'initialize' ? { protocolVersion: '2024-11-05', capabilities: {}, serverInfo: { name: sid, version: '1' } } : { tools: [], on: sid } })}\n\n`);
      });
    });
    const streams = new Map<string, http.ServerResponse>();
    const h = legacyWith(server.url, { reconnectDelayMs: 10 });
    await initialized(h);
    const list = await h.ask({ id: 1, method: 'tools/list', params: {} });
    expect(list.result.on).toBe('s2');
    expect(h.out.answers(1)).toHaveLength(1);
  });
});

describe('legacy HTTP+SSE faults', () => {
  it('refuses an endpoint event on another origin; nothing is sent there', async () => {
    const other = await scripted((_req, res) => res.writeHead(202).end());
    const server = await scripted((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: endpoint\ndata: ${other.origin}/messages?sessionId=abc\n\n`);
    });
    const h = viaFactory(server.url, 'sse');
    const init = await h.ask(INIT);
    expect(init.error.message).toMatch(/^mcp-signing-proxy: the legacy SSE server asked for messages to be sent to another origin \(http:\/\/127\.0\.0\.1:\d+\) than MCP_ENDPOINT/);
    expect(init.error.data.code).toBe('ESP_ENDPOINT_ORIGIN');
    expect(other.hits).toEqual([]);
    expect(server.hits).toEqual(['GET /sse']);
  });

  it('a POST the server never answers gets a bounded wait and a clear error', async () => {
    const server = await scripted((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: endpoint\ndata: /messages?sessionId=unknown\n\n');
      }
      // POST: never answered, as the reference server does for an unknown session.
    });
    const h = legacyWith(server.url, { postTimeoutMs: 300 });
    const init = await h.ask(INIT);
    expect(init.error.data.code).toBe('ESP_POST_TIMEOUT');
    expect(init.error.message).toMatch(/did not answer the POST of initialize within 0 s \(including the wait for a free connection\)/);
  });

  it('a server that keeps dropping the stream gets a clear final error', async () => {
    let gets = 0;
    const server = await scripted((req, res) => {
      if (req.method === 'GET') {
        gets++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: endpoint\ndata: /messages?sessionId=s${gets}\n\n`);
        // Every session after the first closes right after its endpoint event.
        if (gets > 1) setTimeout(() => res.destroy(), 20);
        else first = res;
        return;
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(202).end();
        const msg = JSON.parse(body);
        if (msg.method === 'initialize' && gets === 1) first?.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2024-11-05', capabilities: {}, serverInfo: { name: 'x', version: '1' } } })}\n\n`);
      });
    });
    let first: http.ServerResponse | undefined;
    const h = legacyWith(server.url, { reconnectDelayMs: 10 });
    await initialized(h);
    first?.destroy();
    const deadline = Date.now() + 10_000;
    let answer: any;
    for (let id = 1; Date.now() < deadline; id++) {
      answer = await h.ask({ id, method: 'ping' });
      if (answer.error?.data?.code === 'ESP_SESSION_LOST') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer.error.message).toMatch(/keeps closing the session .*gave up after 5 tries/);
    expect(gets).toBeLessThanOrEqual(7);
  });
});

describe('legacy HTTP+SSE: every request gets an answer', () => {
  /** A legacy server whose answers to tools/call are the event data `answers[name]` gives for the request id. */
  async function unrelayable(answers: Record<string, (id: number) => string>, opts: { holdPosts?: boolean } = {}) {
    let stream: http.ServerResponse | undefined;
    const held: http.ServerResponse[] = [];
    const server = await scripted((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: endpoint\ndata: /messages?sessionId=s1\n\n');
        stream = res;
        return;
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const msg = JSON.parse(body);
        if (opts.holdPosts === true && msg.method === 'tools/call') held.push(res);
        else res.writeHead(202).end();
        if (msg.id === undefined) return;
        const data = msg.method === 'tools/call' ? answers[msg.params.name]?.(msg.id) : JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2024-11-05', capabilities: {}, serverInfo: { name: 'x', version: '1' } } });
        if (data !== undefined) stream?.write(`event: message\ndata: ${data}\n\n`);
      });
    });
    return { server, stream: () => stream, held };
  }

  it('a response that is not JSON or nests too deep answers its request with the error, as on Streamable HTTP', async () => {
    const { server } = await unrelayable({
      bad: (id) => `{"jsonrpc":"2.0","id":${id},"result":{oops}}`,
      deep: (id) => `{"jsonrpc":"2.0","id":${id},"result":${'['.repeat(1500)}${']'.repeat(1500)}}`,
      // The id after the result, as the MCP TypeScript SDK writes it.
      late: (id) => `{"result":{"text":"cut off},"jsonrpc":"2.0","id":${id}}`,
    });
    const h = legacyWith(server.url, {});
    await initialized(h);
    const bad = await h.ask(call(1, 'bad', {}));
    expect(bad.error.data.code).toBe('ESP_BAD_JSON');
    expect(bad.error.message).toMatch(/^mcp-signing-proxy: the server sent an event that is not JSON/);
    expect((await h.ask(call(2, 'deep', {}))).error.data.code).toBe('ESP_JSON_TOO_DEEP');
    expect((await h.ask(call(3, 'late', {}))).error.data.code).toBe('ESP_BAD_JSON');
    expect(h.out.answers(1)).toHaveLength(1);
  });

  it('a server request that cannot be relayed answers no client request', async () => {
    const { server, stream } = await unrelayable({
      // A server→client request with the same id (its own id space) that is not JSON.
      ok: (id) => `{"jsonrpc":"2.0","id":${id},"method":"sampling/createMessage","params":{oops}}`,
    });
    const h = legacyWith(server.url, {});
    await initialized(h);
    h.send(call(1, 'ok', {}));
    // The answer comes well after the request that cannot be relayed.
    await new Promise((r) => setTimeout(r, 200));
    stream()?.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [] } })}\n\n`);
    const ok = await h.out.waitFor((m) => m.id === 1);
    expect(ok.result).toEqual({ content: [] });
  });

  it('a POST cut off because the session\'s stream ended says the session ended, not a network failure', async () => {
    const { server, stream, held } = await unrelayable({}, { holdPosts: true });
    const h = legacyWith(server.url, { reconnectDelayMs: 10_000 });
    await initialized(h);
    h.send(call(1, 'never', {}));
    const deadline = Date.now() + 10_000;
    while (held.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stream()?.destroy();
    const lost = await h.out.waitFor((m) => m.id === 1);
    expect(lost.error.data.code).toBe('ESP_STREAM_LOST');
    expect(lost.error.message).toMatch(/the legacy SSE session ended while tools\/call was in flight/);
  });
});

describe('--transport auto', () => {
  it('falls back to legacy SSE on a 404 to the Streamable initialize; one answer; the verdict is kept', async () => {
    const server = await startLegacySseServer();
    cleanups.push(() => server.close());
    const h = viaFactory(server.url, 'auto');
    const init = await initialized(h);
    expect(init.result.serverInfo.name).toBe('legacy-remote');
    expect(h.out.answers(0)).toHaveLength(1);
    expect((await h.ask(call(1, 'echo', { text: 'hi' }))).result.content[0].text).toBe('hi');
    expect(h.transport.transportName?.()).toBe('sse');
    // A second initialize goes straight to the legacy transport: no second probe.
    await h.ask({ ...INIT, id: 9 });
    expect(server.requests.filter((r) => r.method === 'POST' && r.url === '/sse')).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
  });

  it('keeps Streamable HTTP for a Streamable server (no GET probe)', async () => {
    const server = await startMcpServer();
    cleanups.push(() => server.close());
    const h = viaFactory(server.url, 'auto');
    await initialized(h);
    expect(h.transport.transportName?.()).toBe('streamable-http');
    expect((await h.ask(call(1, 'echo', { text: 'hi' }))).result.content[0].text).toBe('hi');
  });

  it('never falls back on 401, 403 or 500', async () => {
    for (const status of [401, 403, 500]) {
      const server = await scripted((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"no"}'));
      const h = viaFactory(server.url, 'auto');
      const init = await h.ask(INIT);
      expect(init.error.message).toMatch(new RegExp(`HTTP ${status}`));
      expect(server.hits.filter((x) => x.startsWith('GET'))).toEqual([]);
      expect(h.transport.transportName?.()).toBeUndefined();
    }
  });

  it('a 400 whose body is a JSON-RPC error answering the initialize is an answer, not a reason to fall back', async () => {
    const server = await scripted((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 0, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'] } } })),
    );
    const h = viaFactory(server.url, 'auto');
    const init = await h.ask(INIT);
    expect(init.error.code).toBe(-32022);
    expect(h.out.answers(0)).toHaveLength(1);
    expect(server.hits).toEqual(['POST /sse']);
  });

  it('names both attempts when neither transport is there', async () => {
    const server = await scripted((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<p>nope</p>'));
    const h = viaFactory(server.url, 'auto');
    const init = await h.ask(INIT);
    expect(init.error.message).toMatch(/as streamable-http: .*HTTP 404.*; as sse: .*HTTP 404 to the GET that opens a legacy SSE session/);
    expect(server.hits).toEqual(['POST /sse', 'GET /sse']);
  });

  it('sse-first tries the legacy GET first and falls back to Streamable HTTP on its 400/404/405', async () => {
    const server = await startMcpServer();
    cleanups.push(() => server.close());
    const h = viaFactory(server.url, 'sse-first');
    const init = await initialized(h);
    expect(init.error).toBeUndefined();
    expect(h.transport.transportName?.()).toBe('streamable-http');
    expect(server.requests[0]?.method).toBe('GET');
  });
});
