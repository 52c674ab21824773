/**
 * Concurrency and volume through the spawned proxy:
 * 200 concurrent calls with random delays, JSON and SSE answers mixed;
 * many SSE events for one call, and multi-line / pretty-printed server JSON.
 */
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { initializedProxy, type RawProxy } from '../helpers/spawn-proxy.js';
import { result, sse, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';

const cleanups = useCleanups();

async function setup(opts: FakeMcpOptions): Promise<{ s: FakeMcp; p: RawProxy }> {
  const s = await startFakeMcp(opts);
  cleanups.push(() => s.close());
  const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'tok' }, cleanups);
  return { s, p };
}

/** Deterministic pseudo-random (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('many parallel tool calls', () => {
  it('200 concurrent calls with random delays: every id exactly one answer, payloads match, no head-of-line blocking', async () => {
    const rand = rng(20260822);
    const { s, p } = await setup({
      onRequest: (m, res) => {
        const text = m.params.arguments.text as string;
        const delay = m.params.arguments.slow ? 2500 : Math.floor(rand() * 150);
        setTimeout(() => {
          const answer = result(m.id, { content: [{ type: 'text', text: `echo:${text}` }] });
          if (m.id % 2 === 0) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
          } else {
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: `tok-${m.id}`, progress: 1 } } }));
            setTimeout(() => res.end(sse({ data: answer })), Math.floor(rand() * 30));
          }
        }, delay);
      },
    });
    const N = 200;
    const payload = (id: number) => `p${id}-ünï🚀-${'z'.repeat(id % 17)}`;
    // One slow call first: everything else must overtake it (responses in completion order).
    p.send({ jsonrpc: '2.0', id: 100_000, method: 'tools/call', params: { name: 'echo', arguments: { text: 'slow', slow: true } } });
    const t0 = Date.now();
    p.child.stdin.write(
      Array.from({ length: N }, (_v, i) => JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'echo', arguments: { text: payload(i + 1) }, _meta: { progressToken: `tok-${i + 1}` } } }) + '\n').join(''),
    );
    await Promise.all(Array.from({ length: N }, (_v, i) => p.waitFor((m) => m.id === i + 1, 8000)));
    const fastDone = Date.now() - t0;
    expect(fastDone).toBeLessThan(2500); // not serialised behind the 2.5 s call
    const slowAnswer = await p.waitFor((m) => m.id === 100_000, 8000);
    expect(slowAnswer.result.content[0].text).toBe('echo:slow');
    await new Promise((r) => setTimeout(r, 200));

    const msgs = p.lines.map((l) => JSON.parse(l));
    for (let id = 1; id <= N; id++) {
      const a = msgs.filter((m) => m.id === id);
      expect(a, `answers for ${id}`).toHaveLength(1);
      expect(a[0].result.content[0].text).toBe(`echo:${payload(id)}`);
      if (id % 2 === 1) expect(msgs.filter((m) => m.params?.progressToken === `tok-${id}`)).toHaveLength(1);
    }
    const stray = msgs.filter((m) => m.id !== undefined && m.id !== 0 && m.id !== 100_000 && !(m.id >= 1 && m.id <= N));
    expect(stray).toHaveLength(0);
    expect(s.hits.filter((h) => h.msg?.method === 'tools/call')).toHaveLength(N + 1);
    // Within the default connection cap (--max-connections 32).
    expect(s.connections().peak).toBeLessThanOrEqual(32);
  });
});

describe('large upstream responses', () => {
  it('20 000 SSE events for one call: in order, each once, then the single response', async () => {
    const EVENTS = 20_000;
    const { p } = await setup({
      onRequest: (m, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let i = 0;
        const pump = () => {
          let batch = '';
          for (let k = 0; k < 500 && i < EVENTS; k++, i++) batch += sse({ id: `e${i}`, data: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'big', progress: i } } });
          if (i < EVENTS) {
            res.write(batch);
            setImmediate(pump);
          } else {
            res.end(batch + sse({ id: 'last', data: result(m.id, { done: i }) }));
          }
        };
        pump();
      },
    });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'flood', arguments: {}, _meta: { progressToken: 'big' } } });
    const a = await p.waitFor((m) => m.id === 1, 9000);
    expect(a.result).toEqual({ done: EVENTS });
    const seen = p.lines.map((l) => JSON.parse(l)).filter((m) => m.params?.progressToken === 'big').map((m) => m.params.progress);
    expect(seen.length).toBe(EVENTS);
    for (let i = 0; i < EVENTS; i++) if (seen[i] !== i) throw new Error(`event ${i} out of order: ${seen[i]}`);
    // The response is the last line for this call.
    const last = p.lines.map((l) => JSON.parse(l)).filter((m) => m.id === 1 || m.params?.progressToken === 'big').at(-1);
    expect(last.id).toBe(1);
  }, 15_000);

  it('a pretty-printed 4 MB SSE event (multi-line data:) and a pretty-printed JSON body each become one stdout line', async () => {
    const text = 'q'.repeat(4 * 1024 * 1024);
    const { p } = await setup({
      onRequest: (m, res) => {
        const pretty = JSON.stringify(result(m.id, { content: [{ type: 'text', text: m.params.name === 'sse' ? text : 'small\nwith newline' }] }), null, 2);
        if (m.params.name === 'sse') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          // Split the event into many writes, including across the data: lines.
          const ev = sse({ data: pretty });
          for (let i = 0; i < ev.length; i += 65_521) res.write(ev.slice(i, i + 65_521));
          res.end();
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(pretty);
        }
      },
    });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sse', arguments: {} } });
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'json', arguments: {} } });
    const a = await p.waitFor((m) => m.id === 1, 9000);
    const b = await p.waitFor((m) => m.id === 2, 9000);
    expect(a.result.content[0].text.length).toBe(text.length);
    expect(b.result.content[0].text).toBe('small\nwith newline');
    // Every stdout line is one complete message (no raw newlines leaked from the server's JSON).
    for (const l of p.lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(p.lines.filter((l) => l.includes('"id": 1') || l.includes('"id": 2'))).toHaveLength(0);
  });
});
