/**
 * Lossless delivery, direct vs through the proxy, in one run (README, "Performance"): the
 * SDK's own HTTP client and the SDK client over the spawned proxy, against the same
 * loopback servers. Counts, not pass/fail (shared, noisy machines):
 *
 * 1. the last progress notification of a call (20 calls × 3 steps, the last step right
 *    before the result): the SDK client drops a notification that shares a stdout read with
 *    the response after it;
 * 2. a server→client request on the standalone GET stream by the first tool called right
 *    after connect (8 fresh sessions);
 * 3. a notification written just before stdin EOF, sessionless server (5 runs);
 * 4. the latency cost: p50 of a call with notifications and one without, interleaved.
 *
 *   npm run build && npx tsc -p tsconfig.tools.json && node .build/scripts/bench-delivery.js
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startMcpServer } from '../test/helpers/mcp-server.js';
import { startScriptedServer } from '../test/helpers/scripted-server.js';
import { connectClient, INIT, spawnRaw } from '../test/helpers/spawn-proxy.js';

const CALLS = 20;
const STEPS = 3;
const GET_RUNS = 8;
const EOF_RUNS = 5;
const LATENCY_CALLS = 200;

async function directClient(url: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(new URL(url)) as Transport);
  return { client, close: () => client.close() };
}

function newClient(): Client {
  const client = new Client({ name: 'bench-delivery', version: '1.0.0' }, { capabilities: { elicitation: {}, roots: { listChanged: true } } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
  return client;
}

async function proxyClient(url: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const c = await connectClient({ MCP_ENDPOINT: url });
  return { client: c.client, close: () => c.close() };
}

type Connect = (url: string) => Promise<{ client: Client; close: () => Promise<void> }>;

/** Progress steps that reached the client's onprogress, out of CALLS × STEPS. */
async function lastProgress(connect: Connect, url: string): Promise<number> {
  const { client, close } = await connect(url);
  let got = 0;
  for (let i = 0; i < CALLS; i++) {
    const seen: number[] = [];
    await client.callTool({ name: 'progress_tail', arguments: { steps: STEPS } }, CallToolResultSchema, { onprogress: (p) => seen.push(p.progress) });
    got += seen.length;
  }
  await close();
  return got;
}

/** Fresh sessions whose first tool, called right after connect, got its GET-stream elicitation answered. */
async function standaloneRequest(connect: Connect, url: string): Promise<number> {
  let got = 0;
  for (let i = 0; i < GET_RUNS; i++) {
    const { client, close } = await connect(url);
    const r = await client.callTool({ name: 'ask_standalone', arguments: {} });
    if (!r.isError) got++;
    await close();
  }
  return got;
}

/** Runs in which a notification written just before stdin EOF reached a sessionless server. */
async function notificationBeforeEof(): Promise<{ direct: number; proxy: number }> {
  const server = await startScriptedServer((req, res, body) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const msg = JSON.parse(body) as { id?: number; method: string };
    if (msg.method === 'initialize') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'sessionless', version: '1' } } }));
    } else {
      res.writeHead(202).end();
    }
  });
  const arrived = (tag: string) => server.hits.filter((h) => h.body.includes(tag)).length;
  let direct = 0;
  let proxy = 0;
  for (let i = 0; i < EOF_RUNS; i++) {
    const d = newClient();
    await d.connect(new StreamableHTTPClientTransport(new URL(server.url)) as Transport);
    await d.notification({ method: 'notifications/roots/list_changed', params: { _meta: { tag: `direct-${i}` } } });
    await d.close();
    if (arrived(`direct-${i}`) > 0) direct++;

    const p = spawnRaw({ MCP_ENDPOINT: server.url });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.child.stdin.end(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { _meta: { tag: `proxy-${i}` } } }) + '\n');
    await p.exited;
    if (arrived(`proxy-${i}`) > 0) proxy++;
  }
  await server.close();
  return { direct, proxy };
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Through the proxy: a call preceded by notifications and one that is not, interleaved. */
async function latency(url: string): Promise<{ withNotifications: number; plain: number }> {
  const { client, close } = await proxyClient(url);
  const withN: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < 20; i++) await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
  for (let i = 0; i < LATENCY_CALLS; i++) {
    let t = performance.now();
    await client.callTool({ name: 'progress_tail', arguments: { steps: 1 } }, CallToolResultSchema, { onprogress: () => undefined });
    withN.push(performance.now() - t);
    t = performance.now();
    await client.callTool({ name: 'progress_tail', arguments: { steps: 1 } });
    plain.push(performance.now() - t);
  }
  await close();
  return { withNotifications: p50(withN), plain: p50(plain) };
}

const server = await startMcpServer();
try {
  const progressDirect = await lastProgress(directClient, server.url);
  const progressProxy = await lastProgress(proxyClient, server.url);
  console.log(`last progress notification (${CALLS} calls × ${STEPS} steps): direct ${progressDirect}/${CALLS * STEPS}, proxy ${progressProxy}/${CALLS * STEPS}`);
  const getDirect = await standaloneRequest(directClient, server.url);
  const getProxy = await standaloneRequest(proxyClient, server.url);
  console.log(`GET-stream request by the first tool after connect: direct ${getDirect}/${GET_RUNS}, proxy ${getProxy}/${GET_RUNS}`);
  const eof = await notificationBeforeEof();
  console.log(`notification before stdin EOF, sessionless server: direct ${eof.direct}/${EOF_RUNS}, proxy ${eof.proxy}/${EOF_RUNS}`);
  const lat = await latency(server.url);
  console.log(`p50 of a call through the proxy (${LATENCY_CALLS} each, interleaved): with a progress notification ${lat.withNotifications.toFixed(2)} ms, without ${lat.plain.toFixed(2)} ms`);
} finally {
  await server.close();
}
