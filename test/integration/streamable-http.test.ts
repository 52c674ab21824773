/**
 * The Streamable HTTP transport in process against scripted upstreams (spec 2025-11-25,
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports): initialize
 * gate, session id, 404 renewal, resumption, the GET stream, response kinds, HTTP errors.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../src/errors.js';
import { describeMessage } from '../../src/jsonrpc.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { StreamableHttpTransport } from '../../src/transport/streamable-http/transport.js';
import { Agent } from '../../src/transport/undici.js';
import { initResult, result, sse, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

const cleanups = useCleanups();

interface Harness {
  server: FakeMcp;
  transport: StreamableHttpTransport;
  log: CapturedLog;
  /** Everything delivered, parsed, in order. */
  got: any[];
  send(msg: Record<string, unknown>): Promise<void>;
  initialize(): Promise<void>;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const INIT = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
const note = (n: number) => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `n${n}` } });
const json = (res: http.ServerResponse, value: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));

async function connect(opts: FakeMcpOptions): Promise<Harness> {
  const server = await startFakeMcp(opts);
  cleanups.push(() => server.close());
  const log = captureLog();
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.destroy());
  const transport = new StreamableHttpTransport({ endpoint: new URL(server.url), http: new HttpClient({ dispatcher, signers: [], logger: log.logger }), logger: log.logger });
  cleanups.push(() => transport.close());
  const got: any[] = [];
  transport.start(async (m) => void got.push(JSON.parse(m.bytes.toString('utf8'))));
  const send = (msg: Record<string, unknown>) => {
    const info = describeMessage(msg)!;
    const answered = () => info.kind !== 'request' || got.some((m) => m.id === msg.id && m.method === undefined);
    return transport.send(Buffer.from(JSON.stringify(msg)), info, answered);
  };
  const initialize = async () => {
    await send(INIT);
    await send(INITIALIZED);
  };
  return { server, transport, log, got, send, initialize };
}

async function rejection(p: Promise<unknown>): Promise<ProxyError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError;
}

describe('initialize gate', () => {
  it('holds a request until the initialize result is in, then sends it with the session id and protocol version', async () => {
    const h = await connect({
      onInitialize: (msg, res, _req, server) => setTimeout(() => {
        server.marks.set('init-result', Date.now());
        json(res, initResult(msg), { 'mcp-session-id': 'sess-1' });
      }, 200),
    });
    const init = h.send(INIT);
    const list = h.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await Promise.all([init, list]);
    const hit = h.server.hits.find((x) => x.msg?.id === 1)!;
    expect(hit.at).toBeGreaterThanOrEqual(h.server.marks.get('init-result')!);
    expect(hit.headers['mcp-session-id']).toBe('sess-1');
    expect(hit.headers['mcp-protocol-version']).toBe('2025-06-18');
    expect(h.got.map((m) => m.id)).toEqual([0, 1]);
  });

  it('opens on the result, not on the end of an initialize stream the server keeps open', async () => {
    const h = await connect({
      onInitialize: (msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'sess-1' });
        res.write(sse({ data: initResult(msg) }));
      },
    });
    void h.send(INIT);
    await h.send(ping(1));
    expect(h.got.map((m) => m.id)).toEqual([0, 1]);
    expect(h.server.hits.find((x) => x.msg?.id === 1)!.headers['mcp-session-id']).toBe('sess-1');
  });

  it('takes the session id only from the initialize response', async () => {
    const h = await connect({ onRequest: (msg, res) => json(res, result(msg.id), { 'mcp-session-id': 'other' }) });
    await h.initialize();
    await h.send(ping(1));
    await h.send(ping(2));
    expect(h.server.hits.filter((x) => x.msg?.method === 'ping').map((x) => x.headers['mcp-session-id'])).toEqual(['sess-1', 'sess-1']);
  });
});

describe('session renewal on 404', () => {
  it('several requests meeting the 404 share one re-initialize, then each is retried once on the new session', async () => {
    let n = 0;
    const h = await connect({
      onInitialize: (msg, res) => json(res, initResult(msg), { 'mcp-session-id': `sess-${++n}` }),
      onRequest: (msg, res, req) => {
        if (req.headers['mcp-session-id'] !== 'sess-1') return json(res, result(msg.id, { session: req.headers['mcp-session-id'] }));
        // Request 4's 404 arrives after the renewal is over: it is retried on the new session.
        setTimeout(() => res.writeHead(404).end(), msg.id === 4 ? 400 : 0);
      },
    });
    await h.initialize();
    await Promise.all([1, 2, 3, 4].map((id) => h.send(ping(id))));
    expect(h.got.filter((m) => m.id !== 0)).toEqual(expect.arrayContaining([1, 2, 3, 4].map((id) => result(id, { session: 'sess-2' }))));
    const inits = h.server.hits.filter((x) => x.msg?.method === 'initialize');
    expect(inits).toHaveLength(2);
    expect(inits[1]!.headers['mcp-session-id']).toBeUndefined();
    expect(String(inits[1]!.msg.id)).toMatch(/^mcp-signing-proxy-reinit-/);
    expect(h.server.hits.some((x) => x.msg?.method === 'notifications/initialized' && x.headers['mcp-session-id'] === 'sess-2')).toBe(true);
    // The replayed initialize's answer is the proxy's own: never delivered.
    expect(h.got).toHaveLength(5);
  });

  it('a 404 without a session id is an HTTP error about the path, not an expiry', async () => {
    const h = await connect({ sessionId: null, onRequest: (_msg, res) => res.writeHead(404).end() });
    await h.initialize();
    const err = await rejection(h.send(ping(1)));
    expect(err.code).toBe('ESP_HTTP_404');
    expect(err.hint).toContain('MCP_ENDPOINT');
    expect(h.server.hits.filter((x) => x.msg?.method === 'initialize')).toHaveLength(1);
  });
});

describe('response stream resumption', () => {
  it('resumes a POST stream that ended before the response with GET and Last-Event-ID', async () => {
    const h = await connect({
      onRequest: (_msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'e1', retry: 500, data: '' }));
      },
      onResume: (last, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(last === 'e1' ? sse({ id: 'e2', data: result(1, { resumed: true }) }) : '');
      },
    });
    await h.initialize();
    await h.send(ping(1));
    expect(h.got.filter((m) => m.id === 1)).toEqual([result(1, { resumed: true })]);
    expect(h.server.hits.filter((x) => x.method === 'GET' && x.headers['last-event-id'] !== undefined).map((x) => x.headers['last-event-id'])).toEqual(['e1']);
  });

  it('follows a server that polls (each resumption moves the cursor) until the response comes', async () => {
    const h = await connect({
      onRequest: (_msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'e1', retry: 500, data: '' }));
      },
      onResume: (last, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const k = Number(last.slice(1));
        res.end(k < 4 ? sse({ id: `e${k + 1}`, data: note(k) }) : sse({ id: 'e5', data: result(1) }));
      },
    });
    await h.initialize();
    await h.send(ping(1));
    expect(h.got.slice(1)).toEqual([note(1), note(2), note(3), result(1)]);
  });

  it('a server that refuses to resume leaves the request unanswered (the relay answers it)', async () => {
    const h = await connect({
      onRequest: (_msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'e1', retry: 500, data: '' }));
      },
      onResume: (_last, res) => res.writeHead(405).end(),
    });
    await h.initialize();
    await h.send(ping(1));
    expect(h.got.some((m) => m.id === 1)).toBe(false);
    expect(h.log.warnings(/refused to resume/)).toHaveLength(1);
  });
});

describe('standalone GET stream', () => {
  it('opens after notifications/initialized; 405 means none, and it is not retried', async () => {
    const h = await connect({});
    await h.send(INIT);
    expect(h.server.hits.some((x) => x.method === 'GET')).toBe(false);
    await h.send(INITIALIZED);
    await until(() => h.log.entries().some((e) => e.msg === 'the server offers no standalone event stream'), 'the 405 to be seen');
    expect(h.server.hits.filter((x) => x.method === 'GET')).toHaveLength(1);
  });

  it('reconnects with Last-Event-ID after the stream ends and keeps delivering', async () => {
    let resumedFrom: string | undefined;
    const h = await connect({
      onGet: (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'g1', retry: 500, data: note(1) }));
      },
      onResume: (last, res) => {
        resumedFrom = last;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: 'g2', data: note(2) }));
      },
    });
    await h.initialize();
    await until(() => h.got.length === 3, 'both notifications');
    expect(h.got.slice(1)).toEqual([note(1), note(2)]);
    expect(resumedFrom).toBe('g1');
    const gets = h.server.hits.filter((x) => x.method === 'GET');
    expect(gets.map((x) => x.headers['mcp-session-id'])).toEqual(['sess-1', 'sess-1']);
  });

  it('gives up at once on 409 (the server has a stream for this session already)', async () => {
    const h = await connect({ onGet: (res) => res.writeHead(409).end() });
    await h.initialize();
    await until(() => h.log.warnings(/gave up on the server event stream/).length === 1, 'the give-up');
    expect(h.server.hits.filter((x) => x.method === 'GET')).toHaveLength(1);
  });

  it('counts streams that end at once, empty, as failures and reconnects with backoff', async () => {
    const h = await connect({
      onGet: (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end();
      },
    });
    await h.initialize();
    await until(() => h.server.hits.filter((x) => x.method === 'GET').length === 2, 'the reconnect');
    const gets = h.server.hits.filter((x) => x.method === 'GET');
    // The first failure waits 1000 × 1.5 ms before the next attempt.
    expect(gets[1]!.at - gets[0]!.at).toBeGreaterThanOrEqual(1400);
  });
});

describe('response kinds', () => {
  it('relays a JSON batch as one message per line, in order', async () => {
    const h = await connect({ onRequest: (msg, res) => json(res, [note(1), result(msg.id)]) });
    await h.initialize();
    await h.send(ping(1));
    expect(h.got.slice(1)).toEqual([note(1), result(1)]);
  });

  it('relays an event stream in order and is done once the response is in, even if the server keeps it open', async () => {
    const h = await connect({
      onRequest: (msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ data: note(1) }) + sse({ data: result(msg.id) }));
      },
    });
    await h.initialize();
    await h.send(ping(1));
    expect(h.got.slice(1)).toEqual([note(1), result(1)]);
  });

  it('202 to a notification delivers nothing', async () => {
    const h = await connect({});
    await h.initialize();
    await h.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    expect(h.got).toHaveLength(1);
  });

  it('a request answered with neither JSON nor an event stream is an error naming the content type', async () => {
    const h = await connect({ onRequest: (_msg, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>') });
    await h.initialize();
    const err = await rejection(h.send(ping(1)));
    expect(err.code).toBe('ESP_BAD_CONTENT_TYPE');
    expect(err.message).toContain('text/html');
  });
});

describe('HTTP status → error', () => {
  it('a 5xx becomes ESP_HTTP_<status> with a hint, marked retryable only for 429/503', async () => {
    const h = await connect({ onRequest: (msg, res) => res.writeHead(msg.id === 1 ? 500 : 503).end('boom') });
    await h.initialize();
    const e500 = await rejection(h.send(ping(1)));
    expect([e500.code, e500.httpStatus, e500.hint]).toEqual(['ESP_HTTP_500', 500, expect.stringContaining('server failed')]);
    expect(e500.retryable).toBe(false);
    const e503 = await rejection(h.send(ping(2)));
    expect(e503.retryable).toBe(true);
  });

  it('a JSON-RPC error answering this request in a 4xx body is delivered before the HTTP error', async () => {
    const body = { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad params' } };
    const h = await connect({ onRequest: (_msg, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(body)) });
    await h.initialize();
    const err = await rejection(h.send(ping(1)));
    expect(err.code).toBe('ESP_HTTP_400');
    expect(h.got.slice(1)).toEqual([body]);
  });

  it('405 on POST says the URL does not accept POST', async () => {
    const h = await connect({ onInitialize: (_msg, res) => res.writeHead(405).end() });
    const err = await rejection(h.send(INIT));
    expect(err.code).toBe('ESP_HTTP_405');
    expect(err.hint).toContain('does not accept POST');
  });
});

describe('terminate', () => {
  it('DELETEs the session once; without a session nothing is sent', async () => {
    const h = await connect({});
    await h.initialize();
    await h.transport.terminate(1000);
    await h.transport.terminate(1000);
    expect(h.server.hits.filter((x) => x.method === 'DELETE').map((x) => x.headers['mcp-session-id'])).toEqual(['sess-1']);
    const sessionless = await connect({ sessionId: null });
    await sessionless.initialize();
    await sessionless.transport.terminate(1000);
    expect(sessionless.server.hits.some((x) => x.method === 'DELETE')).toBe(false);
  });
});
