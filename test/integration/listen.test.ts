/**
 * subscriptions/listen held by the Streamable HTTP transport under the relay, against
 * scripted upstreams: when a dropped listen is sent again, when it is not, the give-up,
 * and shutdown (MCP 2026-07-28, https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/subscriptions).
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { Relay } from '../../src/proxy.js';
import { StdoutWriter } from '../../src/stdio/stdout-writer.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { StreamableHttpTransport } from '../../src/transport/streamable-http/transport.js';
import { Agent } from '../../src/transport/undici.js';
import { result, sse, startFakeMcp, type FakeMcp, type RequestScript } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { captureLog } from '../helpers/log-capture.js';
import { MemoryStdout } from '../helpers/memory-stdout.js';

const cleanups = useCleanups();
const META = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } };
const LISTEN = { jsonrpc: '2.0', id: 'listen:1', method: 'subscriptions/listen', params: { ...META, notifications: { toolsListChanged: true } } };
const SUB = { 'io.modelcontextprotocol/subscriptionId': 'listen:1' };
const ack = sse({ data: { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: SUB, notifications: { toolsListChanged: true } } } });

async function harness(onListen: RequestScript, graceMs = 500): Promise<{ server: FakeMcp; out: MemoryStdout; relay: Relay; send: (m: object) => void; listens: () => number }> {
  const server = await startFakeMcp({ sessionId: null, onRequest: (msg, res, req, s) => (msg.method === 'subscriptions/listen' ? onListen(msg, res, req, s) : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, {})))) });
  cleanups.push(() => server.close());
  const log = captureLog();
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.destroy());
  const http = new HttpClient({ dispatcher, signers: [], logger: log.logger });
  const out = new MemoryStdout();
  const relay = new Relay({ writer: new StdoutWriter(out, () => undefined), logger: log.logger, graceMs });
  relay.attach(new StreamableHttpTransport({ endpoint: new URL(server.url), http, logger: log.logger, listenRetry: { firstPauseMs: 20, maxFailures: 3 } }));
  cleanups.push(() => relay.shutdown('test finished'));
  const send = (m: object) => relay.handleLine(Buffer.from(JSON.stringify(m)));
  return { server, out, relay, send, listens: () => server.hits.filter((h) => h.msg?.method === 'subscriptions/listen').length };
}

const openStream = (res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(ack);
};

describe('subscriptions/listen', () => {
  it('sends a listen whose stream keeps closing again, with the same body, then answers the client with an error', async () => {
    const h = await harness((_msg, res) => {
      openStream(res);
      res.end();
    });
    h.send(LISTEN);
    const answer = await h.out.waitFor((m) => m.id === 'listen:1' && m.error !== undefined);
    expect(answer.error.message).toMatch(/^mcp-signing-proxy: the server's subscriptions\/listen stream closed 3 times in a row/);
    expect(h.listens()).toBe(3);
    expect(new Set(h.server.hits.filter((x) => x.msg?.method === 'subscriptions/listen').map((x) => x.body))).toEqual(new Set([JSON.stringify(LISTEN)]));
    expect(h.out.lines.filter((m) => m.method === 'notifications/subscriptions/acknowledged')).toHaveLength(3);
  });

  it('ends for good when the server answers the listen (graceful close) or tears it down with notifications/cancelled', async () => {
    const graceful = await harness((msg, res) => {
      openStream(res);
      res.end(sse({ data: result(msg.id, { resultType: 'complete', _meta: SUB }) }));
    });
    graceful.send(LISTEN);
    expect((await graceful.out.waitFor((m) => m.id === 'listen:1')).result).toMatchObject({ resultType: 'complete' });

    const torn = await harness((msg, res) => {
      openStream(res);
      res.end(sse({ data: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: msg.id } } }));
    });
    torn.send(LISTEN);
    await torn.out.waitFor((m) => m.method === 'notifications/cancelled');
    await new Promise((r) => setTimeout(r, 300));
    expect(graceful.listens()).toBe(1);
    expect(torn.listens()).toBe(1);
    // The client knows from the notification: no error answer follows it.
    expect(torn.out.answers('listen:1')).toEqual([]);
  });

  it("a server's notifications/cancelled ends only a listen, never a request whose id it happens to share", async () => {
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { ...META, name: 'x', arguments: {} } };
    const server = await startFakeMcp({
      sessionId: null,
      onRequest: (msg, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // A 2025 server cancelling its own request 7 (an elicitation), then answering ours.
        res.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } } }));
        res.end(sse({ data: result(msg.id, { content: [] }) }));
      },
    });
    cleanups.push(() => server.close());
    const log = captureLog();
    const dispatcher = new Agent();
    cleanups.push(() => dispatcher.destroy());
    const out = new MemoryStdout();
    const relay = new Relay({ writer: new StdoutWriter(out, () => undefined), logger: log.logger });
    relay.attach(new StreamableHttpTransport({ endpoint: new URL(server.url), http: new HttpClient({ dispatcher, signers: [], logger: log.logger }), logger: log.logger }));
    cleanups.push(() => relay.shutdown('test finished'));
    relay.handleLine(Buffer.from(JSON.stringify(call)));
    expect((await out.waitFor((m) => m.id === 7)).result).toEqual({ content: [] });
  });

  it('does not send a listen again that the server refused', async () => {
    const h = await harness((_msg, res) => void res.writeHead(400, { 'content-type': 'text/plain' }).end('bad'));
    h.send(LISTEN);
    await h.out.waitFor((m) => m.id === 'listen:1' && m.error !== undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.listens()).toBe(1);
  });

  it('at shutdown closes the listen stream and answers it without waiting out the grace period', async () => {
    let closed = false;
    const h = await harness((_msg, res, req) => {
      openStream(res);
      req.socket.once('close', () => (closed = true));
    }, 60_000);
    h.send(LISTEN);
    await h.out.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged');
    await h.relay.shutdown('stdin closed');
    expect(h.out.answers('listen:1')[0].error.message).toMatch(/shutting down/);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
  }, 15_000);
});
