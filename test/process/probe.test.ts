/**
 * The host's `server/discover` probe on stdio (MCP 2026-07-28 stdio transport, "Version
 * negotiation", https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/stdio):
 * the SDK v2 client sends it from a short-lived sibling process, then starts the real one.
 * Through the proxy it must be answered promptly by any server, and a process that only
 * answers the probe does no more start-up work than signing it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { startSdkV2Server } from '../helpers/sdk-v2-server.js';
import { BIN, hermeticEnv, spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

/** A headers helper that appends one line per run to a file. */
function countingHelper(): { command: string; runs: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'msp-probe-'));
  const counter = join(dir, 'runs');
  writeFileSync(counter, '');
  const script = join(dir, 'helper.sh');
  writeFileSync(script, `#!/bin/sh\necho run >> '${counter}'\nprintf '{"Authorization": "Bearer tok"}'\n`, { mode: 0o755 });
  return { command: script, runs: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}

async function v2Connect(url: string, helper: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN], env: hermeticEnv({ MCP_ENDPOINT: url, MCP_HEADERS_HELPER: helper }), stderr: 'pipe' });
  const client = new Client({ name: 'v2-host', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

const PROBE = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'h', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } } };

describe('server/discover from the host', () => {
  it('a 2025 server: the probe is answered with a JSON-RPC error, the process stays up, and the client falls back to initialize', async () => {
    const server = await startMcpServer();
    cleanups.push(() => server.close());
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'tok' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(PROBE);
    const answer = await p.waitFor((m) => m.id === 1);
    expect(answer.error.message).toMatch(/^mcp-signing-proxy: the server answered HTTP 400/);
    // Not a verdict on the transport: the same process then initializes over Streamable HTTP.
    p.send({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } } });
    expect((await p.waitFor((m) => m.id === 2)).result.protocolVersion).toBe('2025-11-25');
    expect(p.stderr()).not.toMatch(/trying legacy|does not speak/);

    const helper = countingHelper();
    const client = await v2Connect(server.url, helper.command);
    expect(client.getNegotiatedProtocolVersion?.()).toBe('2025-11-25');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).content).toEqual([{ type: 'text', text: 'hi' }]);
    // One run for the probe process's one signature, one for the session's process.
    expect(helper.runs()).toBe(2);
    // The probe process opened no GET stream: every GET belongs to the initialized session.
    expect(server.requests.filter((r) => r.method === 'GET' && r.headers['mcp-session-id'] === undefined)).toEqual([]);
  });

  it('a 2026-07-28 server: one helper run per process, and no GET or DELETE without a session', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const helper = countingHelper();
    const client = await v2Connect(server.url, helper.command);
    expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    expect((await client.callTool({ name: 'deploy', arguments: { region: 'eu' } })).content).toEqual([{ type: 'text', text: 'deployed to eu' }]);
    await client.close();
    expect(helper.runs()).toBeLessThanOrEqual(2);
    expect(server.requests.filter((h) => h['mcp-method'] === undefined)).toEqual([]);
  });
});
