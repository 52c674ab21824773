/**
 * Regressions found in review (reproduction scripts a, b, c, d, g, i, j, l), run against
 * the spawned CLI and a scripted node:http upstream on loopback. Each test asserts the
 * fixed behaviour exactly, so the bug cannot come back unnoticed.
 *
 * Not ported: e (`--check` against a server that never answers). The check's 30 s answer
 * timeout is a constant (src/check.ts CHECK_TIMEOUT_MS) with no knob, so the test would
 * need > 30 s on its own.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { initResult, sse } from '../helpers/catalogue-upstream.js';
import { INIT, initializedProxy, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const cleanups = useCleanups();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 25 ms until it holds or `ms` pass; returns whether it held. */
async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() >= end) return false;
    await sleep(25);
  }
  return true;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, msg: any) => void;

/** A scripted upstream whose handler gets the parsed JSON body (undefined for GET/DELETE). */
async function serve(handle: Handler): Promise<ScriptedServer> {
  const s = await startScriptedServer((req, res, body) => {
    let msg: any;
    try {
      msg = body === '' ? undefined : JSON.parse(body);
    } catch {
      msg = undefined;
    }
    handle(req, res, msg);
  });
  cleanups.push(() => s.close());
  return s;
}

function answerInit(res: http.ServerResponse, msg: any, session: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': session }).end(JSON.stringify(initResult(msg)));
}

const started = (url: string, env: Record<string, string> = {}): Promise<RawProxy> =>
  initializedProxy({ MCP_ENDPOINT: url, MCP_LOG_LEVEL: 'debug', ...env }, cleanups);

/** Every parsed stdout message with this id. */
const withId = (p: RawProxy, id: number) =>
  p.lines.flatMap((l) => {
    try {
      const m = JSON.parse(l);
      return m.id === id ? [m] : [];
    } catch {
      return [];
    }
  });

describe('review regressions', () => {
  // a_idreuse: the first request's transport treated "some request with id 5 is pending" as
  // "mine is still pending", so a reused id got answered by (or errored for) the old one.
  it('a request id reused after notifications/cancelled gets its own result, once', async () => {
    let n = 0;
    const s = await serve((req, res, msg) => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      if (!('id' in msg)) return void res.writeHead(202).end();
      n++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The first call never answers and its stream stays open.
      if (n === 1) return void res.write(': open\n\n');
      setTimeout(() => res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { second: true } })}\n\n`), 300);
    });
    const p = await started(s.url);
    p.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow' } });
    await sleep(200);
    p.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } });
    p.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'fast' } });
    const a = await p.waitFor((m) => m.id === 5, 5000);
    expect(a).toEqual({ jsonrpc: '2.0', id: 5, result: { second: true } });
    await sleep(700);
    expect(withId(p, 5)).toHaveLength(1);
    expect(p.lines.filter((l) => l.includes('"id":5'))).toHaveLength(1);
    const calls = s.hits.filter((h) => h.method === 'POST' && h.body.includes('"tools/call"')).map((h) => JSON.parse(h.body).params.name);
    expect(calls).toEqual(['slow', 'fast']);
  });

  // l_openstreams: the proxy kept reading a POST's SSE stream after its answer, so every
  // answered call whose stream the server left open pinned a socket for good.
  it('answered POST SSE streams that the server leaves open are closed by the proxy', async () => {
    let open = 0;
    let peak = 0;
    const s = await serve((req, res, msg) => {
      if (req.method === 'GET') return void res.writeHead(405).end();
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      if (!('id' in msg)) return void res.writeHead(202).end();
      open++;
      peak = Math.max(peak, open);
      res.on('close', () => open--);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} })}\n\n`); // answered, never ended
    });
    const p = await started(s.url);
    for (let id = 1; id <= 30; id++) {
      p.send({ jsonrpc: '2.0', id, method: 'tools/list' });
      expect(await p.waitFor((m) => m.id === id, 5000)).toEqual({ jsonrpc: '2.0', id, result: {} });
    }
    expect(s.hits.filter((h) => h.body.includes('"tools/list"'))).toHaveLength(30);
    await until(() => open === 0, 2000);
    expect(open).toBe(0);
    expect(peak).toBeLessThan(30);
  });

  // c_postpoll: a 2025-11-25 server that polls the client along (priming id + retry:, then
  // closes) was given up on after 3 resumptions, and the call ended in ESP_NO_RESPONSE.
  it('a POST stream the server polls along (priming id, retry:, close) gets its answer on the 5th GET', async () => {
    const lastIds: string[] = [];
    let reqId: unknown;
    const s = await serve((req, res, msg) => {
      if (req.method === 'GET') {
        const last = req.headers['last-event-id'];
        if (typeof last !== 'string') return void res.writeHead(405).end();
        lastIds.push(last);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (lastIds.length < 5) res.end(sse({ id: `p-${lastIds.length}`, retry: 500 }));
        else res.end(sse({ id: 'p-done', data: { jsonrpc: '2.0', id: reqId, result: { content: [] } } }));
        return;
      }
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      if (!('id' in msg)) return void res.writeHead(202).end();
      reqId = msg.id;
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse({ id: 'p-0', retry: 500 }));
    });
    const p = await started(s.url);
    p.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'long' } });
    const a = await p.waitFor((m) => m.id === 7, 8000);
    expect(a).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    expect(lastIds).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
    expect(p.stderr()).not.toContain('ESP_NO_RESPONSE');
    await sleep(200);
    expect(withId(p, 7)).toHaveLength(1);
  });

  // d_reinitfail: after a failed re-initialize the session id stayed cleared, so every
  // later request went out with no session and the server answered 400 for good.
  it('a re-initialize that fails once: one clear error, then the next request renews the session', async () => {
    let inits = 0;
    let live = 'S1';
    const statuses: Array<{ method: string; session: string | undefined; status: number }> = [];
    const s = await serve((req, res, msg) => {
      if (req.method === 'GET') return void res.writeHead(405).end();
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      const session = req.headers['mcp-session-id'] as string | undefined;
      const reply = (status: number, headers: Record<string, string> = {}, body = '') => {
        statuses.push({ method: msg.method ?? 'response', session, status });
        res.writeHead(status, headers).end(body);
      };
      if (msg.method === 'initialize') {
        inits++;
        // The re-init hits a blip that outlasts its one transient retry.
        if (inits === 2 || inits === 3) return reply(502, {}, 'bad gateway');
        live = `S${inits}`;
        return reply(200, { 'content-type': 'application/json', 'mcp-session-id': live }, JSON.stringify(initResult(msg)));
      }
      if (session === undefined) {
        return reply(400, { 'content-type': 'application/json' }, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } }));
      }
      if (session !== live || msg.id === 1) {
        live = 'gone';
        return reply(404);
      }
      if (!('id' in msg)) return reply(202);
      reply(200, { 'content-type': 'application/json' }, JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
    });
    const p = await started(s.url);
    await sleep(100);
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const first = await p.waitFor((m) => m.id === 1, 5000);
    expect(first.result).toBeUndefined();
    expect(first.error.code).toBe(-32603);
    expect(first.error.data.code).toBe('ESP_SESSION_RENEWAL_FAILED');
    expect(first.error.message).toContain('HTTP 502');
    for (const id of [2, 3, 4]) {
      p.send({ jsonrpc: '2.0', id, method: 'tools/list' });
      expect(await p.waitFor((m) => m.id === id, 5000)).toEqual({ jsonrpc: '2.0', id, result: {} });
    }
    await sleep(200);
    expect(withId(p, 1)).toHaveLength(1);
    expect(inits).toBe(4);
    expect(statuses.filter((r) => r.status === 400)).toEqual([]);
    expect(statuses.filter((r) => r.method !== 'initialize' && r.session === undefined)).toEqual([]);
    // The new session served 2, 3 and 4.
    expect(statuses.filter((r) => r.method === 'tools/list' && r.status === 200).map((r) => r.session)).toEqual(['S4', 'S4', 'S4']);
  });

  // b_getpoll: each poll (priming event, then a clean close) counted as a failed attempt,
  // so the proxy gave up on the server event stream after 10 polls, for good.
  it('a GET stream the server polls along is followed past 10 polls', async () => {
    let gets = 0;
    let ev = 0;
    const s = await serve((req, res, msg) => {
      if (req.method === 'GET') {
        gets++;
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse({ id: `g-${++ev}`, retry: 500 }));
        return;
      }
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      res.writeHead(202).end();
    });
    const p = await started(s.url);
    // retry: 500 (the proxy's floor): 12 GETs take ~5.5 s.
    const reached = await until(() => gets >= 12, 8000);
    expect(reached, `only ${gets} GETs`).toBe(true);
    expect(p.stderr()).not.toContain('gave up on the server event stream');
  }, 15_000);

  // j_herd: after a token rotation every request in flight re-ran the helper (a helper that
  // opens a browser for SSO opened one per request).
  it('headers helper: 10 requests in flight across a rotation cause exactly one extra helper run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msp-review-herd-'));
    const counter = join(dir, 'runs');
    writeFileSync(counter, '0');
    const script = join(dir, 'helper.sh');
    writeFileSync(script, `n=$(($(cat '${counter}')+1)); echo $n > '${counter}'; sleep 0.1; echo "X-Token: $n"\n`);
    const runs = () => Number(readFileSync(counter, 'utf8'));
    let minTok = 1;
    let k = 0;
    const s = await serve((req, res, msg) => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const tok = Number(req.headers['x-token']);
      // Stale tokens are refused at staggered times, some after the refresh has finished.
      if (!(tok >= minTok)) return void setTimeout(() => res.writeHead(401).end(), (k++ % 10) * 60);
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      if (!('id' in msg)) return void res.writeHead(202).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
    });
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: `sh '${script}'`, MCP_LOG_LEVEL: 'warn' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0, 5000)).result).toBeDefined();
    expect(runs()).toBe(1);
    minTok = 2; // the server rotates: token 1 is no longer accepted
    p.child.stdin.write(Array.from({ length: 10 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/list' }) + '\n').join(''));
    for (let id = 1; id <= 10; id++) expect(await p.waitFor((m) => m.id === id, 5000)).toEqual({ jsonrpc: '2.0', id, result: {} });
    expect(runs()).toBe(2);
    expect(p.lines.filter((l) => l.includes('"error"'))).toEqual([]);
    const ok = s.hits.filter((h) => h.body.includes('"tools/list"') && h.headers['x-token'] === '2');
    expect(ok).toHaveLength(10);
  });

  // i_orphan: a headers helper still running when the proxy exited was left behind.
  for (const how of ['SIGTERM', 'stdin EOF'] as const) {
    it(`a headers helper still running when the proxy exits (${how}) is killed with what it started`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'msp-review-orphan-'));
      const marker = join(dir, 'pids');
      const s = await serve((_req, res) => void res.writeHead(500).end());
      // The shell ($$, its own process group) starts a sleep ($!) and waits for it.
      const helper = `sleep 4711.25 & echo "$$ $!" > '${marker}'; wait; echo "X-A: b"`;
      const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: helper, MCP_LOG_LEVEL: 'warn' });
      cleanups.push(() => void p.child.kill('SIGKILL'));
      p.send(INIT);
      const readPids = (): number[] => {
        try {
          return readFileSync(marker, 'utf8').trim().split(/\s+/).map(Number).filter((n) => Number.isInteger(n) && n > 0);
        } catch {
          return [];
        }
      };
      expect(await until(() => readPids().length === 2, 5000), 'the helper never wrote its pids').toBe(true);
      const pids = readPids();
      // Cleanup by pid only, in case the proxy did not kill them.
      cleanups.push(() => {
        for (const pid of pids) {
          try {
            if (alive(pid)) process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      });
      for (const pid of pids) expect(alive(pid), `pid ${pid} before exit`).toBe(true);
      if (how === 'SIGTERM') p.child.kill('SIGTERM');
      else p.child.stdin.end();
      const exit = await p.exited;
      expect(exit.code).toBe(0);
      await until(() => pids.every((pid) => !alive(pid)), 2000);
      for (const pid of pids) expect(alive(pid), `pid ${pid} after exit`).toBe(false);
    });
  }

  // g_method: the method was copied into the Mcp-Method header unchecked; a newline, a
  // non-Latin-1 character or 20 KB made the request fail locally ("cannot reach").
  it('methods unfit for an HTTP header still reach the server and get its own answer', async () => {
    const s = await serve((req, res, msg) => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      if (msg.method === 'initialize') return answerInit(res, msg, 'S1');
      if (!('id' in msg)) return void res.writeHead(202).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } }));
    });
    const p = await started(s.url);
    const methods = ['tools/lïst', 'a\nb', 'x'.repeat(20_000), 'emoji/😀'];
    methods.forEach((method, i) => p.send({ jsonrpc: '2.0', id: i + 1, method }));
    for (let id = 1; id <= methods.length; id++) {
      expect(await p.waitFor((m) => m.id === id, 5000)).toEqual({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
    }
    const seen = s.hits.filter((h) => h.method === 'POST').map((h) => JSON.parse(h.body).method);
    for (const method of methods) expect(seen).toContain(method);
    expect(p.stderr() + p.lines.join('\n')).not.toContain('cannot reach');
  });
});

/**
 * Whether a process runs. ESRCH means gone; a zombie (dead, not yet reaped by an init that
 * may not reap) counts as gone too.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // no /proc entry: gone since the kill(0) above (or no /proc: trust ESRCH)
  }
}

describe('shutdown during a session renewal', () => {
  it('waits for the renewal briefly and closes the new session, not the dead one', async () => {
    let inits = 0;
    let live = 'S1';
    const s = await serve((req, res, msg) => {
      if (req.method === 'GET') return void res.writeHead(405).end();
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (msg?.method === 'initialize') {
        inits++;
        live = `S${inits}`;
        // The renewal is slow: it outlasts the shutdown grace for in-flight requests.
        setTimeout(() => answerInit(res, msg, live), inits === 1 ? 0 : 700);
        return;
      }
      if (req.headers['mcp-session-id'] !== live) return void res.writeHead(404).end();
      if (!('id' in msg)) return void res.writeHead(202).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
    });
    const p = await started(s.url);
    live = 'gone'; // the server drops S1: the next request meets 404 and starts a renewal
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await until(() => inits === 2, 2000);
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    const deletes = s.hits.filter((h) => h.method === 'DELETE').map((h) => h.headers['mcp-session-id']);
    expect(deletes).toEqual(['S2']);
  });
});
