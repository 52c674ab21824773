import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallToolResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, type ConnectedClient } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

const TOKEN = 'CANARY-BEARER-7f3a9c';

describe('spawned proxy ↔ bearer-protected SDK server', () => {
  let server: McpTestServer;
  let c: ConnectedClient;

  beforeAll(async () => {
    server = await startMcpServer({ bearerToken: TOKEN });
    c = await connectClient({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: TOKEN, MCP_LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    await c?.close();
    await server?.close();
  });

  it('initializes and lists tools', async () => {
    expect(c.client.getServerVersion()?.name).toBe('test-remote');
    const tools = await c.client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
  });

  it('calls a tool with non-ASCII arguments', async () => {
    const r = await c.client.callTool({ name: 'echo', arguments: { text: 'café 🚀 — ünïcödé' } });
    expect(r.content).toEqual([{ type: 'text', text: 'café 🚀 — ünïcödé' }]);
  });

  it('streams progress notifications', async () => {
    const seen: number[] = [];
    const r = await c.client.callTool({ name: 'progress', arguments: { steps: 4 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(r.content).toEqual([{ type: 'text', text: 'done 4' }]);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('relays a server→client elicitation and roots/list request', async () => {
    const a = await c.client.callTool({ name: 'ask', arguments: {} });
    expect(JSON.parse((a.content as Array<{ text: string }>)[0]!.text)).toEqual({ action: 'accept', content: { name: 'Ada' } });
    const r = await c.client.callTool({ name: 'roots', arguments: {} });
    expect(JSON.parse((r.content as Array<{ text: string }>)[0]!.text)).toEqual([{ uri: 'file:///work/project', name: 'project' }]);
  });

  it('delivers tools/list_changed over the GET stream', async () => {
    const changed = new Promise<void>((resolve) => c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await c.client.callTool({ name: 'change_tools', arguments: {} });
    await changed;
    expect(server.requests.some((r) => r.method === 'GET')).toBe(true);
  });

  it('round-trips an 8 MB tool result intact', async () => {
    const r = await c.client.callTool({ name: 'big', arguments: { bytes: 8 * 1024 * 1024 } });
    const text = (r.content as Array<{ text: string }>)[0]!.text;
    expect(text.length).toBe(8 * 1024 * 1024);
    expect(/^x+$/.test(text)).toBe(true);
  });

  it('sends protocol version, method header and session id on every request after initialize', () => {
    const posts = server.requests.filter((r) => r.method === 'POST');
    const init = posts[0]!;
    expect(JSON.parse(init.body).method).toBe('initialize');
    const sid = server.requests.find((r) => r.headers['mcp-session-id'])?.headers['mcp-session-id'];
    expect(sid).toBeTruthy();
    for (const r of server.requests.slice(1)) {
      expect(r.headers['mcp-protocol-version']).toBe('2025-11-25');
      expect(r.headers['mcp-session-id']).toBe(sid);
    }
    for (const r of posts) {
      const body = JSON.parse(r.body);
      if (body.method) expect(r.headers['mcp-method']).toBe(body.method);
      if (body.method === 'tools/call') expect(r.headers['mcp-name']).toBe(body.params.name);
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    }
  });

  it('never logs the token, even at trace level', () => {
    expect(c.stderr()).toContain('mcp-signing-proxy starting');
    expect(c.stderr()).not.toContain(TOKEN);
  });

  it('DELETEs the session once and exits promptly when the client closes stdin', async () => {
    const pid = c.transport.pid!;
    const started = Date.now();
    await c.close();
    const deletes = server.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    // The SDK's close() waits up to 2 s before SIGTERM; the proxy must be gone well before.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
