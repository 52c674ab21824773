/**
 * A 2025-era host (SDK v1 Client, elicitation + sampling + roots) through the spawned proxy
 * to the SDK v2 server (MCP 2026-07-28): `--protocol bridge` gives it what a 2026-07-28 host
 * gets (input-required rounds, list-changed, logging), `passthrough` shows what stateless
 * 2025 serving loses, `auto` bridges a server that refuses 2025 clients
 * (README "Protocols", "Bridging 2025 hosts").
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { result, startFakeMcp } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { startSdkV2Server, type SdkV2Server, type SdkV2ServerOptions } from '../helpers/sdk-v2-server.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { BIN, connectClient, hermeticEnv, spawnRaw, INIT } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const TOKEN = 'bridge-token-0001';
const REGION = 'eu-west-1';
const SERVICE = 'execute-api';
const KEY = 'AKIDBRIDGE0000000001';
const SECRET = 'CANARYSECRETbridge0001';

interface Host {
  client: Client;
  elicitations: string[];
  samplings: number;
  listChanged: () => number;
  logs: Array<{ level: string; data: unknown }>;
  stderr(): string;
}

async function server(opts: SdkV2ServerOptions = {}): Promise<SdkV2Server> {
  const s = await startSdkV2Server({ bridgeTools: true, bearer: opts.sigv4 ? undefined : TOKEN, ...opts });
  cleanups.push(() => s.close());
  return s;
}

/** The host: an SDK v1 client over stdio with elicitation, sampling and roots, as hosts declare them. */
async function host(env: Record<string, string>, args: string[] = [], elicit?: (signal: AbortSignal) => Promise<never>): Promise<Host> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, ...args], env: hermeticEnv({ MCP_LOG_LEVEL: 'debug', ...env }), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'test-host', version: '1.0.0' }, { capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true } } });
  const h: Host = { client, elicitations: [], samplings: 0, listChanged: () => changed, logs: [], stderr: () => err };
  let changed = 0;
  client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
    h.elicitations.push(req.params.message);
    if (elicit !== undefined) return elicit(extra.signal);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    h.samplings++;
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'old pond' } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed++);
  client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void h.logs.push({ level: n.params.level, data: n.params.data }));
  try {
    await client.connect(transport);
  } catch (e) {
    (e as Error).message += `\nproxy stderr:\n${err.slice(-4000)}`;
    throw e;
  }
  cleanups.push(() => client.close());
  return h;
}

const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]?.text;

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Everything a 2026-07-28 host gets, through the bridge. */
async function fullSession(s: SdkV2Server, h: Host): Promise<void> {
  const { client } = h;
  expect(client.getServerVersion()).toMatchObject({ name: 'v2-test', version: '1.0.0' });
  expect(client.getServerCapabilities()?.tools).toMatchObject({ listChanged: true });
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['greet', 'haiku', 'count', 'slow', 'add-tool']));

  // An input-required elicitation round, answered by the host's own handler.
  const greet = await client.callTool({ name: 'greet', arguments: {} });
  expect(greet.isError).toBeFalsy();
  expect(text(greet)).toBe('hello Ada (state asked-once)');
  expect(h.elicitations).toEqual(['Who are you?']);
  const calls = s.bodies.filter((b) => b.method === 'tools/call' && b.params.name === 'greet');
  expect(calls).toHaveLength(2);
  expect(calls[1].id).not.toBe(calls[0].id);
  expect(calls[1].params.inputResponses).toEqual({ who: { action: 'accept', content: { name: 'Ada' } } });
  expect(calls[1].params.requestState).toBe('asked-once');

  // A sampling round.
  expect(text(await client.callTool({ name: 'haiku', arguments: {} }))).toBe('the model said: old pond');
  expect(h.samplings).toBe(1);

  // Progress, under the host's token.
  const progress: number[] = [];
  const counted = await client.callTool({ name: 'count', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
  expect(text(counted)).toBe('counted');
  expect(progress).toEqual([1, 2, 3]);

  // Logging: the host's level travels in each request's _meta.
  await client.setLoggingLevel('error');
  expect(text(await client.callTool({ name: 'chatty', arguments: {} }))).toBe('logged');
  expect(h.logs).toEqual([{ level: 'error', data: 'an error line' }]);
  expect(s.bodies.find((b) => b.params?.name === 'chatty').params._meta['io.modelcontextprotocol/logLevel']).toBe('error');

  // List changes arrive through the listen stream.
  await until(() => s.bodies.some((b) => b.method === 'subscriptions/listen'), 'the listen request');
  expect(text(await client.callTool({ name: 'add-tool', arguments: {} }))).toBe('added');
  await until(() => h.listChanged() > 0, 'notifications/tools/list_changed');
  expect((await client.listTools()).tools.map((t) => t.name)).toContain('extra');

  // Cancellation closes the upstream stream; the server's handler sees it.
  const abort = new AbortController();
  const slow = client.callTool({ name: 'slow', arguments: {} }, undefined, { signal: abort.signal });
  await until(() => s.bodies.some((b) => b.params?.name === 'slow'), 'the slow call upstream');
  abort.abort();
  await expect(slow).rejects.toThrow();
  await until(() => s.cancelled.includes('slow'), 'the server to see the cancellation');

  await client.ping();

  // No handshake upstream; every request carries the revision's _meta with the host's identity.
  expect(s.bodies.some((b) => b.method === 'initialize')).toBe(false);
  for (const b of s.bodies.filter((x) => x.id !== undefined)) {
    expect(b.params._meta).toMatchObject({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'test-host', version: '1.0.0' } });
    expect(b.params._meta['io.modelcontextprotocol/clientCapabilities']).toMatchObject({ elicitation: {}, sampling: {} });
  }
  for (const r of s.requests) expect(r['mcp-protocol-version']).toBe('2026-07-28');
}

describe('--protocol bridge: SDK v1 host → proxy → SDK v2 server', () => {
  it('gives the 2025 host input-required rounds, progress, list changes, logging, cancellation and ping (bearer)', async () => {
    const s = await server();
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN }, ['--protocol', 'bridge']);
    await fullSession(s, h);
    for (const r of s.requests) expect(r.authorization).toBe(`Bearer ${TOKEN}`);
    expect(h.stderr()).not.toContain(TOKEN);
  });

  it('the same with SigV4: every request, retries and the listen stream included, is signed', async () => {
    const s = await server({ sigv4: { service: SERVICE, region: REGION, credentials: (akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined) } });
    const h = await host({ MCP_ENDPOINT: s.url, MCP_SIGV4_SERVICE: SERVICE, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, MCP_PROTOCOL: 'bridge' });
    await fullSession(s, h);
    expect(s.sigv4.length).toBe(s.requests.length);
    expect(s.sigv4.filter((r) => !r.result.ok)).toEqual([]);
  });

  it('stops a server that keeps asking for input after 10 rounds, with a clear error', async () => {
    const s = await server();
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    await expect(h.client.callTool({ name: 'endless', arguments: {} })).rejects.toThrow(/mcp-signing-proxy: the server asked for client input 10 times on tools\/call/);
    expect(h.elicitations).toHaveLength(10);
    expect(s.bodies.filter((b) => b.params?.name === 'endless')).toHaveLength(11);
  });

  it('answers a host without the capability an input request needs with -32021, asking it nothing', async () => {
    // A server that asks regardless (the SDK v2 server itself refuses with -32021).
    const fake = await startFakeMcp({
      onRequest: (msg, res) => {
        const value = msg.method === 'server/discover' ? { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } } : { resultType: 'input_required', inputRequests: { who: { method: 'elicitation/create', params: { mode: 'form', message: 'Who?', requestedSchema: { type: 'object', properties: {} } } } } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, value)));
      },
    });
    cleanups.push(() => fake.close());
    const p = spawnRaw({ MCP_ENDPOINT: fake.url, MCP_BEARER_TOKEN: TOKEN }, ['--protocol', 'bridge']);
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    const init = await p.waitFor((m) => m.id === 0);
    expect(init.result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'fake' } });
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'greet', arguments: {} } });
    const answer = await p.waitFor((m) => m.id === 1);
    expect(answer.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { elicitation: {} } } });
    expect(answer.error.message).toMatch(/^mcp-signing-proxy: the server needs elicitation\/create from the client to finish tools\/call/);
    expect(p.lines.some((l) => JSON.parse(l).method === 'elicitation/create')).toBe(false);
    expect(fake.hits.filter((h) => h.msg?.method === 'tools/call')).toHaveLength(1);
  });

  it('answers initialize with the host’s own version when it is a 2025-era one, and refuses a 2025-era server clearly', async () => {
    const s = await server();
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send({ ...INIT, params: { ...INIT.params, protocolVersion: '2025-06-18' } });
    expect((await p.waitFor((m) => m.id === 0)).result.protocolVersion).toBe('2025-06-18');

    // A 2025-11-25 server answers server/discover before initialize with 400.
    const fake = await startFakeMcp({ onRequest: (msg, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Server not initialized' } })) });
    cleanups.push(() => fake.close());
    const legacy = spawnRaw({ MCP_ENDPOINT: fake.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    cleanups.push(() => void legacy.child.kill('SIGKILL'));
    legacy.send(INIT);
    const refused = await legacy.waitFor((m) => m.id === 0);
    expect(refused.error.message).toMatch(/^mcp-signing-proxy: --protocol bridge: the server did not answer server\/discover as a 2026-07-28 server/);
    expect(refused.error.message).toMatch(/use --protocol auto/);
    expect(fake.hits.some((h) => h.msg?.method === 'initialize')).toBe(false);
  });
});

describe('--protocol bridge: cancellation and subscriptions', () => {
  it('a host cancelling during an input round cancels the proxy’s request to it, and nothing is retried', async () => {
    const s = await server();
    let cancelledAtHost = false;
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' }, [], (signal) =>
      new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => ((cancelledAtHost = true), reject(new Error('cancelled'))), { once: true })),
    );
    const abort = new AbortController();
    const greet = h.client.callTool({ name: 'greet', arguments: {} }, undefined, { signal: abort.signal });
    await until(() => h.elicitations.length === 1, 'the elicitation at the host');
    abort.abort();
    await expect(greet).rejects.toThrow();
    await until(() => cancelledAtHost, 'notifications/cancelled for the elicitation');
    // The host can go on; the cancelled call was never retried upstream.
    expect(text(await h.client.callTool({ name: 'deploy', arguments: { region: 'eu' } }))).toBe('deployed to eu');
    expect(s.bodies.filter((b) => b.params?.name === 'greet')).toHaveLength(1);
  });

  it('resources/subscribe re-issues the listen with the URI, and its updates reach the host without the subscription id', async () => {
    const s = await server();
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const uri = 'file:///home/ada/notes.txt';
    p.send({ jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri } });
    expect(await p.waitFor((m) => m.id === 1)).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    await until(() => s.bodies.some((b) => b.method === 'subscriptions/listen' && b.params.notifications.resourceSubscriptions?.includes(uri)), 'the listen with the URI');
    p.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect(await p.waitFor((m) => m.id === 2)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    // The server registers the stream a moment after the POST arrives: publish until it is there.
    const updated = p.waitFor((m) => m.method === 'notifications/resources/updated');
    const publish = setInterval(() => s.notify.resourceUpdated(uri), 100);
    cleanups.push(() => clearInterval(publish));
    expect((await updated).params).toEqual({ uri });
    clearInterval(publish);
    expect(p.lines.some((l) => l.includes('subscriptions/acknowledged') || l.includes('subscriptionId'))).toBe(false);
    expect(s.bodies.some((b) => b.method === 'ping' || b.method === 'resources/subscribe')).toBe(false);
  });
});

describe('--protocol bridge: what reaches the host', () => {
  it('a dropped listen stream is sent again once, by the transport alone, and list changes still arrive; shutdown does not wait for it', async () => {
    const s = await server();
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge', MCP_LOG_LEVEL: 'debug' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const listens = () => s.bodies.filter((b) => b.method === 'subscriptions/listen');
    await until(() => s.openListens() === 1, 'the listen stream');
    s.dropListens();
    await until(() => listens().length === 2 && s.openListens() === 1, 'the listen sent again');
    // The same request, bytes and id: the transport re-issued it, the bridge did not make a new one.
    expect(listens()[1]).toEqual(listens()[0]);
    // The server registers the stream a moment after its POST arrives: touch until the change arrives.
    const changed = p.waitFor((m) => m.method === 'notifications/tools/list_changed');
    let n = 10;
    const touch = setInterval(() => p.send({ jsonrpc: '2.0', id: n++, method: 'tools/call', params: { name: 'touch', arguments: {} } }), 200);
    cleanups.push(() => clearInterval(touch));
    expect(await changed).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: {} });
    clearInterval(touch);
    await new Promise((r) => setTimeout(r, 1500));
    expect(listens()).toHaveLength(2);
    // Nothing of the proxy's own listen reaches stdout.
    expect(p.lines.filter((l) => l.includes('mcp-signing-proxy-listen-') || l.includes('subscriptions/'))).toEqual([]);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });

  it('a tools/call with progress and tools/list give the host exactly what it gets from the server directly (no 2026-07-28-only fields)', async () => {
    const s = await server();
    const direct = new Client({ name: 'test-host', version: '1.0.0' }, { capabilities: {} });
    await direct.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    cleanups.push(() => direct.close());
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN }, ['--protocol', 'bridge']);
    const run = async (client: Client) => {
      const progress: unknown[] = [];
      const counted = await client.callTool({ name: 'count', arguments: {} }, undefined, { onprogress: (p) => void progress.push(p) });
      return { counted, progress, tools: await client.listTools() };
    };
    const straight = await run(direct);
    const bridged = await run(h.client);
    expect(bridged).toEqual(straight);
    expect(straight.progress).toHaveLength(3);
    expect(JSON.stringify(bridged)).not.toMatch(/resultType|serverInfo|ttlMs|cacheScope/);
  });

  it('a tool whose output is not an object is listed and called by a 2025 host, its output wrapped as { result }', async () => {
    const fake = await startFakeMcp({
      onRequest: (msg, res) => {
        const values: Record<string, unknown> = {
          'server/discover': { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' }, resultType: 'complete' },
          'tools/list': { tools: [{ name: 'names', inputSchema: { type: 'object' }, outputSchema: { type: 'array', items: { type: 'string' } } }], resultType: 'complete', ttlMs: 0, cacheScope: 'private' },
          'tools/call': { content: [{ type: 'text', text: '["ada","alan"]' }], structuredContent: ['ada', 'alan'], resultType: 'complete' },
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, values[msg.method as string] ?? {})));
      },
    });
    cleanups.push(() => fake.close());
    const h = await host({ MCP_ENDPOINT: fake.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    const [tool] = (await h.client.listTools()).tools;
    expect(tool?.outputSchema).toEqual({ type: 'object', properties: { result: { type: 'array', items: { type: 'string' } } }, required: ['result'] });
    const called = await h.client.callTool({ name: 'names', arguments: {} });
    expect(called.structuredContent).toEqual({ result: ['ada', 'alan'] });
    expect(called).not.toHaveProperty('resultType');
  });

  it('a 2026-07-28 error code the host cannot know comes with an explanation, its code and data kept', async () => {
    const fake = await startFakeMcp({
      onRequest: (msg, res) => {
        if (msg.method === 'server/discover') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg.id, { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } })));
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2027-01-01'] } } }));
      },
    });
    cleanups.push(() => fake.close());
    const p = spawnRaw({ MCP_ENDPOINT: fake.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', arguments: {} } });
    for (const id of [1, 2]) {
      const answer = await p.waitFor((m) => m.id === id);
      expect(answer.error).toMatchObject({ code: -32022, data: { supported: ['2027-01-01'] } });
      expect(answer.error.message).toMatch(/^mcp-signing-proxy: the server answered with the MCP 2026-07-28 error UnsupportedProtocolVersion \(-32022\): Unsupported protocol version \(fix: the server no longer speaks 2026-07-28/);
    }
    expect(p.lines.filter((l) => JSON.parse(l).id === 1)).toHaveLength(1);
  });
});

describe('a server that serves 2025 clients statelessly (the SDK v2 default)', () => {
  it('passthrough: the server\'s own stateless 2025 serving, with what it lacks', async () => {
    const s = await server();
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN }, ['--protocol', 'passthrough']);
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('greet');
    expect(text(await h.client.callTool({ name: 'deploy', arguments: { region: 'eu' } }))).toBe('deployed to eu');
    // Stateless serving cannot send the host a request: the round fails in-band.
    const greet = await h.client.callTool({ name: 'greet', arguments: {} });
    expect(greet.isError).toBe(true);
    expect(h.elicitations).toEqual([]);
    expect(s.bodies.some((b) => b.method === 'initialize')).toBe(true);
    expect(s.bodies.some((b) => b.method === 'server/discover' || b.method === 'subscriptions/listen')).toBe(false);
  });

  it('auto (the default): the initialize gets no session, so the host is bridged and loses nothing', async () => {
    const s = await server();
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    expect(s.bodies.slice(0, 2).map((b) => b.method)).toEqual(['initialize', 'server/discover']);
    expect(text(await h.client.callTool({ name: 'greet', arguments: {} }))).toBe('hello Ada (state asked-once)');
    expect(h.stderr()).toMatch(/"why":"the server serves 2025-era clients without a session"/);
    await until(() => s.bodies.some((b) => b.method === 'subscriptions/listen'), 'the listen request');
  });
});

describe('--protocol auto with a 2025-era server', () => {
  it('relays a sessionful server unchanged, without a discovery probe', async () => {
    const s = await startMcpServer({ bearerToken: TOKEN });
    cleanups.push(() => s.close());
    const c = await connectClient({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    cleanups.push(() => c.close());
    expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    const methods = s.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body).method);
    expect(methods.slice(0, 3)).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
    expect(methods).not.toContain('server/discover');
  });
});

describe('--protocol auto with a server that refuses 2025 clients', () => {
  it('bridges after the refused initialize (bearer)', async () => {
    const s = await server({ legacy: 'reject' });
    const h = await host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    expect(s.bodies[0].method).toBe('initialize');
    expect(text(await h.client.callTool({ name: 'greet', arguments: {} }))).toBe('hello Ada (state asked-once)');
    expect(h.stderr()).toMatch(/refuses 2025-era clients/);
  });

  it('passthrough gives the host the refusal unchanged', async () => {
    const s = await server({ legacy: 'reject' });
    await expect(host({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'passthrough' })).rejects.toThrow(/Unsupported protocol version/);
  });
});

describe('a 2026-era host is never bridged', () => {
  it('relays its requests unchanged under --protocol bridge', async () => {
    const s = await server();
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_PROTOCOL: 'bridge' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '2' }, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };
    p.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } });
    expect((await p.waitFor((m) => m.id === 1)).result.supportedVersions).toContain('2026-07-28');
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'greet', arguments: {}, _meta: meta } });
    const greet = await p.waitFor((m) => m.id === 2);
    // The input_required result is the host's to handle: nothing was asked on its behalf.
    expect(greet.result.resultType).toBe('input_required');
    expect(s.bodies.map((b) => b.params?._meta?.['io.modelcontextprotocol/clientInfo']?.name)).toEqual(['modern', 'modern']);
  });
});
