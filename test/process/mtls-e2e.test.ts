/**
 * mTLS end to end: the spawned proxy presents client certificates to a real SDK MCP
 * server on HTTPS that demands them (requestCert + rejectUnauthorized), alone, with a
 * bearer token, with SigV4 (independent verifier), and through a CONNECT proxy; and the
 * failures a user meets give the promised messages.
 */
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startMcpServer, type McpServerOptions, type McpTestServer } from '../helpers/mcp-server.js';
import { createTestPki, type PemPair, type TestPki } from '../helpers/pki.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import { connectClient, INIT, spawnRaw, type ConnectedClient } from '../helpers/spawn-proxy.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.cleanup());

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const requireClientCert = (): ServerOptions => ({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true });

async function mtlsServer(opts: McpServerOptions = {}): Promise<McpTestServer> {
  const server = await startMcpServer({ tls: requireClientCert(), ...opts });
  cleanups.push(() => server.close());
  return server;
}

const identity = (p: PemPair = pki.clientOne) => ({ MCP_CLIENT_CERT: p.certPath, MCP_CLIENT_KEY: p.keyPath });

async function client(env: Record<string, string>): Promise<ConnectedClient> {
  const c = await connectClient({ MCP_LOG_LEVEL: 'debug', ...env });
  cleanups.push(() => c.close());
  return c;
}

async function echo(c: ConnectedClient, text = 'über mTLS'): Promise<void> {
  const r = await c.client.callTool({ name: 'echo', arguments: { text } });
  expect(r.content).toEqual([{ type: 'text', text }]);
}

/** Starts the proxy raw, sends initialize and returns the answer (an error here) and stderr. */
async function initializeError(env: Record<string, string>): Promise<{ error: { message: string; data?: { hint?: string } }; stderr: string }> {
  const p = spawnRaw({ MCP_LOG_LEVEL: 'info', ...env });
  cleanups.push(() => p.child.kill());
  p.send(INIT);
  const answer = await p.waitFor((m) => m.id === 0);
  expect(answer.error, JSON.stringify(answer)).toBeDefined();
  p.child.stdin.end();
  await p.exited;
  return { error: answer.error, stderr: p.stderr() };
}

describe('mTLS through the spawned proxy', () => {
  it('PEM files from MCP_CLIENT_CERT/MCP_CLIENT_KEY with MCP_CA_CERT: every request carries the identity', async () => {
    const s = await mtlsServer();
    const c = await client({ MCP_ENDPOINT: s.url, ...identity(), MCP_CA_CERT: pki.ca.certPath });
    await echo(c);
    await c.client.listTools();
    await c.close();
    expect(s.requests.length).toBeGreaterThan(2);
    expect(new Set(s.requests.map((r) => r.peerCn))).toEqual(new Set(['client-one']));
    expect(c.stderr()).toContain('client certificate loaded');
  });

  it('a PFX with MCP_CLIENT_KEY_PASSPHRASE, trusting the CA through NODE_EXTRA_CA_CERTS alone', async () => {
    const s = await mtlsServer();
    const c = await client({ MCP_ENDPOINT: s.url, MCP_CLIENT_PFX: pki.pfxPath, MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase, NODE_EXTRA_CA_CERTS: pki.ca.certPath });
    await echo(c);
    expect(s.requests.every((r) => r.peerCn === 'client-one')).toBe(true);
    expect(c.stderr()).not.toContain(pki.passphrase);
  });

  it('CLAUDE_CODE_CLIENT_CERT/_KEY/_KEY_PASSPHRASE are the fallback', async () => {
    const s = await mtlsServer();
    const c = await client({
      MCP_ENDPOINT: s.url,
      CLAUDE_CODE_CLIENT_CERT: pki.clientOne.certPath,
      CLAUDE_CODE_CLIENT_KEY: pki.encryptedKeyPath,
      CLAUDE_CODE_CLIENT_KEY_PASSPHRASE: pki.passphrase,
      MCP_CA_CERT: pki.ca.certPath,
    });
    await echo(c);
    expect(s.requests.every((r) => r.peerCn === 'client-one')).toBe(true);
  });

  it('mTLS + bearer together', async () => {
    const s = await mtlsServer({ bearerToken: 'mtls-and-bearer-token' });
    const c = await client({ MCP_ENDPOINT: s.url, ...identity(), MCP_CA_CERT: pki.ca.certPath, MCP_BEARER_TOKEN: 'mtls-and-bearer-token' });
    await echo(c);
    expect(s.requests.every((r) => r.peerCn === 'client-one' && r.headers.authorization === 'Bearer mtls-and-bearer-token')).toBe(true);
  });

  it('mTLS + SigV4 together, every request verified independently', async () => {
    let records: VerificationRecord[] = [];
    const s = await mtlsServer({
      wrap: (inner) => {
        const v = createSigV4VerifyingHandler({ service: 'execute-api', region: 'eu-west-1', credentials: (akid) => (akid === 'AKIDMTLS000000000001' ? { secretAccessKey: 'mtls-sigv4-secret' } : undefined) }, inner);
        records = v.records;
        return v.handler as never;
      },
    });
    const c = await client({
      MCP_ENDPOINT: s.url, ...identity(), MCP_CA_CERT: pki.ca.certPath,
      MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDMTLS000000000001', AWS_SECRET_ACCESS_KEY: 'mtls-sigv4-secret',
    });
    await echo(c);
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect(r.result).toMatchObject({ ok: true });
    expect(s.requests.every((r) => r.peerCn === 'client-one')).toBe(true);
  });

  it('through a CONNECT proxy with credentials: tunnelled, mTLS intact, the password never logged', async () => {
    const s = await mtlsServer();
    const proxy = await startConnectProxy({ auth: { user: 'carol', password: 'CANARYPROXYPASS77' } });
    cleanups.push(() => proxy.close());
    const c = await client({
      MCP_ENDPOINT: s.url, ...identity(), MCP_CA_CERT: pki.ca.certPath,
      HTTPS_PROXY: `http://carol:CANARYPROXYPASS77@127.0.0.1:${proxy.port}`, NO_PROXY: '',
      MCP_LOG_LEVEL: 'trace',
    });
    await echo(c);
    expect(proxy.targets.length).toBeGreaterThan(0);
    expect(new Set(proxy.targets)).toEqual(new Set([`127.0.0.1:${s.port}`]));
    expect(s.requests.every((r) => r.peerCn === 'client-one')).toBe(true);
    expect(c.stderr()).toContain(proxy.url);
    expect(c.stderr()).not.toMatch(/CANARYPROXYPASS77|carol/);
  });
});

describe('failures name their cause', () => {
  it('no client certificate: the JSON-RPC error and the log point at --client-cert', async () => {
    const s = await mtlsServer();
    const { error, stderr } = await initializeError({ MCP_ENDPOINT: s.url, MCP_CA_CERT: pki.ca.certPath });
    // The server's TLS 1.3 alert, not the close that follows it.
    expect(error.message).toContain(`127.0.0.1:${s.port} requires a client certificate and none was sent (TLS alert "certificate required")`);
    expect(error.message).toContain('--client-cert');
    // One log entry, with the same words as the client sees.
    expect(stderr.split('\n').filter((l) => l.includes('requires a client certificate and none was sent'))).toHaveLength(1);
  });

  it('a client certificate from a rogue CA: a Node server closes without an alert, and the close points at mTLS', async () => {
    const s = await mtlsServer();
    const { error } = await initializeError({ MCP_ENDPOINT: s.url, ...identity(pki.rogueClient), MCP_CA_CERT: pki.ca.certPath });
    expect(error.message).toMatch(/closed the connection without answering.*--client-cert/);
  });

  it('an untrusted server suggests --ca-cert', async () => {
    const s = await mtlsServer();
    const { error } = await initializeError({ MCP_ENDPOINT: s.url, ...identity() });
    expect(error.message).toMatch(/the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \([A-Z_]+\).*--ca-cert/);
  });

  it('a wrong passphrase stops start-up (exit 2) naming the file, never the passphrase', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: 'https://127.0.0.1:9/mcp', MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.encryptedKeyPath, MCP_CLIENT_KEY_PASSPHRASE: 'CANARYWRONGPASS' });
    const { code } = await p.exited;
    expect(code).toBe(2);
    expect(p.stderr()).toContain(`cannot decrypt client key ${pki.encryptedKeyPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`);
    expect(p.stderr()).not.toContain('CANARYWRONGPASS');
    expect(p.lines).toEqual([]);
  });

  it('an expired client certificate stops start-up naming the file', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: 'https://127.0.0.1:9/mcp', ...identity(pki.expiredClient) });
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain(`client certificate ${pki.expiredClient.certPath} expired on`);
  });
});

describe('rotation in a running proxy', () => {
  it('replaced certificate files are used for new connections without a restart', async () => {
    const certPath = pki.write('e2e-rotate.crt', pki.clientOne.cert);
    const keyPath = pki.write('e2e-rotate.key', pki.clientOne.key);
    const s = await mtlsServer();
    const c = await client({ MCP_ENDPOINT: s.url, MCP_CLIENT_CERT: certPath, MCP_CLIENT_KEY: keyPath, MCP_CA_CERT: pki.ca.certPath });
    await echo(c, 'before');
    expect(s.requests.at(-1)?.peerCn).toBe('client-one');
    pki.write('e2e-rotate.crt', readFileSync(pki.clientTwo.certPath));
    pki.write('e2e-rotate.key', readFileSync(pki.clientTwo.keyPath));
    await echo(c, 'after');
    expect(s.requests.at(-1)?.peerCn).toBe('client-two');
    expect(c.stderr()).toContain('client certificate changed on disk');
  });
});
