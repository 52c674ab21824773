/**
 * Both MCP eras through the spawned proxy (README, "Protocols" → "Compatibility"): each SDK
 * client × each SDK server × each signer lists the tools, echoes, and calls a tool with
 * progress, and gets what the same client gets talking to the same server directly. A
 * combination that cannot work (a client pinned to 2026-07-28 and a server that only speaks
 * 2025) is expected to fail through the proxy exactly as it fails direct.
 *
 * Each combination runs with `--protocol passthrough` (the proxy relays what each side says)
 * and `--protocol auto`, and the SDK v1 client with the v2 server also with `bridge`
 * (README, "Bridging 2025 hosts"): `auto` bridges that pair, because the v2 server serves a
 * 2025 client without a session. A bridged run must match direct too (the bridge shapes
 * results as 2025 ones), and deliver what the stateless direct connection cannot: an
 * elicitation round answered by the client's handler and tools/list_changed. The v2 client's
 * listen (subscriptions/listen) and its input-required round (an elicitation) give the same
 * through the proxy as direct.
 *
 * Direct runs use the bearer server: the SDK clients cannot sign SigV4 themselves, and the
 * two servers of a kind serve the same tools.
 * Add a row to CLIENTS, SERVERS, SIGNERS or PROTOCOLS (or a case to EXPECTED_FAILURES) to extend it.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEARER, signerEnv, startEraServer, type EraServer, type ServerKind, type SignerKind } from '../helpers/era-servers.js';
import { BIN, hermeticEnv } from '../helpers/spawn-proxy.js';

type Route = { kind: 'direct'; url: string } | { kind: 'proxy'; env: Record<string, string> };

/** What a client saw; compared field by field between direct and proxied runs. */
type Outcome = { ok: true; era: string | undefined; tools: string[]; echo: unknown; progressResult: unknown; progress: number[] } | { ok: false; error: string };

interface ClientRow {
  name: string;
  /** The revision the client settles on with each server (v1's Client does not report one). */
  era: Partial<Record<ServerKind, string>>;
  run(route: Route): Promise<Outcome>;
}

const INFO = { name: 'era-matrix', version: '1.0.0' };
const V1_CLIENT = 'SDK v1 Client';
const authHeaders = { headers: { authorization: `Bearer ${BEARER}` } };
const stdioParams = (env: Record<string, string>) => ({ command: process.execPath, args: [BIN], env: hermeticEnv(env), stderr: 'pipe' as const });

type CallOptions = { onprogress: (p: { progress: number }) => void; timeout: number };

/** The same workload for every client: list, echo a non-ASCII text, a call with progress. */
async function workload(
  list: () => Promise<{ tools: Array<{ name: string }> }>,
  call: (name: string, args: Record<string, unknown>, options?: CallOptions) => Promise<unknown>,
): Promise<Omit<Extract<Outcome, { ok: true }>, 'ok' | 'era'>> {
  const tools = (await list()).tools.map((t) => t.name).sort();
  const echo = await call('echo', { text: 'grüße' });
  const progress: number[] = [];
  const progressResult = await call('progress', { steps: 3 }, { onprogress: (p) => void progress.push(p.progress), timeout: 10_000 });
  return { tools, echo, progressResult, progress };
}

async function settle(fn: () => Promise<Outcome>, close: () => Promise<void>): Promise<Outcome> {
  try {
    return await fn();
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  } finally {
    await close().catch(() => undefined);
  }
}

function v2Client(name: string, mode: 'auto' | { pin: string }, era: ClientRow['era']): ClientRow {
  return {
    name,
    era,
    async run(route) {
      const client = new ClientV2(INFO, { capabilities: {}, versionNegotiation: { mode } });
      const transport = route.kind === 'direct' ? new HttpV2(new URL(route.url), { requestInit: authHeaders }) : new StdioV2(stdioParams(route.env));
      return settle(
        async () => {
          await client.connect(transport);
          const work = await workload(
            () => client.listTools(),
            (name, args, options) => client.callTool({ name, arguments: args }, options),
          );
          return { ok: true, era: client.getNegotiatedProtocolVersion(), ...work };
        },
        () => client.close(),
      );
    },
  };
}

const CLIENTS: ClientRow[] = [
  {
    name: V1_CLIENT,
    era: {},
    async run(route) {
      const client = new ClientV1(INFO, { capabilities: {} });
      const transport = route.kind === 'direct' ? new HttpV1(new URL(route.url), { requestInit: authHeaders }) : new StdioV1(stdioParams(route.env));
      return settle(
        async () => {
          await client.connect(transport);
          // v1's callTool takes a result schema before the options.
          const work = await workload(
            () => client.listTools(),
            (name, args, options) => client.callTool({ name, arguments: args }, undefined, options),
          );
          return { ok: true, era: undefined, ...work };
        },
        () => client.close(),
      );
    },
  },
  v2Client('SDK v2 Client (auto)', 'auto', { v1: '2025-11-25', v2: '2026-07-28' }),
  v2Client('SDK v2 Client (pinned 2026-07-28)', { pin: '2026-07-28' }, { v2: '2026-07-28' }),
];

const SERVERS: ServerKind[] = ['v1', 'v2'];
const SIGNERS: SignerKind[] = ['bearer', 'sigv4'];
type Protocol = 'auto' | 'passthrough' | 'bridge';
/** `bridge` only where there is a 2025 host and a 2026-07-28 server to bridge. */
const protocolsFor = (client: string, server: ServerKind): Protocol[] => (client === V1_CLIENT && server === 'v2' ? ['passthrough', 'auto', 'bridge'] : ['passthrough', 'auto']);

/** What a tool result shows a host: its content. */
const contentOf = (result: unknown) => (result as { content?: unknown }).content;

/** Combinations that cannot work, and what the failure says (direct and through the proxy alike). */
const EXPECTED_FAILURES: Array<{ client: string; server: ServerKind; error: RegExp }> = [
  // A 2025-only server has no server/discover; pin mode has no fallback to initialize.
  { client: 'SDK v2 Client (pinned 2026-07-28)', server: 'v1', error: /did not offer pinned protocol version 2026-07-28/ },
];

const servers = new Map<string, EraServer>();
const direct = new Map<string, Outcome>();

beforeAll(async () => {
  for (const kind of SERVERS) for (const signer of SIGNERS) servers.set(`${kind}/${signer}`, await startEraServer(kind, signer));
  await Promise.all(CLIENTS.flatMap((c) => SERVERS.map(async (kind) => direct.set(`${c.name}/${kind}`, await c.run({ kind: 'direct', url: servers.get(`${kind}/bearer`)!.url })))));
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
});

describe.each(CLIENTS.flatMap((client) => SERVERS.flatMap((server) => SIGNERS.flatMap((signer) => protocolsFor(client.name, server).map((protocol) => ({ client, server, signer, protocol }))))))(
  '$client.name → proxy --protocol $protocol → SDK $server server, $signer',
  ({ client, server, signer, protocol }) => {
    const expected = EXPECTED_FAILURES.find((f) => f.client === client.name && f.server === server);

    it(expected ? 'fails as it fails direct' : 'gives the same results as direct', async () => {
      const viaProxy = await client.run({ kind: 'proxy', env: { MCP_ENDPOINT: servers.get(`${server}/${signer}`)!.url, MCP_PROTOCOL: protocol, ...signerEnv(signer) } });
      const straight = direct.get(`${client.name}/${server}`)!;
      if (expected) {
        expect(straight).toMatchObject({ ok: false, error: expect.stringMatching(expected.error) });
        expect(viaProxy).toMatchObject({ ok: false, error: expect.stringMatching(expected.error) });
        return;
      }
      expect(straight.ok, JSON.stringify(straight)).toBe(true);
      // Bridged or not, the host gets what it gets direct: the bridge shapes 2026-07-28
      // results as 2025 ones (README, "Bridging 2025 hosts").
      expect(viaProxy).toEqual(straight);
      expect(viaProxy).toMatchObject({ era: client.era[server], tools: expect.arrayContaining(['echo', 'progress']), progress: [1, 2, 3] });
    }, 30_000);
  },
);

/** An SDK v1 host with an elicitation handler, counting tools/list_changed. */
async function v1Host(route: Route): Promise<{ greet: unknown; changed: boolean; elicited: string[] }> {
  const client = new ClientV1(INFO, { capabilities: { elicitation: {} } });
  const elicited: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    elicited.push(req.params.message);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  let onChange: () => void = () => undefined;
  const changed = new Promise<void>((r) => (onChange = r));
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => onChange());
  const transport = route.kind === 'direct' ? new HttpV1(new URL(route.url), { requestInit: authHeaders }) : new StdioV1(stdioParams(route.env));
  try {
    await client.connect(transport);
    const greet = await client.callTool({ name: 'greet', arguments: {} }).then(contentOf, (e: Error) => ({ error: e.message }));
    if (route.kind === 'direct') return { greet, changed: false, elicited };
    await client.callTool({ name: 'touch', arguments: {} });
    await changed;
    return { greet, changed: true, elicited };
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe.each(['auto', 'bridge'] as const)('SDK v1 Client → proxy --protocol %s → SDK v2 server: what the bridge adds', (protocol) => {
  it('an elicitation round answered by the host and tools/list_changed, which direct stateless serving cannot give', async () => {
    const direct = await v1Host({ kind: 'direct', url: servers.get('v2/bearer')!.url });
    // Direct, the stateless 2025 serving cannot send the elicitation: the call fails or comes back as an error.
    expect(direct.elicited).toEqual([]);
    expect(direct.greet).not.toEqual([{ type: 'text', text: 'hello Ada' }]);
    const viaProxy = await v1Host({ kind: 'proxy', env: { MCP_ENDPOINT: servers.get('v2/bearer')!.url, MCP_PROTOCOL: protocol, ...signerEnv('bearer') } });
    expect(viaProxy).toEqual({ greet: [{ type: 'text', text: 'hello Ada' }], changed: true, elicited: ['Who are you?'] });
  }, 30_000);
});

/** subscriptions/listen for tools/list_changed, then the tool that changes the list. */
async function v2Listen(mode: 'auto' | { pin: string }, route: Route): Promise<{ honored: unknown; changes: number }> {
  const client = new ClientV2(INFO, { capabilities: {}, versionNegotiation: { mode } });
  let changes = 0;
  let onChange: () => void = () => undefined;
  const changed = new Promise<void>((r) => (onChange = r));
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    changes++;
    onChange();
  });
  const transport = route.kind === 'direct' ? new HttpV2(new URL(route.url), { requestInit: authHeaders }) : new StdioV2(stdioParams(route.env));
  try {
    await client.connect(transport);
    const sub = await client.listen({ toolsListChanged: true });
    await client.callTool({ name: 'touch', arguments: {} });
    await changed;
    await sub.close();
    return { honored: sub.honoredFilter, changes };
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe.each(SIGNERS.flatMap((signer) => (['auto', 'passthrough'] as const).flatMap((protocol) => [{ name: 'auto', mode: 'auto' as const }, { name: 'pinned 2026-07-28', mode: { pin: '2026-07-28' } }].map((c) => ({ c, signer, protocol })))))(
  'SDK v2 Client ($c.name) listen → proxy --protocol $protocol → SDK v2 server, $signer',
  ({ c, signer, protocol }) => {
    it('gets tools/list_changed as it does direct', async () => {
      const straight = await v2Listen(c.mode, { kind: 'direct', url: servers.get('v2/bearer')!.url });
      const viaProxy = await v2Listen(c.mode, { kind: 'proxy', env: { MCP_ENDPOINT: servers.get(`v2/${signer}`)!.url, MCP_PROTOCOL: protocol, ...signerEnv(signer) } });
      expect(viaProxy).toEqual(straight);
      expect(viaProxy).toEqual({ honored: { toolsListChanged: true }, changes: 1 });
    }, 30_000);
  },
);

/** An input-required round (2026-07-28): the SDK v2 client answers the server's elicitation and retries. */
async function v2InputRound(mode: 'auto' | { pin: string }, route: Route): Promise<{ greet: unknown; elicited: string[] }> {
  const client = new ClientV2(INFO, { capabilities: { elicitation: {} }, versionNegotiation: { mode } });
  const elicited: string[] = [];
  client.setRequestHandler('elicitation/create', async (req) => {
    elicited.push(String((req.params as { message?: unknown }).message));
    return { action: 'accept', content: { name: 'Ada' } };
  });
  const transport = route.kind === 'direct' ? new HttpV2(new URL(route.url), { requestInit: authHeaders }) : new StdioV2(stdioParams(route.env));
  try {
    await client.connect(transport);
    const greet = await client.callTool({ name: 'greet', arguments: {} }).then(contentOf, (e: Error) => ({ error: e.message }));
    return { greet, elicited };
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe.each(SIGNERS.flatMap((signer) => [{ name: 'auto', mode: 'auto' as const }, { name: 'pinned 2026-07-28', mode: { pin: '2026-07-28' } }].map((c) => ({ c, signer }))))(
  'SDK v2 Client ($c.name) input-required round → proxy → SDK v2 server, $signer',
  ({ c, signer }) => {
    it('answers the elicitation and gets the final result as it does direct', async () => {
      const straight = await v2InputRound(c.mode, { kind: 'direct', url: servers.get('v2/bearer')!.url });
      const viaProxy = await v2InputRound(c.mode, { kind: 'proxy', env: { MCP_ENDPOINT: servers.get(`v2/${signer}`)!.url, ...signerEnv(signer) } });
      expect(viaProxy).toEqual(straight);
      expect(viaProxy).toEqual({ greet: [{ type: 'text', text: 'hello Ada' }], elicited: ['Who are you?'] });
    }, 30_000);
  },
);
