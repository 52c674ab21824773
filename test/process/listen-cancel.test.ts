/**
 * subscriptions/listen and cancellation of 2026-07-28 requests through the spawned proxy,
 * SDK v2 client → proxy → SDK v2 server (MCP 2026-07-28, "Subscriptions" and "Cancellation",
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/subscriptions).
 */
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startSdkV2Server, type SdkV2Server } from '../helpers/sdk-v2-server.js';
import { BIN, hermeticEnv } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

async function v2Client(server: SdkV2Server, env: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN], env: hermeticEnv({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: 'tok', MCP_LOG_LEVEL: 'debug', ...env }), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'v2-host', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, stderr: () => err };
}

function listChanged(client: Client): { count: () => number; next: () => Promise<void> } {
  let count = 0;
  let waiters: (() => void)[] = [];
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    count++;
    for (const w of waiters) w();
    waiters = [];
  });
  return { count: () => count, next: () => new Promise<void>((r) => waiters.push(r)) };
}

/** Listens, calls the tool that changes the tool list, and reports what the client saw. */
async function touchWhileListening(client: Client): Promise<{ honored: unknown; changes: number }> {
  const changes = listChanged(client);
  const sub = await client.listen({ toolsListChanged: true });
  const changed = changes.next();
  expect((await client.callTool({ name: 'touch', arguments: {} })).content).toEqual([{ type: 'text', text: 'touched' }]);
  await changed;
  await sub.close();
  return { honored: sub.honoredFilter, changes: changes.count() };
}

const until = async (cond: () => boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('subscriptions/listen through the proxy', () => {
  it('relays the acknowledgement and list_changed as they arrive, as a direct connection does', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client } = await v2Client(server);
    expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    const viaProxy = await touchWhileListening(client);

    const direct = new Client({ name: 'v2-host', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await direct.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    cleanups.push(() => direct.close());
    expect(viaProxy).toEqual(await touchWhileListening(direct));
    expect(viaProxy).toEqual({ honored: { toolsListChanged: true }, changes: 1 });
  });

  it('opens a listen while calls hold every call slot (--max-connections 3)', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client } = await v2Client(server, { MCP_MAX_CONNECTIONS: '3' });
    const ctl = new AbortController();
    const call = client.callTool({ name: 'wait', arguments: {} }, { signal: ctl.signal }).catch(() => undefined);
    await server.waiting(1);
    const sub = await client.listen({ toolsListChanged: true }, { timeout: 8000 });
    expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true });
    ctl.abort();
    await call;
    await sub.close();
  });

  it('holds a listen open without taking a call slot: calls still run at --max-connections 3', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client } = await v2Client(server, { MCP_MAX_CONNECTIONS: '3' });
    const sub = await client.listen({ toolsListChanged: true });
    const results = await Promise.all([1, 2, 3].map(() => client.callTool({ name: 'deploy', arguments: { region: 'eu-west-1' } }, { timeout: 8000 })));
    expect(results.map((r) => r.content)).toEqual(Array(3).fill([{ type: 'text', text: 'deployed to eu-west-1' }]));
    expect(server.openListens()).toBe(1);
    await sub.close();
  });

  it('sends the same listen again when the server drops its stream, and notifications keep coming', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client, stderr } = await v2Client(server);
    const changes = listChanged(client);
    const sub = await client.listen({ toolsListChanged: true });
    let ended = false;
    void sub.closed.then(() => (ended = true));
    const listens = () => server.requests.filter((h) => h['mcp-method'] === 'subscriptions/listen').length;
    expect(listens()).toBe(1);
    server.dropListens();
    await until(() => listens() === 2 && server.openListens() === 1, 'the listen sent again');
    expect(stderr()).toMatch(/sending the request again/);
    expect(ended).toBe(false);
    const changed = changes.next();
    await client.callTool({ name: 'touch', arguments: {} });
    await changed;
    await sub.close();
  });

  it('closing the subscription closes its stream upstream, with no notification POSTed', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client } = await v2Client(server);
    const sub = await client.listen({ toolsListChanged: true });
    expect(server.openListens()).toBe(1);
    await sub.close();
    await until(() => server.openListens() === 0, 'the listen stream closed');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests.filter((h) => h['mcp-method'] === 'notifications/cancelled')).toEqual([]);
  });
});

describe('cancelling a 2026-07-28 request', () => {
  it('closes the POST stream of a cancelled tool call: the server sees the abort, no notification is POSTed', async () => {
    const server = await startSdkV2Server();
    cleanups.push(() => server.close());
    const { client } = await v2Client(server);
    const ctl = new AbortController();
    const call = client.callTool({ name: 'wait', arguments: {} }, { signal: ctl.signal });
    await server.waiting(1);
    ctl.abort('user cancelled');
    await expect(call).rejects.toThrow();
    await until(() => server.aborted() === 1, 'the server to see the abort');
    expect(server.requests.filter((h) => h['mcp-method'] === 'notifications/cancelled')).toEqual([]);
  });
});
