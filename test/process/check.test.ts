import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRaw } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

const TOKEN = 'CANARYCHECKTOKEN77';

describe('--check: one scripted session, reported for a person', () => {
  let server: McpTestServer;
  beforeAll(async () => {
    server = await startMcpServer({ bearerToken: TOKEN });
  });
  afterAll(async () => server.close());

  it('reports the server and its tools, closes the session and exits 0', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: TOKEN }, ['--check']);
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    const out = p.lines.join('\n');
    expect(out).toContain('check: http://127.0.0.1');
    expect(out).toContain('✔ initialize: test-remote 1.0.0 (protocol 2025-11-25, transport streamable-http)');
    expect(out).toMatch(/✔ tools\/list: 9 tools \(echo, /);
    expect(server.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(out + p.stderr()).not.toContain(TOKEN);
  });

  it('applies the tool policy, as the host would see it', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: TOKEN, MCP_ALLOW_TOOLS: 'echo' }, ['--check']);
    expect((await p.exited).code).toBe(0);
    expect(p.lines.join('\n')).toContain('✔ tools/list: 1 tool (echo)');
  });

  it('says what failed and exits 1', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'CANARYWRONG1' }, ['--check']);
    const exit = await p.exited;
    expect(exit.code).toBe(1);
    expect(p.lines.join('\n')).toMatch(/✘ initialize: mcp-signing-proxy: the server rejected the bearer token \(HTTP 401\)/);
    expect(p.lines.join('\n') + p.stderr()).not.toContain('CANARYWRONG1');
  });
});
