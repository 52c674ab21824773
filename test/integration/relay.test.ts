/**
 * The relay (src/proxy.ts) in process, with the real transport, against scripted upstreams:
 * one answer per request, duplicates, cancellation, shutdown.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { Relay } from '../../src/proxy.js';
import { StdoutWriter } from '../../src/stdio/stdout-writer.js';
import { createTransport } from '../../src/transport/create-transport.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { Agent } from '../../src/transport/undici.js';
import { result, sse, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { MemoryStdout } from '../helpers/memory-stdout.js';

const cleanups = useCleanups();

interface Harness {
  server: FakeMcp;
  out: MemoryStdout;
  relay: Relay;
  log: CapturedLog;
  send(msg: object): void;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A relay over the real Streamable HTTP transport to a scripted server, initialized. */
async function initializedRelay(opts: FakeMcpOptions, graceMs = 500): Promise<Harness> {
  const server = await startFakeMcp(opts);
  cleanups.push(() => server.close());
  const log = captureLog();
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.destroy());
  const http = new HttpClient({ dispatcher, signers: [], logger: log.logger });
  const out = new MemoryStdout();
  const relay = new Relay({ writer: new StdoutWriter(out, () => undefined), logger: log.logger, graceMs });
  relay.attach(createTransport({ endpoint: new URL(server.url), http, logger: log.logger }));
  cleanups.push(() => relay.shutdown('test finished'));
  const send = (msg: object) => relay.handleLine(Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg })));
  send({ id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  await out.waitFor((m) => m.id === 0);
  send({ method: 'notifications/initialized' });
  return { server, out, relay, log, send };
}

const call = (id: number, text = 'x') => ({ id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

/**
 * Holds a request's SSE stream open, silent, without answering; resolves when the proxy
 * lets go of it (nothing more arrives that could end the read).
 */
function hang(res: http.ServerResponse, req: http.IncomingMessage): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.flushHeaders();
  return new Promise((resolve) => req.socket.once('close', () => resolve()));
}

describe('Relay: one answer per request', () => {
  it('answers concurrent requests once each, with the server result', async () => {
    const h = await initializedRelay({});
    for (const id of [1, 2, 3, 4, 5]) h.send(call(id, `t${id}`));
    await Promise.all([1, 2, 3, 4, 5].map((id) => h.out.waitFor((m) => m.id === id)));
    for (const id of [1, 2, 3, 4, 5]) {
      expect(h.out.answers(id)).toEqual([result(id, { echo: { name: 'echo', arguments: { text: `t${id}` } } })]);
    }
  });

  it('drops a second answer to the same request that arrives on another stream', async () => {
    let getStream: http.ServerResponse | undefined;
    const h = await initializedRelay({
      onGet: (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
        getStream = res;
      },
      onRequest: (msg, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, { first: true })));
      },
    });
    await until(() => getStream !== undefined, 'the GET stream');
    h.send(call(1));
    await h.out.waitFor((m) => m.id === 1);
    getStream!.write(sse({ data: result(1, { second: true }) }));
    await until(() => h.log.warnings(/matches no open request/).length > 0, 'the dropped duplicate');
    expect(h.out.answers(1)).toEqual([result(1, { first: true })]);
  });

  it('drops a request whose id is still in flight; the first one is answered once', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const h = await initializedRelay({
      onRequest: async (msg, res) => {
        await released;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, { text: msg.params?.arguments?.text })));
      },
    });
    h.send(call(7, 'first'));
    await until(() => h.server.hits.some((x) => x.msg?.id === 7), 'the first POST');
    h.send(call(7, 'second'));
    await until(() => h.log.warnings(/still in flight/).length > 0, 'the duplicate to be dropped');
    release();
    await h.out.waitFor((m) => m.id === 7);
    h.send({ id: 8, method: 'ping' });
    await h.out.waitFor((m) => m.id === 8);
    expect(h.server.hits.filter((x) => x.msg?.id === 7)).toHaveLength(1);
    expect(h.out.answers(7)).toEqual([result(7, { text: 'first' })]);
  });

  it('answers a request whose event stream ends without a response with ESP_NO_RESPONSE', async () => {
    const h = await initializedRelay({
      onRequest: (_msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ data: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'working' } } }));
      },
    });
    h.send(call(1));
    const answer = await h.out.waitFor((m) => m.id === 1);
    expect(answer.error.data.code).toBe('ESP_NO_RESPONSE');
    expect(h.out.lines.findIndex((m) => m.method === 'notifications/message')).toBeLessThan(h.out.lines.indexOf(answer));
  });
});

describe('Relay: cancellation', () => {
  it('forwards notifications/cancelled, releases the stream and never answers the cancelled request', async () => {
    let closed: Promise<void> | undefined;
    const h = await initializedRelay({
      onRequest: (msg, res, req) => {
        if (msg.method === 'ping') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id)));
        closed = hang(res, req);
      },
    });
    h.send(call(3));
    await until(() => closed !== undefined, 'the call to reach the server');
    h.send({ method: 'notifications/cancelled', params: { requestId: 3, reason: 'user' } });
    await closed;
    expect(h.server.hits.some((x) => x.msg?.method === 'notifications/cancelled' && x.msg.params.requestId === 3)).toBe(true);
    h.send({ id: 4, method: 'ping' });
    await h.out.waitFor((m) => m.id === 4);
    expect(h.out.answers(3)).toEqual([]);
  });

  it('does not cancel initialize (the spec forbids it)', async () => {
    const h = await initializedRelay({});
    h.send({ id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    h.send({ method: 'notifications/cancelled', params: { requestId: 0 } });
    await until(() => h.out.answers(0).length === 2, 'the second initialize result');
    expect(h.out.answers(0)[1].result.protocolVersion).toBe('2025-11-25');
  });
});

describe('Relay: shutdown', () => {
  it('lets a request finish within the grace, answers the rest with ESP_SHUTDOWN, then DELETEs the session', async () => {
    const h = await initializedRelay({
      onRequest: (msg, res, req) => {
        if (msg.params.arguments.text === 'fast') {
          setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, { done: true }))), 50);
          return;
        }
        void hang(res, req);
      },
    }, 1500);
    h.send(call(1, 'fast'));
    h.send(call(2, 'slow'));
    await until(() => h.server.hits.filter((x) => x.msg?.method === 'tools/call').length === 2, 'both calls');
    await h.relay.shutdown('stdin closed');
    expect(h.out.answers(1)).toEqual([result(1, { done: true })]);
    const [slow, ...more] = h.out.answers(2);
    expect(more).toEqual([]);
    expect(slow.error.data.code).toBe('ESP_SHUTDOWN');
    expect(slow.error.message).toContain('stdin closed');
    const deletes = h.server.hits.filter((x) => x.method === 'DELETE');
    expect(deletes.map((x) => x.headers['mcp-session-id'])).toEqual(['sess-1']);
    // Nothing is taken after shutdown.
    h.send({ id: 9, method: 'ping' });
    expect(h.server.hits.some((x) => x.msg?.id === 9)).toBe(false);
  });
});
