/**
 * Upstream transport failures through the spawned proxy:
 * sockets destroyed before/after headers and mid-body, SSE streams that break with
 * and without event ids (resumption with GET + Last-Event-ID), non-JSON answers,
 * duplicate and unknown response ids. Every client request must get exactly one answer.
 */
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { initializedProxy, type RawProxy } from '../helpers/spawn-proxy.js';
import { result, sse, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';

const TOKEN = 'CANARY-catalogue-c-5d1e';
const cleanups = useCleanups();

async function setup(opts: FakeMcpOptions): Promise<{ s: FakeMcp; p: RawProxy }> {
  const s = await startFakeMcp(opts);
  cleanups.push(() => s.close());
  const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_LOG_LEVEL: 'debug' }, cleanups);
  return { s, p };
}

const call = (id: number | string, progressToken?: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'work', arguments: {}, ...(progressToken ? { _meta: { progressToken } } : {}) },
});

/**
 * A stream that broke before the response: the relay's generic "no response" error, or (once
 * the transport names the cause) the socket failure. Both are one clear -32603 answer.
 */
const BROKEN_STREAM_CODES = ['ESP_NO_RESPONSE', 'UND_ERR_SOCKET', 'ECONNRESET'];

const progress = (token: string, n: number) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: n } });

/** All parsed stdout messages. */
const out = (p: RawProxy) => p.lines.map((l) => JSON.parse(l));
/** Exactly one answer for `id`, after a settle delay that lets duplicates show up. */
async function onlyAnswer(p: RawProxy, id: number | string, settleMs = 300): Promise<any> {
  await p.waitFor((m) => m.id === id && (m.result !== undefined || m.error !== undefined));
  await new Promise((r) => setTimeout(r, settleMs));
  const answers = out(p).filter((m) => m.id === id && (m.result !== undefined || m.error !== undefined));
  expect(answers).toHaveLength(1);
  return answers[0];
}
const toolPosts = (s: FakeMcp) => s.hits.filter((h) => h.method === 'POST' && h.msg?.method === 'tools/call');
const resumes = (s: FakeMcp) => s.hits.filter((h) => h.method === 'GET' && h.headers['last-event-id'] !== undefined);
const progressSeen = (p: RawProxy, token: string) => out(p).filter((m) => m.method === 'notifications/progress' && m.params.progressToken === token).map((m) => m.params.progress);

function expectNoLeak(p: RawProxy): void {
  expect(p.stderr()).not.toContain(TOKEN);
  expect(p.lines.join('\n')).not.toContain(TOKEN);
  for (const l of p.lines) expect(JSON.parse(l).jsonrpc).toBe('2.0');
}

describe('connection reset / socket destroyed', () => {
  it('before any response byte: one error naming the closed connection; tools/call is not re-sent', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) =>
        m.method === 'ping' ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id))) : res.socket?.destroy(),
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.code).toBe(-32603);
    expect(a.error.message).toMatch(/^mcp-signing-proxy: .*closed the connection without answering/);
    expect(a.error.data.code).toBe('UND_ERR_SOCKET');
    expect(toolPosts(s)).toHaveLength(1);
    // … and the proxy keeps serving.
    p.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect((await onlyAnswer(p, 2, 0)).result).toBeDefined();
    expectNoLeak(p);
  });

  it('after the JSON response headers: one error; the proxy keeps serving', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) => {
        if (m.method === 'ping') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id)));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 50);
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.code).toBe(-32603);
    expect(a.error.message).toMatch(/^mcp-signing-proxy: /);
    expect(toolPosts(s)).toHaveLength(1);
    p.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect((await onlyAnswer(p, 2, 0)).result).toBeDefined();
    expectNoLeak(p);
  });

  it('mid JSON body: one error, the partial body is never written to stdout', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) => {
        const full = JSON.stringify(result(m.id, { content: [{ type: 'text', text: 'PARTIAL-BODY-MARKER'.repeat(50) }] }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(full.length) });
        res.write(full.slice(0, 200));
        setTimeout(() => res.socket?.destroy(), 50);
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.code).toBe(-32603);
    expect(p.lines.join('\n')).not.toContain('PARTIAL-BODY-MARKER');
    expect(toolPosts(s)).toHaveLength(1);
    expectNoLeak(p);
  });

  // A socket error on a JSON body surfaces as "internal error (SocketError)" with data.code
  // ESP_INTERNAL instead of the network diagnosis given for the same reset before headers:
  // UpstreamResponse.bytes() does not map undici's body errors.
  it('mid JSON body: the error is classified as a network failure, not an internal error', async () => {
    const { p } = await setup({
      onRequest: (m, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write(JSON.stringify(result(m.id)).slice(0, 10));
        setTimeout(() => res.socket?.destroy(), 50);
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1, 0);
    expect(a.error.data.code).not.toBe('ESP_INTERNAL');
    expect(a.error.message).not.toContain('internal error');
  });
});

describe('SSE stream dropped mid-response', () => {
  it('without event ids (socket destroyed after event k): events so far delivered, one error, no resume, no re-POST', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ data: progress('t1', 1) }));
        res.write(sse({ data: progress('t1', 2) }));
        setTimeout(() => res.socket?.destroy(), 100);
      },
    });
    p.send(call(1, 't1'));
    const a = await onlyAnswer(p, 1);
    expect(a.error.code).toBe(-32603);
    expect(BROKEN_STREAM_CODES).toContain(a.error.data.code);
    expect(progressSeen(p, 't1')).toEqual([1, 2]);
    expect(toolPosts(s)).toHaveLength(1);
    expect(resumes(s)).toHaveLength(0);
    expectNoLeak(p);
  });

  it('without event ids (clean end after event k): one ESP_NO_RESPONSE, no resume', async () => {
    const { s, p } = await setup({
      onRequest: (_m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ data: progress('t1', 1) }));
      },
    });
    p.send(call(1, 't1'));
    const a = await onlyAnswer(p, 1);
    expect(a.error.data.code).toBe('ESP_NO_RESPONSE');
    expect(progressSeen(p, 't1')).toEqual([1]);
    expect(resumes(s)).toHaveLength(0);
    expect(toolPosts(s)).toHaveLength(1);
  });

  for (const how of ['destroyed', 'ended'] as const) {
    it(`with ids (socket ${how} after event 2): resumes with GET + Last-Event-ID, every event exactly once, one response`, async () => {
      const { s, p } = await setup({
        onRequest: (_m, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(sse({ id: 'ev-1', retry: 50, data: progress('t1', 1) }));
          res.write(sse({ id: 'ev-2', data: progress('t1', 2) }));
          if (how === 'ended') res.end();
          else setTimeout(() => res.socket?.destroy(), 100);
        },
        onResume: (last, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          // A correct server replays only what came after `last`.
          if (last === 'ev-2') res.write(sse({ id: 'ev-3', data: progress('t1', 3) }));
          res.end(sse({ id: 'ev-4', data: result(1, { content: [{ type: 'text', text: 'resumed' }] }) }));
        },
      });
      p.send(call(1, 't1'));
      const a = await onlyAnswer(p, 1);
      expect(a.result.content[0].text).toBe('resumed');
      expect(progressSeen(p, 't1')).toEqual([1, 2, 3]);
      const r = resumes(s);
      expect(r).toHaveLength(1);
      expect(r[0]!.headers['last-event-id']).toBe('ev-2');
      expect(r[0]!.headers['mcp-session-id']).toBe('sess-1');
      expect(r[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r[0]!.headers.accept).toBe('text/event-stream');
      expect(toolPosts(s)).toHaveLength(1);
      expectNoLeak(p);
    });
  }

  it('2025-11-25 polling: priming event (id, empty data, retry:) then close; the response comes on the GET', async () => {
    const { s, p } = await setup({
      onRequest: (_m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'prime-0', retry: 30, data: '' }));
      },
      onResume: (last, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse({ id: 'prime-1', data: result(1, { last }) }));
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.result).toEqual({ last: 'prime-0' });
    expect(resumes(s)).toHaveLength(1);
    // The priming event carries no message: nothing else reached the client.
    expect(out(p).filter((m) => m.id === undefined && m.method !== undefined)).toHaveLength(0);
  });

  it('a replay that repeats the response (and a stray one) still gives the client exactly one answer', async () => {
    const { p } = await setup({
      onRequest: (_m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: 'a-1', retry: 20, data: progress('t1', 1) }));
        setTimeout(() => res.socket?.destroy(), 50);
      },
      onResume: (_last, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: 'a-2', data: result(1, { n: 'first' }) }));
        res.write(sse({ id: 'a-3', data: result(1, { n: 'second' }) }));
        res.end(sse({ id: 'a-4', data: result(424242, { n: 'stray' }) }));
      },
    });
    p.send(call(1, 't1'));
    const a = await onlyAnswer(p, 1);
    expect(a.result).toEqual({ n: 'first' });
    expect(out(p).filter((m) => m.id === 424242)).toHaveLength(0);
    expect(p.stderr()).toContain('dropped a response that matches no open request');
  });

  it('the server refuses the resume (GET 405): one error, bounded', async () => {
    const { s, p } = await setup({
      onRequest: (_m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: 'x-1', retry: 20, data: progress('t1', 1) }));
        setTimeout(() => res.socket?.destroy(), 50);
      },
      onResume: (_last, res) => res.writeHead(405).end(),
    });
    p.send(call(1, 't1'));
    const a = await onlyAnswer(p, 1);
    expect(BROKEN_STREAM_CODES).toContain(a.error.data.code);
    expect(resumes(s)).toHaveLength(1);
    expect(toolPosts(s)).toHaveLength(1);
  });

  it('resumes that keep breaking without the response are capped, then one error', async () => {
    let n = 0;
    const { s, p } = await setup({
      onRequest: (_m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: 'c-0', retry: 10, data: progress('t1', 0) }));
        setTimeout(() => res.socket?.destroy(), 30);
      },
      onResume: (_last, res) => {
        n++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ id: `c-${n}`, data: progress('t1', n) }));
        setTimeout(() => res.socket?.destroy(), 30);
      },
    });
    p.send(call(1, 't1'));
    const a = await onlyAnswer(p, 1);
    expect(BROKEN_STREAM_CODES).toContain(a.error.data.code);
    const r = resumes(s);
    expect(r.length).toBeGreaterThanOrEqual(1);
    expect(r.length).toBeLessThanOrEqual(5);
    // Each resume asks from the last id seen.
    expect(r.map((h) => h.headers['last-event-id'])).toEqual(r.map((_h, i) => `c-${i}`));
    expect(progressSeen(p, 't1')).toEqual(r.map((_h, i) => i).concat(r.length));
  });
});

describe('non-JSON or wrong content type', () => {
  const html = '<html><body>LB-ERROR-PAGE-MARKER sign in</body></html>';
  it('200 text/html: one error naming the content type, body not echoed', async () => {
    const { p } = await setup({ onRequest: (_m, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html) });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.data.code).toBe('ESP_BAD_CONTENT_TYPE');
    expect(a.error.data.httpStatus).toBe(200);
    expect(a.error.message).toContain('text/html');
    expect(p.lines.join('\n') + p.stderr()).not.toContain('LB-ERROR-PAGE-MARKER');
  });

  it('502 text/html: one error naming the status, body not echoed', async () => {
    const { p } = await setup({ onRequest: (_m, res) => res.writeHead(502, { 'content-type': 'text/html' }).end(html) });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.data.code).toBe('ESP_HTTP_502');
    expect(a.error.data.httpStatus).toBe(502);
    expect(a.error.message).toContain('HTTP 502');
    expect(p.lines.join('\n') + p.stderr()).not.toContain('LB-ERROR-PAGE-MARKER');
  });

  it('200 application/json with an HTML body: ESP_BAD_JSON, no crash, keeps serving', async () => {
    const { p } = await setup({
      onRequest: (m, res) =>
        m.method === 'ping'
          ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id)))
          : res.writeHead(200, { 'content-type': 'application/json' }).end(html),
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.data.code).toBe('ESP_BAD_JSON');
    expect(p.lines.join('\n') + p.stderr()).not.toContain('LB-ERROR-PAGE-MARKER');
    p.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect((await onlyAnswer(p, 2, 0)).result).toEqual({});
  });

  it('200 without a content type and an empty body to a request: one error', async () => {
    const { p } = await setup({ onRequest: (_m, res) => res.writeHead(200).end() });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.error.data.code).toBe('ESP_BAD_CONTENT_TYPE');
  });
});

describe('unknown or duplicate response ids', () => {
  it('SSE: a second response for the same id and one for an unknown id are dropped', async () => {
    const { p } = await setup({
      onRequest: (m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ data: result(m.id, { n: 'first' }) }));
        res.write(sse({ data: result(m.id, { n: 'duplicate' }) }));
        res.end(sse({ data: result(9999, { n: 'unknown' }) }));
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1);
    expect(a.result).toEqual({ n: 'first' });
    expect(out(p).filter((m) => m.id === 9999)).toHaveLength(0);
  });

  it('JSON array body: duplicates for one id are dropped', async () => {
    const { p } = await setup({
      onRequest: (m, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([result(m.id, { n: 1 }), result(m.id, { n: 2 })])),
    });
    p.send(call(1));
    expect((await onlyAnswer(p, 1)).result).toEqual({ n: 1 });
  });

  it('a late duplicate on the standalone GET stream after the answer is dropped', async () => {
    const { p } = await setup({
      onRequest: (m, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id, { n: 'post' }))),
      onGet: (res) => {
        // Headers at once: the proxy holds the call until the GET stream is answered.
        res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
        setTimeout(() => res.write(sse({ data: result(1, { n: 'late-get' }) })), 400);
      },
    });
    p.send(call(1));
    const a = await onlyAnswer(p, 1, 800);
    expect(a.result).toEqual({ n: 'post' });
  });

  it('the same id reused by the client after its answer gets its own, new answer', async () => {
    let n = 0;
    const { p } = await setup({
      onRequest: (m, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id, { n: ++n }))),
    });
    p.send(call(1));
    await p.waitFor((m) => m.id === 1 && m.result?.n === 1);
    p.send(call(1));
    await p.waitFor((m) => m.id === 1 && m.result?.n === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(out(p).filter((m) => m.id === 1)).toHaveLength(2);
  });
});
