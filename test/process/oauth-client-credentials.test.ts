/**
 * OAuth client credentials through the built CLI against a loopback authorization server
 * and an MCP server that validates the tokens (test/helpers/oauth-server.ts).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { protectResource, startAuthorizationServer, type AuthorizationServerOptions, type ProtectOptions, type TestAuthorizationServer } from '../helpers/oauth-server.js';
import { INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const SECRET = 'cs-Very5ecretClientValue';

async function setup(asOpts: Partial<AuthorizationServerOptions> = {}, protect: ProtectOptions = {}): Promise<{ as: TestAuthorizationServer; mcp: McpTestServer }> {
  const as = await startAuthorizationServer({ clients: [{ id: 'svc-1', secret: SECRET }], ...asOpts });
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ wrap: protectResource(as, protect), jsonResponse: true });
  cleanups.push(() => mcp.close());
  return { as, mcp };
}

function proxy(env: Record<string, string>, args: string[] = []): RawProxy {
  const p = spawnRaw({ MCP_LOG_LEVEL: 'debug', ...env }, args);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

async function echo(p: RawProxy, id: number): Promise<any> {
  p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${id}` } } });
  return p.waitFor((m) => m.id === id);
}

function keyFile(type: 'rsa' | 'ec'): { file: string; publicKey: import('node:crypto').KeyObject } {
  const { privateKey, publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(mkdtempSync(join(tmpdir(), 'msp-oauth-')), 'key.pem');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { file, publicKey };
}

describe('OAuth client credentials through the spawned proxy', () => {
  it('discovers the token endpoint from the 401 (RFC 9728 → RFC 8414), uses client_secret_basic, caches the token, keeps static headers and secrets away', async () => {
    const { as, mcp } = await setup();
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET }, ['-H', 'X-Static: static-Canary-123456']);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result?.serverInfo?.name).toBe('test-remote');
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (let id = 1; id <= 3; id++) expect((await echo(p, id)).result?.content?.[0]?.text).toBe(`t${id}`);
    expect(as.requests).toHaveLength(1);
    const [tokenRequest] = as.requests;
    expect(tokenRequest?.method).toBe('client_secret_basic');
    expect(tokenRequest?.form).toMatchObject({ grant_type: 'client_credentials', resource: mcp.url });
    expect(tokenRequest?.headers['x-static']).toBeUndefined();
    expect(as.metadataRequests).toContain('/.well-known/oauth-authorization-server');
    const [token] = [...as.tokens.keys()];
    const out = p.lines.join('\n') + p.stderr();
    for (const secret of [SECRET, token as string, 'static-Canary-123456']) expect(out).not.toContain(secret);
    expect(p.stderr()).toContain('OAuth access token obtained');
  });

  it('client_secret_post when the metadata offers only that', async () => {
    const { as, mcp } = await setup({ authMethods: ['client_secret_post'] });
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET });
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
    expect(as.requests.map((r) => r.method)).toEqual(['client_secret_post']);
  });

  it.each([
    ['rsa', true],
    ['ec', true],
    ['ec', false],
  ] as const)('private_key_jwt (%s key, token URL given: %s) with --oauth-key-id and --oauth-scope', async (type, withTokenUrl) => {
    const key = keyFile(type);
    const { as, mcp } = await setup({ clients: [{ id: 'svc-jwt', publicKey: key.publicKey }] }, { requiredScope: 'mcp:read' });
    const tokenUrl = withTokenUrl ? ['--oauth-token-url', `${as.issuer}/token`] : [];
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-jwt' }, ['--oauth-private-key-file', key.file, '--oauth-key-id', 'k1', ...tokenUrl, '--oauth-scope', 'mcp:read']);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
    expect(as.requests.map((r) => r.method)).toEqual(['private_key_jwt']);
    expect(as.requests[0]?.form.scope).toBe('mcp:read');
    const [h, c] = (as.requests[0]?.form.client_assertion ?? '..').split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(h).toMatchObject({ alg: type === 'rsa' ? 'RS256' : 'ES256', kid: 'k1' });
    // The issuer once its metadata is known; the token endpoint when that is all there is.
    expect(c).toMatchObject({ iss: 'svc-jwt', sub: 'svc-jwt', aud: withTokenUrl ? `${as.issuer}/token` : as.issuer });
    if (withTokenUrl) {
      // With a token URL the first request already carries a token: no discovery, no 401.
      expect(as.metadataRequests).toEqual([]);
      expect(mcp.requests[0]?.headers.authorization).toMatch(/^Bearer at-/);
    }
  });

  it('a 401 invalid_token gets one new token and the request is retried', async () => {
    const { as, mcp } = await setup();
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    as.revokeAll();
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    expect(as.requests).toHaveLength(2);
  });

  it.each([
    ['invalid_client', { clients: [{ id: 'svc-1', secret: 'another' }] }, [], /invalid_client[\s\S]*MCP_OAUTH_CLIENT_SECRET/],
    ['invalid_scope', {}, ['--oauth-scope', 'admin'], /invalid_scope[\s\S]*--oauth-scope/],
    ['unauthorized_client', { clients: [{ id: 'svc-1', secret: SECRET, noGrant: true }] }, [], /unauthorized_client[\s\S]*client credentials grant/],
  ] as const)('token endpoint error %s: its own message and fix, the body never quoted', async (_name, asOpts, args, pattern) => {
    const { mcp } = await setup(asOpts as Partial<AuthorizationServerOptions>);
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET }, [...args]);
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0);
    expect(answer.error?.message).toMatch(pattern);
    // The test server echoes the posted secret in error_description: it must go nowhere.
    expect(p.lines.join('\n') + p.stderr()).not.toContain('client authentication failed');
    expect(p.lines.join('\n') + p.stderr()).not.toContain(SECRET);
  });

  it('insufficient_scope names the scope the server wants', async () => {
    const { mcp } = await setup({ clients: [{ id: 'svc-1', secret: SECRET, scopes: ['mcp:read', 'mcp:admin'] }] }, { requiredScope: 'mcp:admin' });
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET }, ['--oauth-scope', 'mcp:read']);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).error?.message).toMatch(/insufficient_scope.*mcp:admin[\s\S]*--oauth-scope/);
  });

  it('discovery without resource_metadata in the challenge uses the well-known location', async () => {
    const { as, mcp } = await setup({}, { noResourceMetadata: true });
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET });
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
    expect(as.requests).toHaveLength(1);
  });

  it('concurrent requests share one token request, at the start and after a rejection', async () => {
    const { as, mcp } = await setup();
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    as.revokeAll();
    const answers = await Promise.all([1, 2, 3, 4, 5].map((id) => echo(p, id)));
    expect(answers.map((a) => a.result?.content?.[0]?.text)).toEqual(['t1', 't2', 't3', 't4', 't5']);
    expect(as.requests).toHaveLength(2);
  });

  it('a token past its expires_in is replaced before it is sent, not after a 401', async () => {
    const { as, mcp } = await setup({ expiresIn: 1 });
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await new Promise((r) => setTimeout(r, 1500));
    const before = mcp.requests.length;
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    // At least one refresh (the memoizer may also refresh in the background ahead of expiry).
    expect(as.requests.length).toBeGreaterThanOrEqual(2);
    // One request for the call: no rejected attempt in front of it.
    expect(mcp.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('the audit log names the client, its issuer and the token by a hash prefix, never the token', async () => {
    const { as, mcp } = await setup();
    const audit = join(mkdtempSync(join(tmpdir(), 'msp-oauth-audit-')), 'audit.jsonl');
    const p = proxy({ MCP_ENDPOINT: mcp.url, MCP_OAUTH_CLIENT_ID: 'svc-1', MCP_OAUTH_CLIENT_SECRET: SECRET, MCP_AUDIT_LOG: audit });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    p.child.stdin.end();
    await p.exited;
    const [token] = [...as.tokens.keys()];
    const text = readFileSync(audit, 'utf8');
    const line = JSON.parse(text.trim().split('\n')[0] as string);
    expect(line.identity).toEqual({ oauthClientId: 'svc-1', oauthIssuer: as.issuer, oauthToken: `sha256:${createHash('sha256').update(token as string).digest('hex').slice(0, 12)}` });
    expect(text).not.toContain(token as string);
    expect(text).not.toContain(SECRET);
  });
});
