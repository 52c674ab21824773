/**
 * `--check`, the doctor (README "Diagnosing: --check"): the built CLI against loopback
 * peers — a bearer MCP server, a SigV4 verifier with a fake STS answering
 * GetCallerIdentity, an mTLS server, an OAuth authorization server — one stage per line,
 * the fix on failure, --json for scripts, and no secret in any line.
 */
import { createServer } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startFakeSts } from '../helpers/fake-sts.js';
import { startMcpServer, type McpServerOptions, type McpTestServer } from '../helpers/mcp-server.js';
import { protectResource, startAuthorizationServer } from '../helpers/oauth-server.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { closedPort } from '../helpers/scripted-server.js';
import { createSigV4VerifyingHandler } from '../helpers/sigv4-server.js';
import { spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';

const TOKEN = 'CANARYCHECKTOKEN77';
const REGION = 'eu-west-1';
const SOURCE_KEY = 'AKIDCHECKSOURCE00001';
const SOURCE_SECRET = 'CANARYCHECKSECRETKEY01';
const SESSION_TOKEN = 'CANARYCHECKSESSIONTOKEN02';
const CLIENT_SECRET = 'CANARYCHECKCLIENTSECRET03';
const MARKER_ACCOUNT = '444455556666';
const MARKER_ARN = 'arn:aws:iam::444455556666:user/doctor-marker';
const ROLE = 'arn:aws:iam::444455556666:role/doctor-role';

const cleanups = useCleanups();
let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.cleanup());

async function server(opts: McpServerOptions = {}): Promise<McpTestServer> {
  const s = await startMcpServer(opts);
  cleanups.push(() => s.close());
  return s;
}

async function check(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string; err: string; p: RawProxy }> {
  const p = spawnRaw(env, ['--check', ...args]);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  const exit = await p.exited;
  return { code: exit.code, out: p.lines.join('\n'), err: p.stderr(), p };
}

/** The line of one stage, e.g. "✓ dns: …". */
function stage(out: string, id: string): string {
  return out.split('\n').find((l) => new RegExp(`^[✓✗!–] ${id}: `).test(l)) ?? `(no ${id} line in:\n${out})`;
}

async function sigv4Setup(): Promise<{ url: string; sts: Awaited<ReturnType<typeof startFakeSts>> }> {
  const sts = await startFakeSts({
    credentials: { [SOURCE_KEY]: { secretAccessKey: SOURCE_SECRET, sessionToken: SESSION_TOKEN } },
    region: REGION,
    secretPrefix: 'CANARYCHECKASSUMED',
    identities: { [SOURCE_KEY]: { account: MARKER_ACCOUNT, arn: MARKER_ARN } },
  });
  cleanups.push(() => sts.close());
  const lookup = (akid: string) => (akid === SOURCE_KEY ? { secretAccessKey: SOURCE_SECRET, sessionToken: SESSION_TOKEN } : sts.issued.find((c) => c.accessKeyId === akid));
  const s = await server({ wrap: (inner) => createSigV4VerifyingHandler({ service: 'execute-api', region: REGION, credentials: lookup }, inner).handler as never });
  return { url: s.url, sts };
}

const sigv4Env = (url: string, stsUrl: string) => ({
  MCP_ENDPOINT: url,
  MCP_SIGV4_SERVICE: 'execute-api',
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: SOURCE_KEY,
  AWS_SECRET_ACCESS_KEY: SOURCE_SECRET,
  AWS_SESSION_TOKEN: SESSION_TOKEN,
  AWS_ENDPOINT_URL_STS: stsUrl,
});

const requireClientCert = (): ServerOptions => ({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true });

async function oauthSetup(): Promise<string> {
  const as = await startAuthorizationServer({ clients: [{ id: 'svc-doctor', secret: CLIENT_SECRET, scopes: ['mcp:read', 'mcp:write'] }], expiresIn: 600 });
  cleanups.push(() => as.close());
  const s = await server({ wrap: protectResource(as), jsonResponse: true });
  return s.url;
}

describe('--check: one line per stage', () => {
  it('bearer: every stage ✓, the server and its tools, the session closed, exit 0', async () => {
    const s = await server({ bearerToken: TOKEN });
    const { code, out, err } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    expect(code, out + err).toBe(0);
    expect(out).toContain('check: http://127.0.0.1');
    expect(stage(out, 'configuration')).toMatch(/^✓ configuration: signer bearer, transport auto, 2 settings given/);
    expect(out).toMatch(/^ {4}bearer-token: \*+ {2}\(env MCP_BEARER_TOKEN\)$/m);
    expect(stage(out, 'credentials')).toBe('✓ credentials: bearer token from env MCP_BEARER_TOKEN (opaque, not a JWT: no expiry to show)');
    expect(stage(out, 'dns')).toBe('✓ dns: 127.0.0.1 is an IP address');
    expect(stage(out, 'proxy')).toBe('✓ proxy: direct (no HTTPS_PROXY / HTTP_PROXY set)');
    expect(stage(out, 'tcp')).toMatch(/^✓ tcp: connected to 127\.0\.0\.1:\d+ \(plain http, no TLS\)$/);
    // A 2025-11-25 server does not know server/discover: the check falls back to initialize.
    expect(stage(out, 'mcp')).toBe('✓ mcp: test-remote 1.0.0, protocol 2025-11-25 (initialize), transport streamable-http; 9 tools');
    expect(out).toMatch(/^ {4}tools: echo, /m);
    expect(out.split('\n').at(-1)).toBe('✓ verdict: a host with these settings connects');
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(out + err).not.toContain(TOKEN);
  });

  it('applies the tool policy, as the host would see it', async () => {
    const s = await server({ bearerToken: TOKEN });
    const { code, out } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_ALLOW_TOOLS: 'echo' });
    expect(code).toBe(0);
    expect(stage(out, 'mcp')).toMatch(/; 1 tool$/);
    expect(out).toMatch(/^ {4}tools: echo$/m);
  });

  it('a bearer JWT: its issuer, audience and expiry, decoded, never printed', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'none' })}.${b64({ iss: 'https://issuer.example', aud: 'mcp-api', exp: Math.floor(Date.now() / 1000) + 7200, sub: 'CANARYJWTSUBJECT' })}.sig`;
    const s = await server({ bearerToken: jwt });
    const { code, out, err } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: jwt });
    expect(code, out).toBe(0);
    expect(stage(out, 'credentials')).toMatch(/^✓ credentials: bearer token from env MCP_BEARER_TOKEN, a JWT, expires \S+ \(in 2\.0 h\)$/);
    expect(out).toMatch(/^ {4}issuer: https:\/\/issuer\.example$/m);
    expect(out).toMatch(/^ {4}audience: mcp-api$/m);
    expect(out + err).not.toContain(jwt);
  });

  it('a 2026-07-28 server: server/discover first, then the initialize of a 2025 host, bridged', async () => {
    const { startSdkV2Server } = await import('../helpers/sdk-v2-server.js');
    const s = await startSdkV2Server();
    cleanups.push(() => s.close());
    const { code, out } = await check({ MCP_ENDPOINT: s.url });
    expect(code, out).toBe(0);
    expect(stage(out, 'mcp')).toBe('✓ mcp: v2-test 1.0.0, protocol 2026-07-28 (server/discover), transport streamable-http; 3 tools; a 2025 host is bridged');
    expect(stage(out, 'credentials')).toMatch(/^! credentials: none configured/);
    // The check's own session speaks 2026-07-28; only the 2025 host's check initializes.
    const methods = s.requests.map((h) => h['mcp-method']);
    expect(methods.slice(0, 2)).toEqual(['server/discover', 'tools/list']);
    expect(methods.filter((m) => m === 'initialize')).toHaveLength(1);
    // passthrough: the server's own stateless serving answers the host.
    const passthrough = await check({ MCP_ENDPOINT: s.url, MCP_PROTOCOL: 'passthrough' });
    expect(passthrough.code, passthrough.out).toBe(0);
    expect(stage(passthrough.out, 'mcp')).toMatch(/; 3 tools; a 2025 host is served by the server itself$/);
  });

  it('a 2026-07-28 server that refuses 2025 clients: bridged with --protocol auto, ✗ with passthrough and the fix', async () => {
    const { startSdkV2Server } = await import('../helpers/sdk-v2-server.js');
    const s = await startSdkV2Server({ legacy: 'reject' });
    cleanups.push(() => s.close());
    const auto = await check({ MCP_ENDPOINT: s.url });
    expect(auto.code, auto.out).toBe(0);
    expect(stage(auto.out, 'mcp')).toMatch(/; 3 tools; a 2025 host is bridged$/);

    const passthrough = await check({ MCP_ENDPOINT: s.url, MCP_PROTOCOL: 'passthrough' });
    expect(passthrough.code, passthrough.out).toBe(1);
    expect(stage(passthrough.out, 'mcp')).toMatch(/^✗ mcp: v2-test 1\.0\.0, protocol 2026-07-28 \(server\/discover\), transport streamable-http; 3 tools; a 2025 host is refused \(initialize: .+\)$/);
    expect(passthrough.out).toMatch(/^ {4}fix: use --protocol auto \(MCP_PROTOCOL=auto\): the proxy then bridges 2025 hosts to this server$/m);
    expect(passthrough.out).toMatch(/^✗ verdict: a host would not connect: fix mcp$/m);
    expect(passthrough.out).not.toMatch(/a host with these settings connects/);
  });

  it('SigV4: who the credentials are, from GetCallerIdentity signed with the same credentials', async () => {
    const { url, sts } = await sigv4Setup();
    const { code, out, err } = await check(sigv4Env(url, sts.url));
    expect(code, out + err).toBe(0);
    expect(stage(out, 'credentials')).toBe(`✓ credentials: AWS ${MARKER_ARN} (account ${MARKER_ACCOUNT}) from environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
    expect(out).toMatch(/^ {4}accessKeyId: …0001$/m);
    expect(sts.identityCalls).toEqual([SOURCE_KEY]);
    expect(stage(out, 'mcp')).toMatch(/^✓ mcp: test-remote 1\.0\.0/);
  });

  it('SigV4 with ASSUME_ROLE_ARN: the assumed role and its expiry', async () => {
    const { url, sts } = await sigv4Setup();
    const { code, out, err } = await check({ ...sigv4Env(url, sts.url), ASSUME_ROLE_ARN: ROLE, ASSUME_ROLE_SESSION_NAME: 'doctor-session' });
    expect(code, out + err).toBe(0);
    expect(stage(out, 'credentials')).toMatch(new RegExp(`^✓ credentials: AWS arn:aws:sts::${MARKER_ACCOUNT}:assumed-role/doctor-role/doctor-session \\(account ${MARKER_ACCOUNT}, assumed role doctor-role\\) from `));
    expect(out).toMatch(/^ {4}expires: \S+ \(in 59 min\)$/m);
    expect(sts.identityCalls).toHaveLength(1);
    expect(sts.identityCalls[0]).toMatch(/^ASIAFAKE/);
    // The doctor asks STS who the chain's credentials are: one AssumeRole, as in a host run.
    expect(sts.calls).toHaveLength(1);
    expect(sts.identityCalls[0]).toBe(sts.issued[0]?.accessKeyId);
    expect(out + err).not.toContain('CANARYCHECKASSUMED');
  });

  it('mTLS: the TLS facts, the server certificate verified with the CA, the client certificate', async () => {
    const s = await server({ tls: requireClientCert(), bearerToken: TOKEN });
    const { code, out, err } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_CA_CERT: pki.ca.certPath, MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.encryptedKeyPath, MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase });
    expect(code, out + err).toBe(0);
    expect(stage(out, 'tls')).toMatch(new RegExp(`^✓ tls: TLSv1\\.[23] \\S+; certificate verified with the default CAs and ${pki.ca.certPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(out).toMatch(/^ {4}issuer: CN=/m);
    expect(stage(out, 'client-certificate')).toMatch(/^✓ client-certificate: .+, expires \S+ \(in \d+ days\)$/);
    expect(stage(out, 'mcp')).toMatch(/^✓ mcp: /);
    expect(out + err).not.toContain(pki.passphrase);
  });

  it('through an HTTP proxy: "via proxy", the TLS handshake inside its CONNECT tunnel', async () => {
    const s = await server({ tls: { key: pki.server.key, cert: pki.server.cert }, bearerToken: TOKEN });
    const proxy = await startConnectProxy({ auth: { user: 'carol', password: 'CANARYCHECKPROXYPASS' } });
    cleanups.push(() => proxy.close());
    const { code, out, err } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_CA_CERT: pki.ca.certPath, HTTPS_PROXY: `http://carol:CANARYCHECKPROXYPASS@127.0.0.1:${proxy.port}`, NO_PROXY: '' });
    expect(code, out + err).toBe(0);
    expect(stage(out, 'proxy')).toBe(`✓ proxy: via proxy http://127.0.0.1:${proxy.port} (with proxy credentials)`);
    expect(stage(out, 'tls')).toMatch(/^✓ tls: TLSv1\.[23] \S+ via proxy; certificate verified/);
    // One tunnel for the probe, at least one for the MCP exchange.
    expect(proxy.targets.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.targets)).toEqual(new Set([new URL(s.url).host]));
    expect(out + err).not.toContain('CANARYCHECKPROXYPASS');
  });

  it('OAuth client credentials: issuer, scope and expiry of the token, never the token or the secret', async () => {
    const url = await oauthSetup();
    const { code, out, err } = await check({ MCP_ENDPOINT: url, MCP_OAUTH_CLIENT_ID: 'svc-doctor', MCP_OAUTH_CLIENT_SECRET: CLIENT_SECRET }, ['--oauth-scope', 'mcp:read']);
    expect(code, out + err).toBe(0);
    expect(stage(out, 'credentials')).toMatch(/^✓ credentials: oauth-client-credentials token from http:\/\/127\.0\.0\.1:\d+, expires \S+ \(in 9 min\)$/);
    expect(out).toMatch(/^ {4}scope: mcp:read$/m);
    expect(out + err).not.toContain(CLIENT_SECRET);
  });
});

describe('--check: failures say what failed and the fix, exit 1', () => {
  it('a rejected bearer token (401)', async () => {
    const s = await server({ bearerToken: TOKEN });
    const { code, out, err } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'CANARYWRONG1' });
    expect(code).toBe(1);
    expect(stage(out, 'mcp')).toMatch(/^✗ mcp: server\/discover: mcp-signing-proxy: the server rejected the bearer token \(HTTP 401\)$/);
    expect(out).toMatch(/^ {4}fix: \S/m);
    expect(out.split('\n').at(-1)).toBe('✗ verdict: a host would not connect: fix mcp');
    expect(out + err).not.toContain('CANARYWRONG1');
  });

  it('SigV4 without credentials: the credentials stage says so', async () => {
    const { url } = await sigv4Setup();
    const { code, out } = await check({ MCP_ENDPOINT: url, MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: REGION });
    expect(code).toBe(1);
    expect(stage(out, 'credentials')).toMatch(/^✗ credentials: /);
    expect(out).toMatch(/^ {4}fix: \S/m);
  });

  it('SigV4 credentials STS rejects: the credentials stage fails with the way to renew them', async () => {
    const { url, sts } = await sigv4Setup();
    sts.expireSource(SOURCE_KEY);
    const { code, out } = await check(sigv4Env(url, sts.url));
    expect(code).toBe(1);
    expect(stage(out, 'credentials')).toMatch(/^✗ credentials: STS GetCallerIdentity at 127\.0\.0\.1:\d+ answered HTTP 400 \(ExpiredToken\)$/);
    expect(out).toContain('    fix: update AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY');
    expect(out).toContain('    source: environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
  });

  it('an --sts-region that is not a region name is a start-up error naming the setting (it would become the STS host name)', async () => {
    const { url, sts } = await sigv4Setup();
    const { code, out, err } = await check({ ...sigv4Env(url, sts.url), ASSUME_ROLE_ARN: ROLE, ASSUME_ROLE_STS_REGION: 'evil.example/' }, ['--json']);
    expect(code, out + err).toBe(2);
    expect(JSON.parse(out).stages[0]).toMatchObject({ id: 'configuration', status: 'fail', summary: expect.stringContaining('--sts-region / ASSUME_ROLE_STS_REGION'), fix: 'use a name such as us-east-1' });
    expect(sts.identityCalls).toEqual([]);
  });

  it('SigV4 where the AWS SDK would choose the STS endpoint (FIPS): GetCallerIdentity is not sent elsewhere, the stage says so', async () => {
    const { url, sts } = await sigv4Setup();
    const { code, out, err } = await check({ ...sigv4Env(url, sts.url), AWS_USE_FIPS_ENDPOINT: 'true' });
    expect(code, out + err).toBe(0);
    expect(stage(out, 'credentials')).toBe('! credentials: AWS credentials from environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; not asked who they are: the AWS SDK chooses the STS endpoint with these settings');
    expect(out).toContain('    fix: run aws sts get-caller-identity --profile default');
    expect(sts.identityCalls).toEqual([]);
  });

  it('a GetCallerIdentity answer that never ends is read only up to 64 KiB', async () => {
    const { url } = await sigv4Setup();
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write(`<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${MARKER_ARN}</Arn><UserId>AIDAENDLESS</UserId><Account>${MARKER_ACCOUNT}</Account></GetCallerIdentityResult>`);
      const padding = `<!--${'x'.repeat(16 * 1024)}-->`;
      const timer = setInterval(() => res.write(padding), 5);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (endless.closeAllConnections(), endless.close(() => resolve()))));
    const { code, out, err } = await check(sigv4Env(url, `http://127.0.0.1:${(endless.address() as AddressInfo).port}/`));
    expect(code, out + err).toBe(0);
    expect(stage(out, 'credentials')).toBe(`✓ credentials: AWS ${MARKER_ARN} (account ${MARKER_ACCOUNT}) from environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  }, 30_000);

  it('a host that does not resolve', async () => {
    const { code, out } = await check({ MCP_ENDPOINT: 'https://mcp.doctor-check.invalid/mcp', MCP_BEARER_TOKEN: TOKEN });
    expect(code).toBe(1);
    expect(stage(out, 'dns')).toMatch(/^✗ dns: cannot resolve mcp\.doctor-check\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/);
    expect(out).toContain('    fix: check the host name in MCP_ENDPOINT / --endpoint, and your DNS or VPN connection');
    expect(stage(out, 'mcp')).toBe('– mcp: not tried: the network stages failed');
  });

  it('a server certificate from an unknown CA', async () => {
    const s = await server({ tls: { key: pki.server.key, cert: pki.server.cert } });
    const { code, out } = await check({ MCP_ENDPOINT: s.url });
    expect(code).toBe(1);
    expect(stage(out, 'tls')).toMatch(/^✗ tls: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(\w+\); verified against the default CAs$/);
    expect(out).toMatch(/^ {4}issuer: CN=/m);
    expect(out).toMatch(/^ {4}fix: .*--ca-cert/m);
  });

  it('an mTLS server and no client certificate: the tls stage names the server\'s TLS 1.3 alert, as the MCP traffic would', async () => {
    const s = await server({ tls: requireClientCert(), bearerToken: TOKEN });
    const { code, out } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_CA_CERT: pki.ca.certPath });
    expect(code).toBe(1);
    expect(stage(out, 'tls')).toBe(`✗ tls: 127.0.0.1:${new URL(s.url).port} requires a client certificate and none was sent (TLS alert "certificate required")`);
    expect(out).toContain('    fix: set --client-cert and --client-key (or --client-pfx) to a certificate issued by a CA the server trusts');
    expect(stage(out, 'mcp')).toBe('– mcp: not tried: the network stages failed');
  });

  it('an mTLS server that closes on a client certificate from another CA: the tls stage says so and points at mTLS', async () => {
    const s = await server({ tls: requireClientCert(), bearerToken: TOKEN });
    const { code, out } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_CA_CERT: pki.ca.certPath, MCP_CLIENT_CERT: pki.rogueClient.certPath, MCP_CLIENT_KEY: pki.rogueClient.keyPath });
    expect(code).toBe(1);
    expect(stage(out, 'tls')).toBe(`✗ tls: 127.0.0.1:${new URL(s.url).port} closed the connection without answering`);
    expect(out).toMatch(/^ {4}fix: if the server requires a client certificate \(mTLS\), set --client-cert/m);
  });

  it('connection refused', async () => {
    const port = await closedPort();
    const { code, out } = await check({ MCP_ENDPOINT: `http://127.0.0.1:${port}/mcp` });
    expect(code).toBe(1);
    expect(stage(out, 'tcp')).toMatch(/^✗ tcp: .*refused/);
    expect(out).toMatch(/^ {4}fix: \S/m);
  });
});

describe('--check --json', () => {
  it('one JSON document with the same stages', async () => {
    const s = await server({ bearerToken: TOKEN });
    const { code, out } = await check({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN }, ['--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.ok).toBe(true);
    expect(doc.stages.map((st: { id: string }) => st.id)).toEqual(['configuration', 'credentials', 'dns', 'proxy', 'tcp', 'mcp']);
    expect(doc.stages.find((st: { id: string }) => st.id === 'mcp').data).toMatchObject({ serverInfo: { name: 'test-remote' }, protocolVersion: '2025-11-25', era: 'initialize', transport: 'streamable-http', toolCount: 9 });
  });

  it('a failure: ok false, the stage with its fix', async () => {
    const { code, out } = await check({ MCP_ENDPOINT: 'https://mcp.doctor-check.invalid/mcp' }, ['--json']);
    expect(code).toBe(1);
    const doc = JSON.parse(out);
    expect(doc.ok).toBe(false);
    expect(doc.stages.find((st: { id: string }) => st.id === 'dns')).toMatchObject({ status: 'fail', fix: expect.stringContaining('DNS') });
  });

  it('a configuration error is a JSON document too (exit 2, as a start-up error)', async () => {
    const { code, out, err } = await check({}, ['--json']);
    expect(code).toBe(2);
    expect(JSON.parse(out).stages).toEqual([{ id: 'configuration', status: 'fail', summary: 'no remote endpoint configured', fix: expect.stringContaining('MCP_ENDPOINT') }]);
    expect(err).toContain('no remote endpoint configured');
  });

  it('so is a setting found unusable while the stack is built (an unreadable client certificate)', async () => {
    const { code, out } = await check({ MCP_ENDPOINT: 'https://127.0.0.1:9/mcp', MCP_CLIENT_CERT: '/nonexistent/cert.pem', MCP_CLIENT_KEY: '/nonexistent/key.pem' }, ['--json']);
    expect(code).toBe(2);
    const [only] = JSON.parse(out).stages;
    expect(only).toMatchObject({ id: 'configuration', status: 'fail', summary: expect.stringContaining('/nonexistent/cert.pem') });
  });

  it('--json without --check is refused', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: 'https://mcp.example.com/mcp' }, ['--json']);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain('--json only applies to --check');
  });
});

describe('--check: no secret in any line', () => {
  it('marker token, secret key, session token, client secret and key passphrase appear neither in stdout nor stderr', async () => {
    const markers = [TOKEN, SOURCE_SECRET, SESSION_TOKEN, CLIENT_SECRET, pki.passphrase];
    const { url, sts } = await sigv4Setup();
    const oauthUrl = await oauthSetup();
    const tlsServer = await server({ tls: requireClientCert(), bearerToken: TOKEN });
    const runs: Array<Record<string, string>> = [
      { ...sigv4Env(url, sts.url), ASSUME_ROLE_ARN: ROLE, MCP_LOG_LEVEL: 'trace' },
      { MCP_ENDPOINT: oauthUrl, MCP_OAUTH_CLIENT_ID: 'svc-doctor', MCP_OAUTH_CLIENT_SECRET: CLIENT_SECRET, MCP_LOG_LEVEL: 'trace' },
      { MCP_ENDPOINT: tlsServer.url, MCP_BEARER_TOKEN: TOKEN, MCP_CA_CERT: pki.ca.certPath, MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.encryptedKeyPath, MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase, MCP_LOG_LEVEL: 'trace' },
      // Rejected: the error paths print too.
      { MCP_ENDPOINT: tlsServer.url, MCP_BEARER_TOKEN: `${TOKEN}x`, MCP_CA_CERT: pki.ca.certPath, MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.encryptedKeyPath, MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase },
    ];
    const results = await Promise.all(runs.flatMap((env) => [[], ['--json']].map(async (args) => ({ env, args, ...(await check(env, args)) }))));
    for (const { env, args, out, err } of results) {
      expect(out).toMatch(/credentials/);
      for (const m of markers) expect(out + err, `${m} with ${env.MCP_ENDPOINT} ${args.join(' ')}`).not.toContain(m);
    }
  });
});
