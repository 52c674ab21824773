/**
 * Process lifecycle and listener exposure (no listening socket) through the spawned proxy.
 * stdin EOF with N slow requests in flight → every one answered, one DELETE, exit 0 < 2 s.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { INIT, initializedProxy, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { result, startFakeMcp, type FakeMcp, type FakeMcpOptions } from '../helpers/catalogue-upstream.js';

const TOKEN = 'CANARY-catalogue-b-0c4f';
const cleanups = useCleanups();

async function mcp(): Promise<McpTestServer> {
  const s = await startMcpServer({ bearerToken: TOKEN });
  cleanups.push(() => s.close());
  return s;
}

async function fake(opts: FakeMcpOptions): Promise<FakeMcp> {
  const s = await startFakeMcp(opts);
  cleanups.push(() => s.close());
  return s;
}

function started(url: string): Promise<RawProxy> {
  return initializedProxy({ MCP_ENDPOINT: url, MCP_BEARER_TOKEN: TOKEN, MCP_LOG_LEVEL: 'debug' }, cleanups);
}

/** A fake server that never answers DELETE, and a started proxy that has answered one ping. */
async function pingedWithSilentDelete(): Promise<{ s: FakeMcp; p: RawProxy }> {
  const s = await fake({ onDelete: () => undefined });
  const p = await started(s.url);
  p.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
  await p.waitFor((m) => m.id === 1);
  return { s, p };
}

const slow = (id: number, ms: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms } } });
const answers = (p: RawProxy, id: number) => p.lines.map((l) => JSON.parse(l)).filter((m) => m.id === id);
const ids = [1, 2, 3, 4, 5];

/** The proxy exits 0 within the ~2 s a host waits after closing stdin (https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle, "Shutdown"). */
async function exitsCleanlyWithin2s(p: RawProxy, t0: number): Promise<void> {
  const exit = await p.exited;
  expect(exit.code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(2000);
}

describe('stdin EOF with requests in flight', () => {
  it('requests that finish within the grace are answered with their results; one DELETE; exit 0 < 2 s', async () => {
    const s = await mcp();
    const p = await started(s.url);
    const t0 = Date.now();
    // The requests and the EOF arrive together, as when a host writes and closes at once.
    p.child.stdin.end(ids.map((id) => JSON.stringify(slow(id, 150 + id * 20)) + '\n').join(''));
    await exitsCleanlyWithin2s(p, t0);
    for (const id of ids) {
      const a = answers(p, id);
      expect(a, `answers for ${id}`).toHaveLength(1);
      expect(a[0].result.content[0].text).toBe(`slept ${150 + id * 20}`);
    }
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    for (const l of p.lines) expect(JSON.parse(l).jsonrpc).toBe('2.0');
    expect(p.stderr()).not.toContain(TOKEN);
  });

  it('requests still running after the grace get one "shutting down" error each; one DELETE after them; exit 0 < 2 s', async () => {
    const s = await mcp();
    const p = await started(s.url);
    for (const id of ids) p.send(slow(id, 10_000));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    p.child.stdin.end();
    await exitsCleanlyWithin2s(p, t0);
    for (const id of ids) {
      const a = answers(p, id);
      expect(a, `answers for ${id}`).toHaveLength(1);
      expect(a[0].error.code).toBe(-32603);
      expect(a[0].error.data.code).toBe('ESP_SHUTDOWN');
      expect(a[0].error.message).toContain('tools/call');
    }
    const deletes = s.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.headers['mcp-session-id']).toBeTruthy();
    expect(deletes[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a mix: fast ones get results, slow ones errors, nothing twice', async () => {
    const s = await mcp();
    const p = await started(s.url);
    p.child.stdin.end([slow(1, 50), slow(2, 10_000), slow(3, 100), slow(4, 10_000)].map((m) => JSON.stringify(m) + '\n').join(''));
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(answers(p, 1)[0].result).toBeDefined();
    expect(answers(p, 3)[0].result).toBeDefined();
    expect(answers(p, 2)[0].error.data.code).toBe('ESP_SHUTDOWN');
    expect(answers(p, 4)[0].error.data.code).toBe('ESP_SHUTDOWN');
    for (const id of [1, 2, 3, 4]) expect(answers(p, id)).toHaveLength(1);
  });

  it('a DELETE the server never answers does not hold the exit past 2 s', async () => {
    const { s, p } = await pingedWithSilentDelete();
    const t0 = Date.now();
    p.child.stdin.end();
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.hits.filter((h) => h.method === 'DELETE')).toHaveLength(1);
  });

  it('EOF while the initialize itself is pending: it gets one error and the process still exits 0 < 2 s', async () => {
    const s = await fake({
      onInitialize: (m, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's' }).end(JSON.stringify(result(m.id))), 5000),
    });
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    const t0 = Date.now();
    p.child.stdin.end(JSON.stringify(INIT) + '\n');
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    const a = answers(p, 0);
    expect(a).toHaveLength(1);
    expect(a[0].error.data.code).toBe('ESP_SHUTDOWN');
  });
});

describe('signals', () => {
  it('SIGINT behaves like SIGTERM: pending answered, one DELETE, exit 0 < 2 s', async () => {
    const s = await mcp();
    const p = await started(s.url);
    p.send(slow(1, 10_000));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(answers(p, 1)).toHaveLength(1);
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('a second signal exits at once (code 1)', async () => {
    const { p } = await pingedWithSilentDelete();
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(700);
  });
});

/** Inodes of the TCP sockets in LISTEN state (Linux /proc/net/tcp{,6}, state 0A). */
function listeningInodes(): Set<string> {
  const out = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9] !== undefined) out.add(cols[9]);
    }
  }
  return out;
}

describe('listener exposure', () => {
  it.runIf(process.platform === 'linux')('the running proxy has no listening TCP socket', async () => {
    const s = await mcp();
    const p = await started(s.url);
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await p.waitFor((m) => m.id === 1);
    const pid = p.child.pid!;
    const sockets = readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(sockets.length).toBeGreaterThan(0); // it does hold client connections …
    const listening = listeningInodes();
    expect(listening.size).toBeGreaterThan(0); // … and the test server listens, so the probe works
    for (const inode of sockets) expect(listening.has(inode)).toBe(false);
  });
});
