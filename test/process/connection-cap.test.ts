/**
 * The connection cap (--max-connections / MCP_MAX_CONNECTIONS) through the spawned proxy:
 * thousands of calls written at once share a bounded number of sockets and all get
 * answered; the standalone event stream and the client's notifications are never starved
 * by calls that fill every slot.
 */
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { initializedProxy, type RawProxy } from '../helpers/spawn-proxy.js';
import { result, sse, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';

const cleanups = useCleanups();

async function setup(opts: FakeMcpOptions, env: Record<string, string> = {}): Promise<{ s: FakeMcp; p: RawProxy }> {
  const s = await startFakeMcp(opts);
  cleanups.push(() => s.close());
  const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'tok', ...env }, cleanups);
  return { s, p };
}

const call = (id: number, name = 'echo') => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { n: id } } });

async function burst(p: RawProxy, n: number): Promise<void> {
  p.child.stdin.write(Array.from({ length: n }, (_v, i) => call(i + 1) + '\n').join(''));
  await Promise.all(Array.from({ length: n }, (_v, i) => p.waitFor((m) => m.id === i + 1, 60_000)));
  const ids = p.lines.map((l) => JSON.parse(l).id).filter((id) => typeof id === 'number' && id >= 1);
  expect(ids).toHaveLength(n); // every call answered exactly once
}

describe('connection cap', () => {
  it('5000 calls written at once: every one answered over at most the default 32 sockets', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id, { n: m.params.arguments.n }))), 1),
    });
    await burst(p, 5000);
    const { peak, total } = s.connections();
    console.error(`[connection cap] 5000 calls: peak ${peak} sockets open at once, ${total} opened in all`);
    expect(peak).toBeLessThanOrEqual(32);
  }, 90_000);

  it('MCP_MAX_CONNECTIONS lowers the cap', async () => {
    const { s, p } = await setup({
      onRequest: (m, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id))), 2),
    }, { MCP_MAX_CONNECTIONS: '6' });
    await burst(p, 500);
    expect(s.connections().peak).toBeLessThanOrEqual(6);
    expect(p.stderr()).toMatch(/wait their turn/);
  }, 60_000);

  it('with every call slot taken, the event stream reconnects and notifications/cancelled goes out; the queued call runs once a slot frees', async () => {
    const held = new Map<number, http.ServerResponse>();
    const gets: http.ServerResponse[] = [];
    let cancelSeen!: () => void;
    const cancelled = new Promise<void>((r) => (cancelSeen = r));
    const s = await startFakeMcp({
      onRequest: (m, res) => {
        if (m.params.name === 'slow') return void held.set(m.id, res.writeHead(200, { 'content-type': 'text/event-stream' }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id, { fast: true })));
      },
      onGet: (res) => {
        gets.push(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ retry: 500, data: '' }));
      },
    });
    cleanups.push(() => s.close());
    // Cap 4: two slots for calls, two kept for the event stream and the client's messages.
    const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'tok', MCP_MAX_CONNECTIONS: '4' }, cleanups);
    const origOnRequest = s.hits.length; // hits before the burst
    await until(() => gets.length === 1);

    p.child.stdin.write(call(1, 'slow') + '\n' + call(2, 'slow') + '\n');
    await until(() => held.size === 2);
    p.send(call(3, 'fast')); // no call slot left: waits
    await new Promise((r) => setTimeout(r, 300));
    expect(p.lines.some((l) => JSON.parse(l).id === 3)).toBe(false);
    expect(s.hits.slice(origOnRequest).filter((h) => h.msg?.params?.name === 'fast')).toHaveLength(0);

    // The event stream drops and comes back while the calls fill their slots.
    gets[0]?.end();
    await until(() => gets.length === 2, 10_000);
    gets[1]?.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/tools/list_changed' } }));
    await p.waitFor((m) => m.method === 'notifications/tools/list_changed');

    // The client's notification goes out while both call slots are held ...
    const watch = setInterval(() => s.hits.some((h) => h.msg?.method === 'notifications/cancelled') && cancelSeen(), 20);
    cleanups.push(() => clearInterval(watch));
    p.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await cancelled;
    // ... and the cancelled call's slot goes to the queued one.
    const fast = await p.waitFor((m) => m.id === 3);
    expect(fast.result).toEqual({ fast: true });
    held.get(2)?.end(sse({ data: result(2, { slow: true }) }));
    await p.waitFor((m) => m.id === 2);
    expect(s.connections().peak).toBeLessThanOrEqual(4);
  });
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
