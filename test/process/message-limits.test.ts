/**
 * What the spawned proxy relays and refuses: every stdout line is valid JSON whatever the
 * server sends and however large it is; nesting deeper than the limit is refused unparsed
 * in both directions; a 50 MB result arrives intact through a client that stops reading.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { result, sse, startFakeMcp, type FakeMcp } from '../helpers/catalogue-upstream.js';
import { connectClient, initializedProxy, type RawProxy } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
/** Above the size where the proxy used to stop validating (it scanned only the structure). */
const BIG_PAD = 300 * 1024;

/** Bodies that are not JSON, each answering request `id`; `pad` makes them large. */
const INVALID: Record<string, (id: number, pad: string) => string> = {
  NaN: (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}","n":NaN}}`,
  'raw tab': (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}","t":"a\tb"}}`,
  'unknown escape': (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}","t":"a\\qb"}}`,
  'trailing comma': (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}","a":[1,2,]}}`,
  tru: (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}","ok":tru}}`,
  truncated: (id, pad) => `{"jsonrpc":"2.0","id":${id},"result":{"pad":"${pad}"`,
};
const MODES = ['json', 'sse'] as const;
const SIZES = { small: 0, big: BIG_PAD } as const;

interface Case {
  name: string;
  mode: (typeof MODES)[number];
  size: keyof typeof SIZES;
}
const CASES: Case[] = Object.keys(INVALID).flatMap((name) => MODES.flatMap((mode) => (Object.keys(SIZES) as Array<keyof typeof SIZES>).map((size) => ({ name, mode, size }))));
const label = (c: Case) => `${c.name} ${c.size} ${c.mode}`;

/** tools/call arguments say which body to send; `valid` sends a good result of that size. */
function answer(body: string, mode: Case['mode'], res: import('node:http').ServerResponse): void {
  if (mode === 'json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  } else {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(sse({ data: body }));
  }
}

async function server(): Promise<FakeMcp> {
  const s = await startFakeMcp({
    onRequest: (m, res) => {
      const a = m.params?.arguments ?? {};
      const pad = 'x'.repeat(SIZES[a.size as Case['size']] ?? 0);
      if (a.nested !== undefined) {
        const levels = Number(a.nested);
        return answer(JSON.stringify(result(m.id, { deep: JSON.parse('['.repeat(levels) + ']'.repeat(levels)) })), a.mode, res);
      }
      if (a.valid) return answer(JSON.stringify(result(m.id, { content: [{ type: 'text', text: pad }] })), a.mode, res);
      if (a.case !== undefined) return answer(INVALID[a.case]!(m.id, pad), a.mode, res);
      answer(JSON.stringify(result(m.id)), 'json', res);
    },
  });
  cleanups.push(() => s.close());
  return s;
}

const call = (id: number, args: object) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'work', arguments: args } });

describe('server bodies that are not JSON', () => {
  it('an SDK client gets ESP_BAD_JSON for each, large or small, JSON or SSE, instead of waiting', async () => {
    const s = await server();
    const c = await connectClient({ MCP_ENDPOINT: s.url });
    cleanups.push(() => c.close());
    for (const k of CASES) {
      // A short timeout: the old failure was a call that hung until the client gave up.
      const err = await c.client.callTool({ name: 'work', arguments: { case: k.name, mode: k.mode, size: k.size } }, undefined, { timeout: 10_000 }).then(
        () => undefined,
        (e: unknown) => e as { code?: number; data?: { code?: string } },
      );
      expect(err?.data?.code, label(k)).toBe('ESP_BAD_JSON');
    }
    // Valid results of both sizes still pass, intact.
    for (const mode of MODES) {
      const r = (await c.client.callTool({ name: 'work', arguments: { valid: true, mode, size: 'big' } })) as { content: Array<{ text: string }> };
      expect(r.content[0]!.text).toHaveLength(BIG_PAD);
    }
  });

  it('every stdout line is valid JSON and each call gets exactly one error', async () => {
    const s = await server();
    const p = await initializedProxy({ MCP_ENDPOINT: s.url }, cleanups);
    CASES.forEach((k, n) => p.send(call(n + 1, { case: k.name, mode: k.mode, size: k.size })));
    const answers = await Promise.all(CASES.map((_k, n) => p.waitFor((m) => m.id === n + 1)));
    answers.forEach((a, n) => expect(a.error?.data?.code, label(CASES[n]!)).toBe('ESP_BAD_JSON'));
    for (const line of p.lines) expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
  });
});

describe('nesting limit', () => {
  it('a 32 MiB stdin line of nested brackets is answered -32600 unparsed, and a following ping is answered', async () => {
    const s = await server();
    const p = await initializedProxy({ MCP_ENDPOINT: s.url }, cleanups);
    const head = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"work","arguments":{"a":';
    const depth = Math.floor((32 * 1024 * 1024 - head.length - 16) / 2);
    p.send(head + '['.repeat(depth) + ']'.repeat(depth) + '}}}');
    p.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
    const refused = await p.waitFor((m) => m.error !== undefined && m.id === null, 20_000);
    expect(refused.error.code).toBe(-32600);
    expect(refused.error.message).toMatch(/^mcp-signing-proxy: invalid request: .*deeper than 1000 levels/);
    expect((await p.waitFor((m) => m.id === 8, 20_000)).result).toEqual({});
    // Nothing of it reached the server.
    expect(s.hits.some((h) => h.msg?.id === 7)).toBe(false);
  });

  it('a server message nested deeper than 1000 levels answers the request with an error; 1000 levels pass', async () => {
    const s = await server();
    const p = await initializedProxy({ MCP_ENDPOINT: s.url }, cleanups);
    // The message is level 1 and `result` level 2: 998 arrays in `deep` make 1000.
    for (const [id, mode] of [[1, 'json'], [2, 'sse']] as const) {
      p.send(call(id, { nested: 1001, mode }));
      const a = await p.waitFor((m) => m.id === id);
      expect(a.error.data.code).toBe('ESP_JSON_TOO_DEEP');
      expect(a.error.message).toContain('deeper than 1000 levels');
    }
    p.send(call(3, { nested: 998, mode: 'json' }));
    expect((await p.waitFor((m) => m.id === 3)).result.deep).toBeDefined();
  });
});

describe('a 50 MB result while the client does not read', () => {
  const peakRssMb = (p: RawProxy) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'))?.[1]) / 1024;

  it.each(MODES)('%s: arrives intact once the client drains stdout, holding about two copies at most', async (mode) => {
    const bytes = 50 * 1000 * 1000;
    const s = await startFakeMcp({
      onRequest: (m, res) => answer(JSON.stringify(result(m.id, { content: [{ type: 'text', text: 'y'.repeat(bytes) }] })), mode, res),
    });
    cleanups.push(() => s.close());
    const p = await initializedProxy({ MCP_ENDPOINT: s.url }, cleanups);
    const idle = peakRssMb(p);
    p.child.stdout.pause();
    p.send(call(1, {}));
    // Until the server has answered and the proxy holds the whole result.
    while (s.hits.filter((h) => h.msg?.id === 1).length === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    p.child.stdout.resume();
    const a = await p.waitFor((m) => m.id === 1, 30_000);
    expect(a.result.content[0].text.length).toBe(bytes);
    expect(/^y+$/.test(a.result.content[0].text)).toBe(true);
    // A memory bound, not a timing one: the result as received plus one joined copy.
    expect(peakRssMb(p) - idle).toBeLessThan((3 * bytes) / 1024 / 1024);
  }, 60_000);
});
