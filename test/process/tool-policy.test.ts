/**
 * Tool, prompt and resource policy through the spawned proxy (README "Least privilege"):
 * what is hidden never shows in a list, on any page, and a call to it is answered by the
 * proxy and never reaches the server.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { result, sse, startFakeMcp, type FakeMcp } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { connectClient, INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

const ro = { readOnlyHint: true };
/** The server's tools, in pages of two (nextCursor "1", "2", …). */
let TOOLS: Array<{ name: string; annotations?: object; inputSchema?: object }> = [];
const PROMPTS = [{ name: 'summary' }, { name: 'drop_tables' }];
const RESOURCES = [{ uri: 'docs://readme', name: 'r' }, { uri: 'secret://db/password', name: 's' }];
const TEMPLATES = [{ uriTemplate: 'docs://{path}', name: 'd' }, { uriTemplate: 'secret://{key}', name: 's' }];

function page<T>(all: T[], cursor: string | undefined, key: string): object {
  const start = cursor === undefined ? 0 : Number(cursor);
  const out: Record<string, unknown> = { [key]: all.slice(start, start + 2) };
  if (start + 2 < all.length) out.nextCursor = String(start + 2);
  return out;
}

async function server(): Promise<FakeMcp> {
  const s = await startFakeMcp({
    onRequest: (m, res) => {
      const json = (v: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(m.id, v)));
      const cursor = m.params?.cursor;
      if (m.method === 'tools/list') return json({ ...page(TOOLS, cursor, 'tools'), ...(m.params?._meta && { resultType: 'complete' }) });
      if (m.method === 'prompts/list') return json(page(PROMPTS, cursor, 'prompts'));
      if (m.method === 'resources/list') return json(page(RESOURCES, cursor, 'resources'));
      if (m.method === 'resources/templates/list') return json(page(TEMPLATES, cursor, 'resourceTemplates'));
      if (m.method === 'tools/call' && m.params.name === 'rotate') {
        // The server changes its tools and says so on the call's stream.
        TOOLS = [...TOOLS, { name: 'delete_everything', annotations: ro }];
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ data: { jsonrpc: '2.0', method: 'notifications/tools/list_changed' } }));
        return res.end(sse({ data: result(m.id, { content: [] }) }));
      }
      return json({ content: [{ type: 'text', text: `ran ${m.params?.name ?? m.params?.uri}` }] });
    },
  });
  cleanups.push(() => s.close());
  return s;
}

async function proxy(s: FakeMcp, args: string[], env: Record<string, string> = {}, init = true): Promise<RawProxy> {
  const p = spawnRaw({ MCP_ENDPOINT: s.url, ...env }, args);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  if (init) {
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  return p;
}

let nextId = 1;
async function request(p: RawProxy, method: string, params: object = {}): Promise<any> {
  const id = nextId++;
  p.send({ jsonrpc: '2.0', id, method, params });
  return p.waitFor((m) => m.id === id);
}

/** Every entry of every page, and the number of pages. */
async function listAll(p: RawProxy, method: string, key: string, params: object = {}): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const r = await request(p, method, cursor === undefined ? params : { ...params, cursor });
    expect(r.error).toBeUndefined();
    pages++;
    for (const e of r.result[key]) names.push(e.name === undefined || key !== 'tools' && key !== 'prompts' ? (e.uri ?? e.uriTemplate) : e.name);
    cursor = r.result.nextCursor;
  } while (cursor !== undefined);
  return { names, pages };
}

const upstreamCalls = (s: FakeMcp, name: string) => s.hits.filter((h) => h.msg?.method === 'tools/call' && h.msg.params?.name === name).length;

describe('--deny-tools and --allow-tools', () => {
  it('a denied tool is absent from every page, its call is refused naming the rule, and the server never sees it', async () => {
    TOOLS = [{ name: 'get_user' }, { name: 'delete_service' }, { name: 'list_users' }, { name: 'delete_user' }, { name: 'echo' }];
    const s = await server();
    const p = await proxy(s, ['--deny-tools', 'delete_*']);
    const listed = await listAll(p, 'tools/list', 'tools');
    expect(listed.names).toEqual(['get_user', 'list_users', 'echo']);
    expect(listed.pages).toBe(3);

    const refused = await request(p, 'tools/call', { name: 'delete_service', arguments: {} });
    expect(refused.error.code).toBe(-32602);
    expect(refused.error.message).toMatch(/^mcp-signing-proxy: tool "delete_service" is not allowed by --deny-tools \(fix: remove it from --deny-tools \/ MCP_DENY_TOOLS/);
    expect(refused.error.data.code).toBe('ESP_POLICY_DENIED');
    expect((await request(p, 'tools/call', { name: 'echo', arguments: {} })).result.content[0].text).toBe('ran echo');
    expect(upstreamCalls(s, 'delete_service')).toBe(0);
    expect(upstreamCalls(s, 'echo')).toBe(1);
  });

  it('an allow list with globs admits only what matches; deny wins over allow; from the environment too', async () => {
    TOOLS = [{ name: 'get_user' }, { name: 'get_secret' }, { name: 'list_users' }, { name: 'put_user' }];
    const s = await server();
    const p = await proxy(s, [], { MCP_ALLOW_TOOLS: 'get_*,list_*', MCP_DENY_TOOLS: 'get_secret' });
    expect((await listAll(p, 'tools/list', 'tools')).names).toEqual(['get_user', 'list_users']);
    const put = await request(p, 'tools/call', { name: 'put_user', arguments: {} });
    expect(put.error.message).toMatch(/^mcp-signing-proxy: tool "put_user" is not allowed by --allow-tools/);
    const secret = await request(p, 'tools/call', { name: 'get_secret', arguments: {} });
    expect(secret.error.message).toMatch(/is not allowed by --deny-tools/);
    expect(upstreamCalls(s, 'put_user') + upstreamCalls(s, 'get_secret')).toBe(0);
  });

  it('after list_changed the re-listed tools are filtered the same way', async () => {
    TOOLS = [{ name: 'rotate' }, { name: 'echo' }];
    const s = await server();
    const p = await proxy(s, ['--deny-tools', 'delete_*']);
    await request(p, 'tools/call', { name: 'rotate', arguments: {} });
    await p.waitFor((m) => m.method === 'notifications/tools/list_changed');
    expect((await listAll(p, 'tools/list', 'tools')).names).toEqual(['rotate', 'echo']);
    expect(TOOLS.map((t) => t.name)).toContain('delete_everything');
    expect((await request(p, 'tools/call', { name: 'delete_everything', arguments: {} })).error.code).toBe(-32602);
    expect(upstreamCalls(s, 'delete_everything')).toBe(0);
  });

  it('2026-07-28: without initialize, the result pages are filtered and calls refused alike', async () => {
    TOOLS = [{ name: 'delete_service' }, { name: 'echo' }, { name: 'delete_user' }];
    const s = await server();
    const p = await proxy(s, ['--deny-tools', 'delete_*'], {}, false);
    const _meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
    const first = await request(p, 'tools/list', { _meta });
    expect(first.result).toEqual({ tools: [{ name: 'echo' }], nextCursor: '2', resultType: 'complete' });
    const second = await request(p, 'tools/list', { _meta, cursor: '2' });
    expect(second.result).toEqual({ tools: [], resultType: 'complete' });
    expect((await request(p, 'tools/call', { _meta, name: 'delete_user', arguments: {} })).error.message).toMatch(/--deny-tools/);
    expect(upstreamCalls(s, 'delete_user')).toBe(0);
  });

  it('the SDK client sees the filtered list and an McpError -32602 for a hidden tool', async () => {
    const inputSchema = { type: 'object' };
    TOOLS = [{ name: 'echo', inputSchema }, { name: 'delete_service', inputSchema }];
    const s = await server();
    const c = await connectClient({ MCP_ENDPOINT: s.url }, ['--deny-tools', 'delete_service']);
    cleanups.push(() => c.close());
    expect((await c.client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    const err = await c.client.callTool({ name: 'delete_service', arguments: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32602);
    expect((err as McpError).message).toContain('tool "delete_service" is not allowed by --deny-tools');
    expect(upstreamCalls(s, 'delete_service')).toBe(0);
  });
});

describe('--read-only', () => {
  it('only readOnlyHint tools exist, plus --allow-tools (the union); calls to the rest never reach the server', async () => {
    TOOLS = [
      { name: 'get_user', annotations: ro },
      { name: 'put_user', annotations: { readOnlyHint: false } },
      { name: 'restart', annotations: { destructiveHint: false } },
      { name: 'list_users', annotations: ro },
      { name: 'audit_export' },
    ];
    const s = await server();
    const p = await proxy(s, ['--read-only', '--allow-tools', 'audit_*']);
    expect((await listAll(p, 'tools/list', 'tools')).names).toEqual(['get_user', 'list_users', 'audit_export']);
    const put = await request(p, 'tools/call', { name: 'put_user', arguments: {} });
    expect(put.error.message).toMatch(/^mcp-signing-proxy: tool "put_user" is not allowed by --read-only and --allow-tools: the server does not annotate it readOnlyHint: true/);
    expect((await request(p, 'tools/call', { name: 'get_user', arguments: {} })).result).toBeDefined();
    expect((await request(p, 'tools/call', { name: 'audit_export', arguments: {} })).result).toBeDefined();
    expect(upstreamCalls(s, 'put_user') + upstreamCalls(s, 'restart')).toBe(0);
  });

  it('MCP_READ_ONLY=1 refuses a tool the proxy has not seen listed read-only', async () => {
    TOOLS = [{ name: 'get_user', annotations: ro }];
    const s = await server();
    const p = await proxy(s, [], { MCP_READ_ONLY: '1' });
    const early = await request(p, 'tools/call', { name: 'get_user', arguments: {} });
    expect(early.error.message).toMatch(/is not allowed by --read-only: the server has not listed it with readOnlyHint: true/);
    await listAll(p, 'tools/list', 'tools');
    expect((await request(p, 'tools/call', { name: 'get_user', arguments: {} })).result).toBeDefined();
    expect(upstreamCalls(s, 'get_user')).toBe(1);
  });
});

describe('prompts and resources', () => {
  it('--deny-prompts and --allow-resources filter lists and refuse prompts/get, resources/read and resources/subscribe', async () => {
    const s = await server();
    const p = await proxy(s, ['--deny-prompts', 'drop_*', '--allow-resources', 'docs://*']);
    expect((await listAll(p, 'prompts/list', 'prompts')).names).toEqual(['summary']);
    expect((await listAll(p, 'resources/list', 'resources')).names).toEqual(['docs://readme']);
    expect((await listAll(p, 'resources/templates/list', 'resourceTemplates')).names).toEqual(['docs://{path}']);
    const get = await request(p, 'prompts/get', { name: 'drop_tables' });
    expect(get.error).toMatchObject({ code: -32602, message: expect.stringMatching(/^mcp-signing-proxy: prompt "drop_tables" is not allowed by --deny-prompts/) });
    const read = await request(p, 'resources/read', { uri: 'secret://db/password' });
    expect(read.error.message).toMatch(/^mcp-signing-proxy: resource "secret:\/\/db\/password" is not allowed by --allow-resources/);
    expect((await request(p, 'resources/subscribe', { uri: 'secret://db/password' })).error.code).toBe(-32602);
    expect((await request(p, 'resources/read', { uri: 'docs://readme' })).result).toBeDefined();
    expect((await request(p, 'prompts/get', { name: 'summary' })).result).toBeDefined();
    const upstream = s.hits.map((h) => h.msg?.params?.name ?? h.msg?.params?.uri);
    expect(upstream).not.toContain('drop_tables');
    expect(upstream).not.toContain('secret://db/password');
  });
});

describe('start-up refusals', () => {
  it.each([
    [['--deny-tools', 'get_?'], {}, '--deny-tools has an invalid entry "get_?": ? is not a wildcard (only * is)'],
    [['--allow-tools', ''], {}, '--allow-tools is empty'],
    [[], { MCP_ALLOW_RESOURCES: 'docs://*,' }, 'MCP_ALLOW_RESOURCES has an invalid entry "": it is empty'],
  ])('%j %j stops start-up naming the setting', async (args, env, text) => {
    const p = spawnRaw({ MCP_ENDPOINT: 'http://127.0.0.1:9/mcp', ...env }, args as string[]);
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0);
    expect(answer.error.message).toContain(`mcp-signing-proxy: ${text} (fix: `);
    expect(answer.error.data.code).toBe('ESP_CONFIG');
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain(`mcp-signing-proxy: ${text}\n  fix: `);
  });
});
