/**
 * Side-by-side benchmark (DESIGN.md performance targets): the same client workload against
 * the dependency-free floor relay and mcp-signing-proxy, in one run, on one loopback MCP
 * server. Prints medians and ratios; never used as a pass/fail test (shared, noisy machines).
 *
 *   npm run bench
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLineSplitter } from '../test/helpers/line-splitter.js';
import { startMcpServer } from '../test/helpers/mcp-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/mcp-signing-proxy.js');
const FLOOR = resolve(ROOT, 'scripts/floor-relay.mjs');

interface Relay {
  child: ChildProcessByStdio<Writable, Readable, null>;
  call(msg: object & { id: number }): Promise<any>;
  send(msg: object): void;
  peakRssKb(): number;
}

function start(cmd: string[], env: Record<string, string>): Relay {
  const child = spawn(process.execPath, cmd, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, (m: any) => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on(
    'data',
    createLineSplitter((line) => {
      const m = JSON.parse(line);
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    }),
  );
  return {
    child,
    call(msg) {
      return new Promise((res) => {
        waiting.set(msg.id, res);
        child.stdin.write(JSON.stringify(msg) + '\n');
      });
    },
    send(msg) {
      child.stdin.write(JSON.stringify(msg) + '\n');
    },
    peakRssKb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
let nextId = 1;
const init = () => ({ jsonrpc: '2.0', id: nextId++, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
const echo = () => ({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
const big = () => ({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'big', arguments: { bytes: 4 * 1024 * 1024 } } });

async function measure(name: string, cmd: string[], env: Record<string, string>) {
  const startups: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = start(cmd, env);
    await r.call(init());
    startups.push(performance.now() - t0);
    r.child.kill('SIGKILL');
  }
  const r = start(cmd, env);
  await r.call(init());
  r.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let i = 0; i < 50; i++) await r.call(echo()); // warm-up
  const seq: number[] = [];
  for (let i = 0; i < 400; i++) {
    const t0 = performance.now();
    await r.call(echo());
    seq.push(performance.now() - t0);
  }
  const total = 2000;
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (issued++ < total) await r.call(echo());
  }));
  const throughput = total / ((performance.now() - t0) / 1000);
  const bigs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t1 = performance.now();
    await r.call(big());
    bigs.push(performance.now() - t1);
  }
  const rss = r.peakRssKb() / 1024;
  r.child.kill('SIGKILL');
  return { name, startup: median(startups), p50: median(seq), throughput, big: median(bigs), rss };
}

const server = await startMcpServer({ jsonResponse: true });
const env = { MCP_ENDPOINT: server.url, MCP_LOG_LEVEL: 'warn', NO_PROXY: '127.0.0.1', HOME: process.env.HOME ?? '/tmp' };
const floor = await measure('floor relay', [FLOOR, server.url], env);
const ours = await measure('mcp-signing-proxy', [BIN], env);
// Optional peer, never installed by this project: MCP_REMOTE_BIN=/path/to/mcp-remote's proxy.js
const peerBin = process.env.MCP_REMOTE_BIN;
const peer = peerBin ? await measure('mcp-remote', [peerBin, server.url, '--allow-http', '--transport', 'http-only', '--silent'], env) : undefined;
await server.close();

const rows: Array<[string, string, (r: typeof floor) => number, string, (ratio: number, f: typeof floor, o: typeof floor) => boolean]> = [
  ['start-up to initialize (ms, median of 7)', 'ms', (r) => r.startup, '≤ 1.5×', (x) => x <= 1.5],
  ['sequential call p50 (ms)', 'ms', (r) => r.p50, '≤ 1.3×', (x) => x <= 1.3],
  ['16-way throughput (calls/s)', '/s', (r) => r.throughput, '≥ 0.8×', (x) => x >= 0.8],
  ['4 MB result (ms, median of 10)', 'ms', (r) => r.big, '≤ 1.3×', (x) => x <= 1.3],
  ['peak RSS (MB)', 'MB', (r) => r.rss, '≤ floor + 25 MB', (_x, f, o) => o.rss <= f.rss + 25],
];
const peerHead = peer ? ' mcp-remote (ratio) |' : '';
console.log(`\n| metric | floor relay | mcp-signing-proxy | ratio | target | met |${peerHead}\n|---|---|---|---|---|---|${peer ? '---|' : ''}`);
for (const [label, , get, target, ok] of rows) {
  const f = get(floor);
  const o = get(ours);
  const ratio = o / f;
  const peerCell = peer ? ` ${get(peer).toFixed(2)} (${(get(peer) / f).toFixed(2)}×) |` : '';
  console.log(`| ${label} | ${f.toFixed(2)} | ${o.toFixed(2)} | ${ratio.toFixed(2)}× | ${target} | ${ok(ratio, floor, ours) ? 'yes' : 'NO'} |${peerCell}`);
}
process.exit(0);
