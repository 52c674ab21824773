/**
 * SigV4 end to end: the spawned proxy signs for a real SDK MCP server behind the
 * independent SigV4 verifier, with every credential source a user has, and assumes roles
 * through a fake STS speaking the AWS Query protocol.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startFakeSts, type FakeSts } from '../helpers/fake-sts.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import type { VerifierCredential } from '../helpers/sigv4-verifier.js';
import { connectClient, spawnRaw, type ConnectedClient } from '../helpers/spawn-proxy.js';

const REGION = 'eu-west-1';
const SERVICE = 'execute-api';
const KEY = 'AKIDSTATIC0000000001';
const SECRET = 'CANARYSECRETstatic0001';
const TOKEN = 'CANARYSESSIONTOKEN0002';
const SOURCE_KEY = 'AKIDSOURCE0000000003';
const SOURCE_SECRET = 'CANARYSECRETsource0003';
const ROLE = 'arn:aws:iam::123456789012:role/mcp-e2e-role';

const cleanups = useCleanups();

async function signedServer(lookup: (akid: string) => VerifierCredential | undefined, path?: string): Promise<{ server: McpTestServer; records: VerificationRecord[] }> {
  let records: VerificationRecord[] = [];
  const server = await startMcpServer({
    ...(path === undefined ? {} : { path }),
    wrap: (inner) => {
      const v = createSigV4VerifyingHandler({ service: SERVICE, region: REGION, credentials: lookup }, inner);
      records = v.records;
      return v.handler as never;
    },
  });
  cleanups.push(() => server.close());
  return { server, get records() { return records; } } as { server: McpTestServer; records: VerificationRecord[] };
}

async function client(env: Record<string, string>): Promise<ConnectedClient> {
  const c = await connectClient({ MCP_SIGV4_SERVICE: SERVICE, AWS_REGION: REGION, MCP_LOG_LEVEL: 'debug', ...env });
  cleanups.push(() => c.close());
  return c;
}

async function workload(c: ConnectedClient): Promise<void> {
  const tools = await c.client.listTools();
  expect(tools.tools.length).toBeGreaterThan(3);
  const r = await c.client.callTool({ name: 'echo', arguments: { text: 'ünïcödé café 🚀 — signed' } });
  expect(r.content).toEqual([{ type: 'text', text: 'ünïcödé café 🚀 — signed' }]);
  const a = await c.client.callTool({ name: 'ask', arguments: {} });
  expect(a.isError).toBeFalsy();
}

function expectAllVerified(records: VerificationRecord[], akid: string): void {
  expect(records.length).toBeGreaterThan(3);
  for (const r of records) {
    expect(r.result, `${r.method} ${r.rawPath}`).toMatchObject({ ok: true, accessKeyId: akid });
  }
}

function expectNoCanary(text: string): void {
  expect(text).not.toMatch(/CANARY[A-Z]*[a-z]*\d*/);
}

describe('SigV4 through the spawned proxy', () => {
  it('static env keys, on a non-default port, every request verified (POST, GET stream, DELETE)', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const c = await client({ MCP_ENDPOINT: s.server.url, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET });
    await workload(c);
    await c.close();
    expectAllVerified(s.records, KEY);
    expect(new Set(s.records.map((r) => r.method))).toEqual(new Set(['POST', 'GET', 'DELETE']));
    const signed = (s.records[1]!.result as { signedHeaders: string[] }).signedHeaders;
    expect(signed).toEqual(expect.arrayContaining(['host', 'content-type', 'accept', 'mcp-method', 'mcp-protocol-version', 'mcp-session-id', 'x-amz-content-sha256', 'x-amz-date']));
    expect(signed).not.toContain('content-length');
    expect(signed).not.toContain('accept-encoding'); // sent (the proxy decodes compressed bodies), never signed
    expectNoCanary(c.stderr());
  });

  it('a session token, and a static header signed next to SigV4', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET, sessionToken: TOKEN } : undefined));
    const c = await client({ MCP_ENDPOINT: s.server.url, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN, MCP_HEADERS: 'X-Tenant: acme' });
    await workload(c);
    expectAllVerified(s.records, KEY);
    expect((s.records[0]!.result as { signedHeaders: string[] }).signedHeaders).toEqual(expect.arrayContaining(['x-amz-security-token', 'x-tenant']));
    expect(s.server.requests.every((r) => r.headers['x-tenant'] === 'acme')).toBe(true);
    expectNoCanary(c.stderr());
  });

  it('a profile from a temp AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msp-aws-'));
    writeFileSync(join(dir, 'config'), `[profile team]\nregion = ${REGION}\n`);
    writeFileSync(join(dir, 'credentials'), `[team]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`);
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const c = await client({ MCP_ENDPOINT: s.server.url, AWS_PROFILE: 'team', AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') });
    await workload(c);
    expectAllVerified(s.records, KEY);
  });

  it('an AgentCore-style encoded runtime ARN path with ?qualifier=DEFAULT', async () => {
    const path = '/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aeu-west-1%3A123456789012%3Aruntime%2Fmy_agent-abc123/invocations';
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined), path);
    const c = await client({ MCP_ENDPOINT: `${s.server.url}?qualifier=DEFAULT`, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET });
    await workload(c);
    expectAllVerified(s.records, KEY);
    expect(s.records.every((r) => r.rawPath === `${path}?qualifier=DEFAULT`)).toBe(true);
  });

  it('a wrong secret gives one clear error naming the signature mismatch, with nothing echoed', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const err = await client({ MCP_ENDPOINT: s.server.url, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: 'CANARYWRONGsecret99' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeDefined();
    const clientPart = err!.message.split('\nproxy stderr')[0]!;
    expect(clientPart).toMatch(/mcp-signing-proxy: .*signature/i);
    expect(clientPart).not.toContain('Canonical');
    expectNoCanary(err!.message);
  });
});

describe('assume role through a fake STS', () => {
  async function setup(lifetimeSeconds = 3600): Promise<{ sts: FakeSts; s: { server: McpTestServer; records: VerificationRecord[] } }> {
    const sts = await startFakeSts({ credentials: { [SOURCE_KEY]: { secretAccessKey: SOURCE_SECRET } }, region: REGION, lifetimeSeconds, secretPrefix: 'CANARYASSUMED' });
    cleanups.push(() => sts.close());
    const s = await signedServer((akid) => {
      const issued = sts.issued.find((i) => i.accessKeyId === akid);
      if (issued === undefined) return undefined;
      return { secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken, expired: issued.expiration.getTime() <= Date.now() };
    });
    return { sts, s };
  }
  const roleEnv = (sts: FakeSts, url: string, extra: Record<string, string> = {}) => ({
    MCP_ENDPOINT: url,
    AWS_ACCESS_KEY_ID: SOURCE_KEY,
    AWS_SECRET_ACCESS_KEY: SOURCE_SECRET,
    ASSUME_ROLE_ARN: ROLE,
    AWS_ENDPOINT_URL_STS: sts.url,
    ...extra,
  });

  it('the server sees the assumed key; one AssumeRole with the stable session name and external id', async () => {
    const { sts, s } = await setup();
    const c = await client(roleEnv(sts, s.server.url, { ASSUME_ROLE_EXTERNAL_ID: 'ext-123', ASSUME_ROLE_SESSION_NAME: 'e2e-session' }));
    await workload(c);
    await c.close();
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]!.params).toMatchObject({ Action: 'AssumeRole', RoleArn: ROLE, RoleSessionName: 'e2e-session', ExternalId: 'ext-123', DurationSeconds: '3600' });
    expect(sts.calls[0]!.signedBy).toBe(SOURCE_KEY);
    expectAllVerified(s.records, sts.issued[0]!.accessKeyId);
    expectNoCanary(c.stderr());
  });

  it('the AssumeRole starts at start-up, before the client has sent anything, and serves the first request', async () => {
    const { sts, s } = await setup();
    const p = spawnRaw({ MCP_SIGV4_SERVICE: SERVICE, AWS_REGION: REGION, ...roleEnv(sts, s.server.url) });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    // Event-driven: the only thing that can end this wait is the proxy's own STS call.
    for (const deadline = Date.now() + 20_000; sts.calls.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    expect(sts.calls).toHaveLength(1);
    expect(s.server.requests).toHaveLength(0);
    p.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    const answer = await p.waitFor((m) => m.id === 1, 20_000);
    expect(answer.result).toBeDefined();
    expect(sts.calls).toHaveLength(1);
    expect(s.records.length).toBeGreaterThan(0);
    for (const r of s.records) expect(r.result).toMatchObject({ ok: true, accessKeyId: sts.issued[0]!.accessKeyId });
  });

  it('short-lived role credentials are refreshed ahead of expiry without a failed request', async () => {
    const { sts, s } = await setup(4);
    const c = await client(roleEnv(sts, s.server.url));
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 9000) {
      const r = await c.client.callTool({ name: 'echo', arguments: { text: `n${calls}` } });
      expect(r.content).toEqual([{ type: 'text', text: `n${calls}` }]);
      calls++;
      await new Promise((res) => setTimeout(res, 150));
    }
    expect(s.records.filter((r) => !r.result.ok)).toHaveLength(0);
    const keys = new Set(s.records.map((r) => (r.result.ok ? r.result.accessKeyId : '')));
    // ~9 s of 4 s credentials refreshed at half-life: several generations, far fewer than calls.
    expect(keys.size).toBeGreaterThanOrEqual(3);
    expect(sts.calls.length).toBeLessThan(calls / 3);
  }, 30_000);

  it('AccessDenied on AssumeRole names the trust policy and the role', async () => {
    const { sts, s } = await setup();
    sts.failNext('AccessDenied', { times: 10, message: 'CANARYSTSMESSAGE not authorized' });
    const err = await client(roleEnv(sts, s.server.url)).then(() => undefined, (e: Error) => e);
    const clientPart = err!.message.split('\nproxy stderr')[0]!;
    expect(clientPart).toContain('trust policy');
    expect(clientPart).toContain('sts:AssumeRole');
    expect(clientPart).toContain(ROLE);
    expectNoCanary(err!.message);
  });

  it('expired source credentials say to refresh them', async () => {
    const { sts, s } = await setup();
    sts.expireSource(SOURCE_KEY);
    const err = await client(roleEnv(sts, s.server.url)).then(() => undefined, (e: Error) => e);
    const clientPart = err!.message.split('\nproxy stderr')[0]!;
    expect(clientPart).toMatch(/source credentials.*expired/);
    expect(s.records).toHaveLength(0);
  });
});

describe('credential problems through the spawned proxy', () => {
  it('an expired SSO session says: run aws sso login --profile <profile>', async () => {
    const home = mkdtempSync(join(tmpdir(), 'msp-sso-'));
    const config = join(home, 'config');
    writeFileSync(config, `[profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\nregion = ${REGION}\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = ${REGION}\nsso_registration_scopes = sso:account:access\n`);
    const cache = join(home, '.aws', 'sso', 'cache');
    mkdirSync(cache, { recursive: true });
    const expired = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    writeFileSync(join(cache, `${createHash('sha1').update('corp').digest('hex')}.json`), JSON.stringify({ accessToken: 'CANARYSSOTOKEN', expiresAt: expired, region: REGION, startUrl: 'https://corp.awsapps.com/start' }));
    const s = await signedServer(() => undefined);
    const err = await client({ MCP_ENDPOINT: s.server.url, HOME: home, AWS_CONFIG_FILE: config, AWS_PROFILE: 'sso-dev' }).then(() => undefined, (e: Error) => e);
    expect(err!.message.split('\nproxy stderr')[0]).toContain('run: aws sso login --profile sso-dev');
    expect(err!.message.split('\nproxy stderr')[1]).toContain('aws sso login --profile sso-dev');
    expectNoCanary(err!.message);
  });

  it('no credentials at all lists the sources tried', async () => {
    const s = await signedServer(() => undefined);
    const err = await client({ MCP_ENDPOINT: s.server.url }).then(() => undefined, (e: Error) => e);
    const clientPart = err!.message.split('\nproxy stderr')[0]!;
    expect(clientPart).toMatch(/AWS_ACCESS_KEY_ID/);
    expect(clientPart).toMatch(/SSO/);
  });
});
