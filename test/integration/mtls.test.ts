import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { HttpRequest } from '@smithy/protocol-http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig, type Config } from '../../src/config/config.js';
import { ConfigError, UpstreamNetworkError, toJsonRpcError } from '../../src/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { createAwsHttpsAgent, createAwsRequestHandler } from '../../src/tls/aws-request-handler.js';
import { createStsPost } from '../../src/credentials/sts-http.js';
import { createDispatcher } from '../../src/transport/dispatcher.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { describeNetworkError } from '../../src/transport/network-errors.js';
import type { Dispatcher } from '../../src/transport/undici.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { createTestPki, type PemPair, type TestPki } from '../helpers/pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.cleanup());

// Hermetic proxy environment: loopback is proxied whenever HTTPS_PROXY is set (undici's EnvHttpProxyAgent).
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS'] as const;
let savedEnv: Record<string, string | undefined>;
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(() => {
  savedEnv = Object.fromEntries(PROXY_VARS.map((k) => [k, process.env[k]]));
  for (const k of PROXY_VARS) delete process.env[k];
});
afterEach(async () => {
  for (const k of PROXY_VARS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface TestServer {
  url: string;
  port: number;
  /** Peer certificate CN of every TLS connection, in order ('' = none). */
  connections: string[];
}

const peerCn = (socket: TLSSocket): string => String(socket.getPeerCertificate().subject?.CN ?? '');

/** An HTTPS server on loopback that requires a client certificate from the test CA (test/helpers/pki.ts). */
async function httpsServer(opts: { cert?: PemPair; requestCert?: boolean; closeEach?: boolean; extra?: ServerOptions } = {}): Promise<TestServer> {
  const cert = opts.cert ?? pki.server;
  const requestCert = opts.requestCert ?? true;
  const connections: string[] = [];
  const server: Server = createServer({ key: cert.key, cert: cert.cert, ca: pki.ca.cert, requestCert, rejectUnauthorized: requestCert, ...opts.extra }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const cn = peerCn(socket);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', ...(opts.closeEach ? { connection: 'close' } : {}) });
      res.end(JSON.stringify({ cn, authorized: socket.authorized }));
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => connections.push(peerCn(socket)));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `https://127.0.0.1:${port}/mcp`, port, connections };
}

/**
 * OpenSSL's own server, which (like nginx, Envoy or a load balancer) verifies the client
 * certificate inside the TLS 1.3 handshake and answers a bad one with an alert; a Node
 * server with rejectUnauthorized just closes the connection.
 */
async function opensslServer(): Promise<TestServer> {
  const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', pki.server.certPath, '-key', pki.server.keyPath, '-CAfile', pki.ca.certPath, '-Verify', '1', '-verify_return_error', '-www', '-tls1_3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill());
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
  });
  return { url: `https://127.0.0.1:${port}/mcp`, port, connections: [] };
}

function config(url: string, args: string[] = [], env: Record<string, string> = {}): Config {
  return normalizeConfig(parseCliArgs(['--endpoint', url, '--connect-timeout', '5', ...args]), env);
}

const pemArgs = (p: PemPair = pki.clientOne) => ['--client-cert', p.certPath, '--client-key', p.keyPath];
const ca = () => ['--ca-cert', pki.ca.certPath];

function client(cfg: Config, log: CapturedLog = captureLog()): { http: HttpClient; dispatcher: Dispatcher; log: CapturedLog } {
  const dispatcher = createDispatcher(cfg, log.logger);
  cleanups.push(() => dispatcher.destroy());
  return { http: new HttpClient({ dispatcher, signers: [], logger: log.logger }), dispatcher, log };
}

async function post(http: HttpClient, url: string): Promise<{ cn: string; authorized: boolean }> {
  const res = await http.send({ method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode('{}') });
  return JSON.parse((await res.bytes()).toString("utf8")) as { cn: string; authorized: boolean };
}

async function failure(http: HttpClient, url: string): Promise<UpstreamNetworkError> {
  const err = await post(http, url).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamNetworkError);
  return err as UpstreamNetworkError;
}

describe('client identity', () => {
  it('presents a PEM certificate: the server sees its CN', async () => {
    const srv = await httpsServer();
    const { http } = client(config(srv.url, [...pemArgs(), ...ca()]));
    expect(await post(http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
  });

  it('presents a PFX and an encrypted PEM key, both with MCP_CLIENT_KEY_PASSPHRASE', async () => {
    const srv = await httpsServer();
    const pfx = client(config(srv.url, ['--client-pfx', pki.pfxPath, ...ca()], { MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase }));
    expect(await post(pfx.http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
    const enc = client(config(srv.url, ['--client-cert', pki.clientOne.certPath, '--client-key', pki.encryptedKeyPath, ...ca()], { MCP_CLIENT_KEY_PASSPHRASE: pki.passphrase }));
    expect(await post(enc.http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
    expect(pfx.log.raw() + enc.log.raw()).not.toContain(pki.passphrase);
  });

  it('a wrong passphrase stops start-up with a ConfigError naming the file', () => {
    const cfg = config('https://127.0.0.1:1/mcp', ['--client-cert', pki.clientOne.certPath, '--client-key', pki.encryptedKeyPath], { MCP_CLIENT_KEY_PASSPHRASE: 'wrong' });
    expect(() => createDispatcher(cfg, captureLog().logger)).toThrow(ConfigError);
    expect(() => createDispatcher(cfg, captureLog().logger)).toThrow(`cannot decrypt client key ${pki.encryptedKeyPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`);
  });

  it('no certificate: the server\'s TLS 1.3 alert says it requires one; the hint names --client-cert', async () => {
    const srv = await httpsServer();
    const err = await failure(client(config(srv.url, ca())).http, srv.url);
    expect(err.message).toBe(`127.0.0.1:${srv.port} requires a client certificate and none was sent (TLS alert "certificate required")`);
    expect(err.hint).toBe('set --client-cert and --client-key (or --client-pfx) to a certificate issued by a CA the server trusts');
    expect(err.retryable).toBe(false);
  });

  it('a certificate from a rogue CA: the server\'s alert says it rejected it; the hint names --client-cert and the CA the server trusts', async () => {
    const srv = await opensslServer();
    const err = await failure(client(config(srv.url, [...pemArgs(pki.rogueClient), ...ca()])).http, srv.url);
    expect(err.message).toBe(`127.0.0.1:${srv.port} rejected the client certificate (TLS alert "unknown ca")`);
    expect(err.hint).toMatch(/^check --client-cert \/ --client-pfx: the server accepts only certificates issued by a CA it trusts/);
    expect(toJsonRpcError(err).message).toContain('--client-cert');
    expect(err.retryable).toBe(false);
  });

  it('a server that just closes after the handshake (Node with rejectUnauthorized) keeps the "closed the connection" message and the mTLS hint', async () => {
    const srv = await httpsServer();
    const err = await failure(client(config(srv.url, [...pemArgs(pki.rogueClient), ...ca()])).http, srv.url);
    expect(err.message).toBe(`127.0.0.1:${srv.port} closed the connection without answering`);
    expect(err.hint).toMatch(/requires a client certificate \(mTLS\), set --client-cert and --client-key/);
  });

  it('a TLS 1.2 server cuts the handshake off, also named as mTLS', async () => {
    const srv = await httpsServer({ extra: { maxVersion: 'TLSv1.2' } });
    const err = await failure(client(config(srv.url, ca())).http, srv.url);
    expect(err.message).toMatch(new RegExp(`^the TLS handshake with 127\\.0\\.0\\.1:${srv.port} (failed|was cut off)`));
    expect(err.hint).toMatch(/--client-cert/);
  });
});

describe('server trust', () => {
  it('an untrusted server names the cause and suggests --ca-cert', async () => {
    const srv = await httpsServer();
    const err = await failure(client(config(srv.url, pemArgs())).http, srv.url);
    expect(err.message).toMatch(new RegExp(`^the TLS certificate of 127\\.0\\.0\\.1:${srv.port} is not trusted \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\\)$`));
    expect(err.hint).toMatch(/--ca-cert/);
  });

  it('hostname mismatch and an expired server certificate are named', async () => {
    const wrong = await httpsServer({ cert: pki.wrongNameServer });
    const mismatch = await failure(client(config(wrong.url, [...pemArgs(), ...ca()])).http, wrong.url);
    expect(mismatch.message).toBe(`the TLS certificate of 127.0.0.1:${wrong.port} is not issued for 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)`);
    const expired = await httpsServer({ cert: pki.expiredServer });
    expect((await failure(client(config(expired.url, [...pemArgs(), ...ca()])).http, expired.url)).message).toBe(
      `the TLS certificate of 127.0.0.1:${expired.port} has expired (CERT_HAS_EXPIRED)`,
    );
  });

  it('--ca-cert adds to NODE_EXTRA_CA_CERTS and the default roots instead of replacing them', async () => {
    // Two servers from two CAs, one dispatcher: --ca-cert trusts one, NODE_EXTRA_CA_CERTS the other.
    process.env.NODE_EXTRA_CA_CERTS = pki.rogueCa.certPath;
    const ours = await httpsServer({ requestCert: false });
    const theirs = await httpsServer({ cert: pki.rogueServer, requestCert: false });
    const { http } = client(config(ours.url, ca()));
    expect(await post(http, ours.url)).toMatchObject({ authorized: false, cn: '' });
    expect(await post(http, theirs.url)).toMatchObject({ cn: '' });
    // Without --ca-cert the private CA is not trusted (so the line above proves the addition).
    const plain = client(config(ours.url));
    expect((await failure(plain.http, ours.url)).message).toMatch(/is not trusted/);
  });

  it('--insecure connects to an untrusted server and warns loudly at start-up', async () => {
    const srv = await httpsServer();
    const { http, log } = client(config(srv.url, [...pemArgs(), '--insecure']));
    expect(await post(http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
    expect(log.warnings(/TLS certificate verification is DISABLED/)).toHaveLength(1);
  });
});

describe('HTTP CONNECT proxy from the environment', () => {
  async function proxy(opts: Parameters<typeof startConnectProxy>[0] = {}): Promise<ConnectProxy> {
    const p = await startConnectProxy(opts);
    cleanups.push(() => p.close());
    return p;
  }

  it('tunnels through HTTPS_PROXY with mTLS end to end; the proxy password never reaches the log', async () => {
    const srv = await httpsServer();
    const p = await proxy({ auth: { user: 'alice', password: 'pr0xy-s3cret' } });
    process.env.HTTPS_PROXY = `http://alice:pr0xy-s3cret@127.0.0.1:${p.port}`;
    const { http, log } = client(config(srv.url, [...pemArgs(), ...ca()]));
    expect(await post(http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
    expect(p.targets).toEqual([`127.0.0.1:${srv.port}`]);
    expect(log.entries().find((e) => /through the HTTP proxy/.test(e.msg))).toMatchObject({ proxy: p.url, proxyAuth: true });
    expect(log.raw()).not.toMatch(/pr0xy-s3cret|alice/);
  });

  it('honours lower-case https_proxy and bypasses the proxy for NO_PROXY hosts', async () => {
    const srv = await httpsServer();
    const p = await proxy();
    process.env.https_proxy = p.url;
    process.env.NO_PROXY = 'localhost,127.0.0.1';
    const { http, log } = client(config(srv.url, [...pemArgs(), ...ca()]));
    expect(await post(http, srv.url)).toEqual({ cn: 'client-one', authorized: true });
    expect(p.targets).toEqual([]);
    expect(log.entries().some((e) => /directly to the MCP server \(NO_PROXY\)/.test(e.msg))).toBe(true);
  });

  it('--no-env-proxy ignores HTTPS_PROXY', async () => {
    const srv = await httpsServer();
    const p = await proxy();
    process.env.HTTPS_PROXY = p.url;
    expect(await post(client(config(srv.url, [...pemArgs(), ...ca(), '--no-env-proxy'])).http, srv.url)).toMatchObject({ cn: 'client-one' });
    expect(p.targets).toEqual([]);
  });

  it('names a proxy that wants credentials (407), refuses the target (403) or is down', async () => {
    const srv = await httpsServer();
    const p = await proxy({ auth: { user: 'alice', password: 'right' }, deny: (t) => t.startsWith('localhost:') });
    process.env.HTTPS_PROXY = `http://alice:wrong-pass@127.0.0.1:${p.port}`;
    const auth = client(config(srv.url, [...pemArgs(), ...ca()]));
    const e407 = await failure(auth.http, srv.url);
    expect(e407).toMatchObject({ code: 'ESP_PROXY_AUTH', message: `the HTTP proxy ${p.url} requires authentication (HTTP 407)` });
    expect(JSON.stringify(toJsonRpcError(e407)) + auth.log.raw()).not.toContain('wrong-pass');

    process.env.HTTPS_PROXY = `http://alice:right@127.0.0.1:${p.port}`;
    const denied = `https://localhost:${srv.port}/mcp`;
    const e403 = await failure(client(config(denied, [...pemArgs(), ...ca()])).http, denied);
    expect(e403.message).toBe(`the HTTP proxy ${p.url} refused to connect to localhost:${srv.port} (HTTP 403)`);

    await p.close();
    const down = await failure(client(config(srv.url, [...pemArgs(), ...ca()])).http, srv.url);
    expect(down.message).toBe(`connection refused by the HTTP proxy ${p.url}`);
  });
});

describe('certificate rotation', () => {
  function rotatingPair(): { certPath: string; keyPath: string; args: string[] } {
    const certPath = pki.write(`rotate-${Math.random()}.crt`, pki.clientOne.cert);
    const keyPath = pki.write(`rotate-${Math.random()}.key`, pki.clientOne.key);
    return { certPath, keyPath, args: ['--client-cert', certPath, '--client-key', keyPath] };
  }

  function swap(pair: { certPath: string; keyPath: string }, to: PemPair): void {
    copyFileSync(to.certPath, pair.certPath);
    copyFileSync(to.keyPath, pair.keyPath);
  }

  for (const viaProxy of [false, true]) {
    it(`new connections use swapped files; a corrupt swap keeps the old identity${viaProxy ? ' (through a CONNECT proxy)' : ''}`, async () => {
      // Connection: close makes every request a new TLS connection (a new handshake).
      const srv = await httpsServer({ closeEach: true });
      if (viaProxy) {
        const p = await startConnectProxy();
        cleanups.push(() => p.close());
        process.env.HTTPS_PROXY = p.url;
      }
      const pair = rotatingPair();
      const { http, log } = client(config(srv.url, [...pair.args, ...ca()]));
      expect((await post(http, srv.url)).cn).toBe('client-one');

      writeFileSync(pair.certPath, 'garbage\n');
      expect((await post(http, srv.url)).cn).toBe('client-one');
      expect((await post(http, srv.url)).cn).toBe('client-one');
      expect(log.warnings(/cannot be used, keeping the previous certificate/)).toHaveLength(1);

      swap(pair, pki.clientTwo);
      expect((await post(http, srv.url)).cn).toBe('client-two');
      expect((await post(http, srv.url)).cn).toBe('client-two');
      expect(srv.connections).toEqual(['client-one', 'client-one', 'client-one', 'client-two', 'client-two']);
    });
  }

  it('a request in flight on the old identity finishes; keep-alive connections are not reused after a swap', async () => {
    const srv = await httpsServer();
    const pair = rotatingPair();
    const { http } = client(config(srv.url, [...pair.args, ...ca()]));
    expect((await post(http, srv.url)).cn).toBe('client-one');
    // undici frees the connection a moment after the body ends; give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await post(http, srv.url)).cn).toBe('client-one');
    expect(srv.connections).toEqual(['client-one']); // kept alive
    swap(pair, pki.clientTwo);
    expect((await post(http, srv.url)).cn).toBe('client-two');
    expect(srv.connections).toEqual(['client-one', 'client-two']);
  });
});

describe('AWS SDK request handler (STS traffic)', () => {
  async function get(handler: unknown, port: number): Promise<{ status: number; body: string }> {
    const request = new HttpRequest({ protocol: 'https:', hostname: '127.0.0.1', port, method: 'GET', path: '/', headers: { host: `127.0.0.1:${port}` } });
    const { response } = await (handler as { handle(r: HttpRequest): Promise<{ response: { statusCode: number; body: AsyncIterable<Buffer> } }> }).handle(request);
    let body = '';
    for await (const chunk of response.body) body += chunk.toString('utf8');
    return { status: response.statusCode, body };
  }

  const logger = (): Logger => captureLog().logger;

  it('is undefined without a CA bundle or a proxy, so the SDK keeps its defaults', async () => {
    expect(await createAwsRequestHandler(config('https://127.0.0.1:1/mcp', pemArgs()), logger())).toBeUndefined();
    process.env.HTTPS_PROXY = 'http://127.0.0.1:3128';
    expect(await createAwsRequestHandler(config('https://127.0.0.1:1/mcp', ['--no-env-proxy']), logger())).toBeUndefined();
  });

  it('reaches an HTTPS server with the private CA through the CONNECT proxy, without a client certificate', async () => {
    const sts = await httpsServer({ requestCert: false });
    const p = await startConnectProxy({ auth: { user: 'bob', password: 'b0b-pass' } });
    cleanups.push(() => p.close());
    process.env.HTTPS_PROXY = `http://bob:b0b-pass@127.0.0.1:${p.port}`;
    const handler = await createAwsRequestHandler(config(sts.url, [...pemArgs(), ...ca()]), logger());
    cleanups.push(() => (handler as { destroy(): void }).destroy());
    expect(await get(handler, sts.port)).toEqual({ status: 200, body: JSON.stringify({ cn: '', authorized: false }) });
    expect(p.targets).toEqual([`127.0.0.1:${sts.port}`]);
  });

  it('honours NO_PROXY, and names a proxy that refuses with describeNetworkError', async () => {
    const sts = await httpsServer({ requestCert: false });
    const p = await startConnectProxy({ auth: { user: 'bob', password: 'right' } });
    cleanups.push(() => p.close());
    process.env.HTTPS_PROXY = `http://bob:wrong@127.0.0.1:${p.port}`;
    const handler = await createAwsRequestHandler(config(sts.url, ca()), logger());
    cleanups.push(() => (handler as { destroy(): void }).destroy());
    const err = await get(handler, sts.port).then(() => undefined, (e: unknown) => e);
    expect(describeNetworkError(err, new URL(`https://127.0.0.1:${sts.port}/`))).toMatchObject({ code: 'ESP_PROXY_AUTH' });

    process.env.NO_PROXY = '127.0.0.1';
    const direct = await createAwsRequestHandler(config(sts.url, ca()), logger());
    cleanups.push(() => (direct as { destroy(): void }).destroy());
    expect((await get(direct, sts.port)).status).toBe(200);
    expect(p.targets).toEqual([`127.0.0.1:${sts.port}`]); // only the refused attempt
  });

  it('our own STS requests take the same agent: private CA, CONNECT proxy, NO_PROXY', async () => {
    const sts = await httpsServer({ requestCert: false });
    const p = await startConnectProxy();
    cleanups.push(() => p.close());
    process.env.HTTPS_PROXY = p.url;
    const agent = createAwsHttpsAgent(config(sts.url, ca()), logger());
    cleanups.push(() => agent?.destroy());
    const post = createStsPost({ agent, connectTimeoutMs: 5000 });
    const url = new URL(`https://127.0.0.1:${sts.port}/`);
    expect(await post(url, { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, 'Action=AssumeRole')).toEqual({ status: 200, body: JSON.stringify({ cn: '', authorized: false }) });
    expect(p.targets).toEqual([`127.0.0.1:${sts.port}`]);
    // Without the agent (no --ca-cert, no proxy), Node's defaults apply: the private CA is not trusted.
    const err = await createStsPost()(url, { host: url.host }, '').then(() => undefined, (e: unknown) => e);
    expect(describeNetworkError(err, url).message).toMatch(/is not trusted/);
  });

  it('without --ca-cert the private CA is not trusted for STS either', async () => {
    const sts = await httpsServer({ requestCert: false });
    const p = await startConnectProxy();
    cleanups.push(() => p.close());
    process.env.HTTPS_PROXY = p.url;
    const handler = await createAwsRequestHandler(config(sts.url), logger());
    cleanups.push(() => (handler as { destroy(): void }).destroy());
    const err = await get(handler, sts.port).then(() => undefined, (e: unknown) => e);
    expect(describeNetworkError(err, new URL(`https://127.0.0.1:${sts.port}/`)).message).toMatch(/is not trusted/);
  });
});
