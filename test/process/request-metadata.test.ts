/**
 * A 2026-07-28 client through the spawned proxy (no initialize): the headers each POST
 * carries (MCP 2026-07-28 Streamable HTTP, "Request Metadata",
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http).
 */
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { result, startFakeMcp } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startSdkV2Server } from '../helpers/sdk-v2-server.js';
import { spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const META = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' } } };
const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

const TOOLS = [
  { name: 'deploy', inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, replicas: { type: 'integer', 'x-mcp-header': 'Replicas' } } } },
  { name: 'broken', inputSchema: { type: 'object', properties: { list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Item' } } } } },
];

describe('2026-07-28 request metadata through the proxy', () => {
  it('sends each POST with its own protocol version, Mcp-Method, encoded Mcp-Name and Mcp-Param-*, without an initialize', async () => {
    const server = await startFakeMcp({
      onRequest: (msg, res) => {
        const value = msg.method === 'tools/list' ? { tools: TOOLS } : msg.method === 'server/discover' ? { supportedVersions: ['2026-07-28'], capabilities: {}, serverInfo: { name: 's', version: '1' } } : {};
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, value)));
      },
    });
    cleanups.push(() => server.close());
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'tok' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    const call = async (id: number, method: string, params: Record<string, unknown> = {}) => {
      p.send({ jsonrpc: '2.0', id, method, params: { ...params, ...META } });
      const answer = await p.waitFor((m) => m.id === id);
      return { answer, headers: server.hits.find((h) => h.msg?.id === id)!.headers };
    };

    const discover = await call(1, 'server/discover');
    expect(discover.answer.result.supportedVersions).toEqual(['2026-07-28']);
    expect(discover.headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' });

    const list = await call(2, 'tools/list');
    expect(list.answer.result.tools.map((t: { name: string }) => t.name)).toEqual(['deploy']);
    expect(p.stderr()).toMatch(/broken/);

    const deploy = await call(3, 'tools/call', { name: 'deploy', arguments: { region: 'eu-wést-1', replicas: 3 } });
    expect(deploy.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'deploy', 'mcp-param-region': b64('eu-wést-1'), 'mcp-param-replicas': '3', 'mcp-protocol-version': '2026-07-28' });

    const read = await call(4, 'resources/read', { uri: 'file:///home/josé/notes.txt' });
    expect(read.headers['mcp-name']).toBe(b64('file:///home/josé/notes.txt'));
    expect(server.hits.some((h) => h.msg?.method === 'initialize')).toBe(false);
  });
});

describe('2026-07-28 client → proxy → SDK v2 server', () => {
  it('reads a resource with a non-ASCII URI and calls a tool with an x-mcp-header argument', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'tok' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    const meta = { _meta: { [PROTOCOL_VERSION_META_KEY]: '2026-07-28', [CLIENT_INFO_META_KEY]: { name: 't', version: '1' }, [CLIENT_CAPABILITIES_META_KEY]: {} } };
    const call = (id: number, method: string, params: Record<string, unknown> = {}) => {
      p.send({ jsonrpc: '2.0', id, method, params: { ...params, ...meta } });
      return p.waitFor((m) => m.id === id);
    };
    expect((await call(1, 'server/discover')).result.supportedVersions).toContain('2026-07-28');
    expect((await call(2, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['deploy', 'touch', 'wait']);
    const read = await call(3, 'resources/read', { uri: 'file:///home/josé/notes.txt' });
    expect(read.error).toBeUndefined();
    expect(read.result.contents[0].text).toMatch(/^notes of jos/);
    const deploy = await call(4, 'tools/call', { name: 'deploy', arguments: { region: 'eu-wést-1' } });
    expect(deploy.error).toBeUndefined();
    expect(deploy.result.content).toEqual([{ type: 'text', text: 'deployed to eu-wést-1' }]);
  });
});

describe('HeaderMismatch (-32020) on tools/call', () => {
  async function scenario(annotateOnRelist: boolean) {
    let listed = 0;
    const server = await startFakeMcp({
      onRequest: (msg, res, req) => {
        const reply = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (msg.method === 'tools/list') {
          const annotated = listed++ > 0 && annotateOnRelist;
          const region = annotated ? { type: 'string', 'x-mcp-header': 'Region' } : { type: 'string' };
          return reply(200, result(msg.id, { tools: [{ name: 'deploy', inputSchema: { type: 'object', properties: { region } } }] }));
        }
        if (msg.method === 'tools/call' && req.headers['mcp-param-region'] !== msg.params.arguments.region) {
          return reply(400, { jsonrpc: '2.0', id: msg.id, error: { code: -32020, message: 'Mcp-Param-Region header is absent' } });
        }
        return reply(200, result(msg.id, { content: [{ type: 'text', text: 'ok' }] }));
      },
    });
    cleanups.push(() => server.close());
    const p = spawnRaw({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'tok' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { ...META } });
    await p.waitFor((m) => m.id === 1);
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'deploy', arguments: { region: 'eu' }, ...META } });
    const answer = await p.waitFor((m) => m.id === 2);
    return { server, p, answer };
  }

  it('lists the tools again privately, with the call’s _meta, and retries once with the new headers', async () => {
    const { server, p, answer } = await scenario(true);
    expect(answer.result.content).toEqual([{ type: 'text', text: 'ok' }]);
    const relist = server.hits.find((h) => h.msg?.method === 'tools/list' && String(h.msg.id).startsWith('mcp-signing-proxy-relist-'))!;
    expect(relist.msg.params._meta).toEqual(META._meta);
    expect(relist.headers['mcp-protocol-version']).toBe('2026-07-28');
    expect(server.hits.filter((h) => h.msg?.method === 'tools/call')).toHaveLength(2);
    // Nothing of the private listing reached the client.
    expect(p.lines.map((l) => JSON.parse(l).id)).toEqual([1, 2]);
  });

  it('answers the mismatch unchanged when the listing brings nothing new, without a second retry', async () => {
    const { server, p, answer } = await scenario(false);
    expect(answer.error.code).toBe(-32020);
    expect(server.hits.filter((h) => h.msg?.method === 'tools/call')).toHaveLength(1);
    expect(p.lines.map((l) => JSON.parse(l).id)).toEqual([1, 2]);
  });
});
