/**
 * Memory and stall measurements for the spawned proxy against a loopback server; prints
 * numbers, asserts nothing (shared, noisy machines):
 *
 * - nested: a stdin line of ~32 MiB nested brackets (inside the default line limit), then a
 *   ping: peak RSS of the proxy and how long the ping waits.
 * - big-json / big-json-sized / big-sse: one 50 MB tool result (application/json chunked or
 *   with a Content-Length, or one SSE event) while the
 *   client does not read stdout for 3 s, then drains it: peak RSS of the proxy, and whether
 *   the result arrived intact.
 *
 *   npm run build && tsc -p tsconfig.tools.json && node .build/scripts/bench-memory.js [scenario…]
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/mcp-signing-proxy.js');
const MB = 1024 * 1024;
const RESULT_BYTES = 50 * 1000 * 1000;

function idOf(body: Buffer): unknown {
  // Big bodies are not parsed here: the server must not be the bottleneck being measured.
  const m = /"id"\s*:\s*("[^"]*"|-?\d+)/.exec(body.subarray(0, 4096).toString('latin1'));
  return m ? JSON.parse(m[1] as string) : null;
}

async function startServer(): Promise<{ url: string; close(): void }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const id = idOf(body);
    if (body.length > MB) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32600, message: 'too large' } }));
      return;
    }
    const msg = JSON.parse(body.toString('utf8')) as { method?: string; params?: { name?: string } };
    if (msg.method === 'tools/call' && msg.params?.name?.startsWith('big-')) {
      const text = JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'x'.repeat(RESULT_BYTES) }] } });
      if (msg.params.name === 'big-json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(text); // chunked
      } else if (msg.params.name === 'big-json-sized') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`event: message\ndata: ${text}\n\n`);
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () => (server.closeAllConnections(), server.close()),
  };
}

interface Proxy {
  child: ChildProcessByStdio<Writable, Readable, null>;
  /** Resolves with the raw line answering `id` (null: a line the proxy could not read). */
  answer(id: number | null): Promise<string>;
  peakRssMb(): number;
}

function startProxy(url: string): Proxy {
  const child = spawn(process.execPath, [BIN], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', MCP_ENDPOINT: url, MCP_LOG_LEVEL: 'error', NO_PROXY: '127.0.0.1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number | null, (line: string) => void>();
  let parts: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      parts.push(chunk.subarray(start, nl));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      start = nl + 1;
      const id = (JSON.parse(line) as { id?: number | null }).id;
      if (id !== undefined) waiting.get(id)?.(line);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  });
  return {
    child,
    answer: (id) => new Promise((res) => waiting.set(id, res)),
    peakRssMb: () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
  };
}

const send = (p: Proxy, msg: object) => p.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');

async function nested(url: string): Promise<string> {
  const p = startProxy(url);
  send(p, { id: 1, method: 'ping' });
  await p.answer(1);
  const before = p.peakRssMb();
  const head = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{"a":';
  const depth = Math.floor((32 * MB - head.length - 8) / 2);
  const line = head + '['.repeat(depth) + ']'.repeat(depth) + '}}}\n';
  const t0 = performance.now();
  // Answered by the server (forwarded) or, rejected unparsed, with id null.
  const nestedAnswer = Promise.race([p.answer(2), p.answer(null)]);
  const pong = p.answer(3);
  p.child.stdin.write(line);
  send(p, { id: 3, method: 'ping' });
  await pong;
  const pingMs = performance.now() - t0;
  const answer = JSON.parse(await nestedAnswer) as { error?: { code: number } };
  const peak = p.peakRssMb();
  p.child.kill('SIGKILL');
  return `nested ${(line.length / MB).toFixed(1)} MiB line (depth ${depth}): ping answered after ${pingMs.toFixed(0)} ms; nested line answered with ${answer.error ? `error ${answer.error.code}` : 'a result'}; peak RSS ${peak.toFixed(0)} MB (idle ${before.toFixed(0)} MB)`;
}

async function big(url: string, name: string): Promise<string> {
  const p = startProxy(url);
  send(p, { id: 1, method: 'ping' });
  await p.answer(1);
  const before = p.peakRssMb();
  // The client stops reading stdout; the proxy must hold the result until it drains.
  p.child.stdout.pause();
  const result = p.answer(2);
  send(p, { id: 2, method: 'tools/call', params: { name } });
  await new Promise((r) => setTimeout(r, 3000));
  p.child.stdout.resume();
  const line = await result;
  const text = (JSON.parse(line) as { result?: { content?: Array<{ text?: string }> } }).result?.content?.[0]?.text;
  const intact = text?.length === RESULT_BYTES;
  const peak = p.peakRssMb();
  p.child.kill('SIGKILL');
  return `${name}: 50 MB result with stdout blocked 3 s: ${intact ? 'intact' : 'NOT INTACT'}; peak RSS ${peak.toFixed(0)} MB (idle ${before.toFixed(0)} MB, +${(peak - before).toFixed(0)} MB)`;
}

const server = await startServer();
const wanted = process.argv.slice(2);
const all = ['nested', 'big-json', 'big-json-sized', 'big-sse'];
for (const s of wanted.length ? wanted : all) {
  console.log(s === 'nested' ? await nested(server.url) : await big(server.url, s));
}
server.close();
process.exit(0);
