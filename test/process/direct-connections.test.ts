/**
 * Direct connections go through node:http / node:https; undici loads only when a proxy
 * from the environment applies (README, "Performance"). A preload records every CommonJS
 * module the spawned CLI loaded (undici is CommonJS) when it exits.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { initializedProxy } from '../helpers/spawn-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'msp-direct-'));
const preload = join(dir, 'record-modules.cjs');
writeFileSync(preload, `const Module = require('node:module');
process.on('exit', () => require('node:fs').writeFileSync(process.env.MSP_LOADED_LOG, Object.keys(Module._cache).join('\\n')));
`);

const cleanups = useCleanups();

/** Starts the relay with `env`, makes one tool call, ends it as a host does; returns the modules it loaded. */
async function relayOnce(env: Record<string, string>): Promise<string[]> {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.log`);
  const p = await initializedProxy({ ...env, MCP_BEARER_TOKEN: 'direct-token', NODE_OPTIONS: `--require ${preload}`, MSP_LOADED_LOG: log }, cleanups);
  p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
  const answer = await p.waitFor((m) => m.id === 1);
  expect(answer.result.content[0].text).toBe('hi');
  p.child.stdin.end();
  await p.exited;
  return readFileSync(log, 'utf8').split('\n');
}

const undiciModules = (loaded: string[]) => loaded.filter((f) => /[\\/]node_modules[\\/]undici[\\/]/.test(f));

describe('the HTTP client loaded for the connection at hand', () => {
  it('a direct connection loads no undici', async () => {
    const server = await startMcpServer({ bearerToken: 'direct-token', jsonResponse: true });
    cleanups.push(() => server.close());
    const loaded = await relayOnce({ MCP_ENDPOINT: server.url });
    expect(loaded.length).toBeGreaterThan(0);
    expect(undiciModules(loaded)).toEqual([]);
  });

  it('through HTTP_PROXY: undici tunnels the traffic', async () => {
    const server = await startMcpServer({ bearerToken: 'direct-token', jsonResponse: true });
    cleanups.push(() => server.close());
    const proxy = await startConnectProxy();
    cleanups.push(() => proxy.close());
    const loaded = await relayOnce({ MCP_ENDPOINT: server.url, HTTP_PROXY: proxy.url, NO_PROXY: '' });
    expect(proxy.targets).toContain(`127.0.0.1:${server.port}`);
    expect(undiciModules(loaded).length).toBeGreaterThan(0);
  });
});
