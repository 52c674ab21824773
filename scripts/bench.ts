/**
 * Side-by-side benchmark (README, "Performance"): the same client workload against the
 * dependency-free floor relay and mcp-signing-proxy (and mcp-remote when MCP_REMOTE_BIN
 * points at its proxy.js), in one run, on one loopback MCP server. Start-up runs are
 * interleaved so that load on the machine hits every column alike. Prints medians and
 * ratios; never used as a pass/fail test (shared, noisy machines).
 *
 *   npm run bench                       # children run on this Node
 *   BENCH_NODE=/path/to/node npm run bench   # children run on another Node (e.g. 22)
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { startFakeSts } from '../test/helpers/fake-sts.js';
import { createLineSplitter } from '../test/helpers/line-splitter.js';
import { startMcpServer } from '../test/helpers/mcp-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/mcp-signing-proxy.js');
const FLOOR = resolve(ROOT, 'scripts/floor-relay.mjs');
const NODE = process.env.BENCH_NODE ?? process.execPath;
const STARTUP_RUNS = 9;
const EXEC_RUNS = 15;

interface Relay {
  child: ChildProcessByStdio<Writable, Readable, null>;
  call(msg: object & { id: number }): Promise<any>;
  send(msg: object): void;
  peakRssKb(): number;
}

function start(cmd: string[], env: Record<string, string>): Relay {
  const child = spawn(NODE, cmd, { env, stdio: ['pipe', 'pipe', 'inherit'] });
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

/** Spawn → initialize answered, as a host sees it (the initialize is written at once). */
async function startupOnce(cmd: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = start(cmd, env);
  const answer = await r.call(init());
  const ms = performance.now() - t0;
  // Ended as a host ends a session (stdin closed), so that Node writes its compile cache.
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.stdin.end();
  const kill = setTimeout(() => r.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(kill);
  if (answer.result === undefined) throw new Error(`initialize failed: ${JSON.stringify(answer)}`);
  return ms;
}

/** Sequential latency, 16-way throughput, a 4 MB result and peak RSS on one process. */
async function steadyState(cmd: string[], env: Record<string, string>) {
  const r = start(cmd, env);
  await r.call(init());
  r.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let i = 0; i < 50; i++) await r.call(echo()); // warm-up
  const seq: number[] = [];
  for (let i = 0; i < 300; i++) {
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
  for (let i = 0; i < 8; i++) {
    const t1 = performance.now();
    await r.call(big());
    bigs.push(performance.now() - t1);
  }
  const rss = r.peakRssKb() / 1024;
  r.child.kill('SIGKILL');
  return { p50: median(seq), throughput, big: median(bigs), rss };
}

/** One AssumeRole-sized POST on a fresh connection: what "one STS round trip" costs here. */
async function stsRoundTrip(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    await new Promise<void>((res, rej) => {
      const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (r) => {
        r.resume();
        r.on('end', res);
      });
      req.on('error', rej);
      req.end('Action=AssumeRole&Version=2011-06-15');
    });
    times.push(performance.now() - t0);
  }
  return median(times);
}

const server = await startMcpServer({ jsonResponse: true });
const KEY = 'AKIDBENCH00000000001';
const SECRET = 'benchSecretKey0000000000000000000000001';
const sts = await startFakeSts({ credentials: { [KEY]: { secretAccessKey: SECRET } }, region: 'eu-west-1' });
// One cache directory for the whole run, so a Node with a compile cache runs warm, as a
// host's second session does.
const cacheHome = mkdtempSync(join(tmpdir(), 'msp-bench-cache-'));
const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', XDG_CACHE_HOME: cacheHome, MCP_ENDPOINT: server.url, MCP_LOG_LEVEL: 'warn', NO_PROXY: '127.0.0.1' };
const sigv4 = { MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
const peerBin = process.env.MCP_REMOTE_BIN; // never installed by this project
const peerCmd = peerBin ? [peerBin, server.url, '--allow-http', '--transport', 'http-only', '--silent'] : undefined;

const startupCases: Record<string, { cmd: string[]; env: Record<string, string> }> = {
  floor: { cmd: [FLOOR, server.url], env: base },
  bearer: { cmd: [BIN], env: { ...base, MCP_BEARER_TOKEN: 'bench-token' } },
  sigv4: { cmd: [BIN], env: { ...base, ...sigv4 } },
  role: { cmd: [BIN], env: { ...base, ...sigv4, ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/bench', AWS_ENDPOINT_URL_STS: sts.url } },
  ...(peerCmd ? { peer: { cmd: peerCmd, env: base } } : {}),
};
const startups = Object.fromEntries(Object.keys(startupCases).map((k) => [k, [] as number[]]));
for (let i = -1; i < STARTUP_RUNS; i++) {
  for (const [k, c] of Object.entries(startupCases)) {
    const ms = await startupOnce(c.cmd, c.env);
    if (i >= 0) startups[k]!.push(ms); // run -1 warms the disk and any compile cache
  }
}
const startup = Object.fromEntries(Object.entries(startups).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const stsRtt = await stsRoundTrip(sts.url);

// --help / --version: answered before anything but Node built-ins loads.
const empty = join(mkdtempSync(join(tmpdir(), 'msp-bench-')), 'empty.mjs');
writeFileSync(empty, '');
const execCases: Record<string, string[]> = { 'node -e 0': ['-e', '0'], help: [BIN, '--help'], version: [BIN, '--version'] };
const execTimes = Object.fromEntries(Object.keys(execCases).map((k) => [k, [] as number[]]));
for (let i = -1; i < EXEC_RUNS; i++) {
  for (const [k, args] of Object.entries(execCases)) {
    const t0 = performance.now();
    spawnSync(NODE, args, { stdio: 'ignore', env: { PATH: base.PATH, HOME: base.HOME, XDG_CACHE_HOME: cacheHome } });
    if (i >= 0) execTimes[k]!.push(performance.now() - t0);
  }
}
const exec = Object.fromEntries(Object.entries(execTimes).map(([k, v]) => [k, median(v)])) as Record<string, number>;

const floor = await steadyState(startupCases.floor!.cmd, base);
const ours = await steadyState(startupCases.bearer!.cmd, startupCases.bearer!.env);
const peer = peerCmd ? await steadyState(peerCmd, base) : undefined;
await Promise.all([server.close(), sts.close()]);

const ms = (x: number) => `${x.toFixed(0)} ms`;
const ratio = (x: number, of: number) => `${(x / of).toFixed(2)}×`;
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const rows: string[][] = [
  ['spawn → initialize answered, bearer', ms(startup.floor!), `${ms(startup.bearer!)} (${ratio(startup.bearer!, startup.floor!)})`, '≤ 1.3× floor', yes(startup.bearer! <= 1.3 * startup.floor!)],
  ['spawn → initialize answered, SigV4 static keys', ms(startup.floor!), `${ms(startup.sigv4!)} (${ratio(startup.sigv4!, startup.floor!)})`, '≤ 1.5× floor', yes(startup.sigv4! <= 1.5 * startup.floor!)],
  [`spawn → initialize answered, SigV4 + assume-role (local STS, round trip ${stsRtt.toFixed(1)} ms)`, ms(startup.floor!), `${ms(startup.role!)} (+${ms(startup.role! - startup.sigv4!)} over static keys)`, '≤ static keys + one STS round trip', yes(startup.role! - startup.sigv4! <= stsRtt)],
  ['`--version`', `\`node -e 0\`: ${ms(exec['node -e 0']!)}`, `${ms(exec.version!)} (${ratio(exec.version!, exec['node -e 0']!)})`, '≤ 1.15× `node -e 0`', yes(exec.version! <= 1.15 * exec['node -e 0']!)],
  ['`--help`', `\`node -e 0\`: ${ms(exec['node -e 0']!)}`, `${ms(exec.help!)} (${ratio(exec.help!, exec['node -e 0']!)})`, '≤ 1.15× `node -e 0`', yes(exec.help! <= 1.15 * exec['node -e 0']!)],
  ['sequential call p50', `${floor.p50.toFixed(2)} ms`, `${ours.p50.toFixed(2)} ms (${ratio(ours.p50, floor.p50)})`, '≤ 1.3× floor', yes(ours.p50 <= 1.3 * floor.p50)],
  ['16-way concurrent calls/s', floor.throughput.toFixed(0), `${ours.throughput.toFixed(0)} (${ratio(ours.throughput, floor.throughput)})`, '≥ 1.0× floor', yes(ours.throughput >= floor.throughput)],
  ['4 MB tool result', ms(floor.big), `${ms(ours.big)} (${ratio(ours.big, floor.big)})`, '≤ 1.3× floor', yes(ours.big <= 1.3 * floor.big)],
  ['peak RSS', `${floor.rss.toFixed(0)} MB`, `${ours.rss.toFixed(0)} MB`, '≤ floor + 15 MB', yes(ours.rss <= floor.rss + 15)],
];
const peerCells = peer
  ? [
      `${ms(startup.peer!)} (${ratio(startup.peer!, startup.floor!)})`, '—', '—', '—', '—',
      `${peer.p50.toFixed(2)} ms (${ratio(peer.p50, floor.p50)})`,
      `${peer.throughput.toFixed(0)} (${ratio(peer.throughput, floor.throughput)})`,
      `${ms(peer.big)} (${ratio(peer.big, floor.big)})`,
      `${peer.rss.toFixed(0)} MB`,
    ]
  : undefined;
console.log(`\nNode ${spawnSync(NODE, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim()}; start-up: median of ${STARTUP_RUNS}, --help/--version: median of ${EXEC_RUNS}\n`);
console.log(`| | floor relay | mcp-signing-proxy | goal | met |${peer ? ' mcp-remote |' : ''}`);
console.log(`|---|---|---|---|---|${peer ? '---|' : ''}`);
rows.forEach((row, i) => console.log(`| ${row.join(' | ')} |${peerCells ? ` ${peerCells[i]} |` : ''}`));
process.exit(0);
