/**
 * The era bridge, measured side by side in one run (README, "Protocols"): an SDK v1 client
 * over the spawned proxy to the SDK v2 server, `--protocol passthrough` (the server's
 * stateless 2025 serving) against `--protocol bridge` (2026-07-28 upstream). Counts and
 * medians, not pass/fail (shared, noisy machines):
 *
 * 1. what the host gets: an elicitation round, a list-changed notification;
 * 2. the start-up cost: connect (spawn, initialize) p50 over 5 runs each;
 * 3. the per-call cost: p50 of a plain tools/call, 200 calls each, interleaved.
 *
 *   npm run build && npx tsc -p tsconfig.tools.json && node .build/scripts/bench-bridge.js
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSdkV2Server } from '../test/helpers/sdk-v2-server.js';
import { BIN, hermeticEnv } from '../test/helpers/spawn-proxy.js';

const MODES = ['passthrough', 'bridge'] as const;
const CONNECTS = 5;
const CALLS = 200;

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function connect(url: string, mode: string): Promise<{ client: Client; changed: () => number; ms: number }> {
  const started = performance.now();
  const client = new Client({ name: 'bench-bridge', version: '1' }, { capabilities: { elicitation: {} } });
  let changed = 0;
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed++);
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, '--protocol', mode], env: hermeticEnv({ MCP_ENDPOINT: url, MCP_LOG_LEVEL: 'warn' }) }));
  return { client, changed: () => changed, ms: performance.now() - started };
}

const server = await startSdkV2Server({ bridgeTools: true });
const rows: string[] = [];
for (const mode of MODES) {
  const c = await connect(server.url, mode);
  const greet = await c.client.callTool({ name: 'greet', arguments: {} });
  await c.client.callTool({ name: 'add-tool', arguments: {} });
  await new Promise((r) => setTimeout(r, 1000));
  rows.push(`${mode.padEnd(12)} elicitation round: ${greet.isError ? 'fails in-band' : 'answered'}; tools/list_changed received: ${c.changed()}`);
  await c.client.close();
}
const connects: Record<string, number[]> = { passthrough: [], bridge: [] };
for (let i = 0; i < CONNECTS; i++) {
  for (const mode of MODES) {
    const c = await connect(server.url, mode);
    connects[mode]!.push(c.ms);
    await c.client.close();
  }
}
const clients = { passthrough: await connect(server.url, 'passthrough'), bridge: await connect(server.url, 'bridge') };
// tools/list first, as hosts do: it teaches the proxy deploy's x-mcp-header argument.
for (const c of Object.values(clients)) await c.client.listTools();
const calls: Record<string, number[]> = { passthrough: [], bridge: [] };
for (let i = 0; i < CALLS; i++) {
  for (const mode of MODES) {
    const t = performance.now();
    await clients[mode].client.callTool({ name: 'deploy', arguments: { region: 'eu' } });
    calls[mode]!.push(performance.now() - t);
  }
}
for (const c of Object.values(clients)) await c.client.close();
await server.close();
console.log(rows.join('\n'));
for (const mode of MODES) console.log(`${mode.padEnd(12)} connect p50 ${p50(connects[mode]!).toFixed(0)} ms; tools/call p50 ${p50(calls[mode]!).toFixed(2)} ms`);
