/**
 * Our SigV4 signer through the real attempt loop (HttpClient + undici) against a loopback
 * server that verifies every request with the independent verifier
 * (test/helpers/sigv4-verifier.ts). What the verifier checks is what went over the wire.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError, toJsonRpcError } from '../../src/errors.js';
import { createSigV4Signer, type AwsCredentials } from '../../src/signers/sigv4.js';
import type { CredentialSource, OutgoingRequest, SignContext } from '../../src/signers/signer.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { Agent } from '../../src/transport/undici.js';
import { captureLog } from '../helpers/log-capture.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import type { VerifierCredential } from '../helpers/sigv4-verifier.js';

const SERVICE = 'execute-api';
const REGION = 'us-west-2';
const KEY: AwsCredentials = { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret-key' };
const TEMP_OLD: AwsCredentials = { accessKeyId: 'ASIAOLD', secretAccessKey: 'old-secret', sessionToken: 'old-session-token' };
const TEMP_NEW: AwsCredentials = { accessKeyId: 'ASIANEW', secretAccessKey: 'new-secret', sessionToken: 'new-session-token' };
const MINUTE = 60_000;

/** The server's view of IAM: which keys exist, and which tokens it considers expired. */
const serverKeys = new Map<string, VerifierCredential>([
  [KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey }],
  [TEMP_OLD.accessKeyId, { secretAccessKey: TEMP_OLD.secretAccessKey, sessionToken: TEMP_OLD.sessionToken, expired: true }],
  [TEMP_NEW.accessKeyId, { secretAccessKey: TEMP_NEW.secretAccessKey, sessionToken: TEMP_NEW.sessionToken }],
]);

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: http.Server;
let base: URL;
let records: VerificationRecord[];
const received: Received[] = [];
const agent = new Agent();

beforeAll(async () => {
  const verifying = createSigV4VerifyingHandler({ credentials: (id) => serverKeys.get(id), service: SERVICE, region: REGION }, (req, res, body) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  records = verifying.records;
  server = http.createServer(verifying.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterEach(() => {
  records.length = 0;
  received.length = 0;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A credential source handing out `sequence` in turn on each forced refresh. */
function credentialSource(...sequence: AwsCredentials[]): { source: CredentialSource<AwsCredentials>; forcedRefreshes: () => number } {
  let current = 0;
  let forced = 0;
  const source: CredentialSource<AwsCredentials> = async (opts) => {
    if (opts?.forceRefresh) {
      forced++;
      current = Math.min(current + 1, sequence.length - 1);
    }
    return sequence[current] as AwsCredentials;
  };
  return { source, forcedRefreshes: () => forced };
}

function client(credentials: CredentialSource<AwsCredentials>, opts: { region?: string; now?: () => number; logger?: Logger } = {}): HttpClient {
  const signer = createSigV4Signer({ service: SERVICE, region: opts.region ?? REGION, credentials });
  return new HttpClient({ dispatcher: agent, signers: [signer], logger: opts.logger ?? createLogger('silent'), now: opts.now });
}

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

function post(pathAndQuery: string, body: string, headers: Record<string, string> = {}): OutgoingRequest {
  // Concatenated, not resolved: new URL('//prod//mcp', base) would be protocol-relative.
  return { method: 'POST', url: new URL(base.origin + pathAndQuery), headers: { ...MCP_HEADERS, ...headers }, body: Buffer.from(body, 'utf8') };
}

const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'café 🚀' } } });

async function sendOk(c: HttpClient, req: OutgoingRequest): Promise<void> {
  const res = await c.send(req);
  expect(res.status).toBe(200);
  res.discard();
}

function lastRecord(): VerificationRecord {
  return records[records.length - 1] as VerificationRecord;
}

describe('SigV4 signer against the verifying server', () => {
  it('signs a JSON-RPC POST with a non-ASCII body to a non-default port', async () => {
    await sendOk(client(credentialSource(KEY).source), post('/prod/mcp', CALL, { 'mcp-session-id': 'sess-1', 'x-tenant': 'acme' }));
    expect(records).toHaveLength(1);
    expect(lastRecord().result).toMatchObject({ ok: true, accessKeyId: KEY.accessKeyId });
    const got = received[0] as Received;
    // The wire Host carries the port and the body is the UTF-8 bytes (104, not 101 UTF-16 units).
    expect(got.headers.host).toBe(base.host);
    expect(got.body.equals(Buffer.from(CALL, 'utf8'))).toBe(true);
    expect(got.body.length).toBeGreaterThan(CALL.length);
  });

  it('signs the stable headers, including static extras, and leaves what undici controls unsigned', async () => {
    const extras = { 'mcp-session-id': 'sess-1', 'x-tenant': 'acme', 'x-forwarded-for': '10.0.0.1', 'user-agent': 'mcp-signing-proxy/test' };
    await sendOk(client(credentialSource(KEY).source), post('/prod/mcp', CALL, extras));
    const result = lastRecord().result;
    if (!result.ok) throw new Error(result.message);
    expect(result.signedHeaders).toEqual(
      ['accept', 'content-type', 'host', 'mcp-protocol-version', 'mcp-session-id', 'x-amz-content-sha256', 'x-amz-date', 'x-tenant'],
    );
    // Sent, but unsigned: what undici adds or computes, and the headers we were given that
    // intermediaries may rewrite.
    const wire = (received[0] as Received).headers;
    for (const name of ['content-length', 'connection', 'user-agent', 'x-forwarded-for']) expect(wire[name]).toBeDefined();
  });

  it('signs the 2026-07-28 Mcp-* headers as sent, base64 forms included', async () => {
    const mcp = { 'mcp-method': 'resources/read', 'mcp-name': '=?base64?ZmlsZTovLy9ob21lL2pvc8OpL25vdGVzLnR4dA==?=', 'mcp-param-region': '=?base64?ZXUtd8Opc3QtMQ==?=' };
    await sendOk(client(credentialSource(KEY).source), post('/prod/mcp', CALL, mcp));
    const result = lastRecord().result;
    if (!result.ok) throw new Error(result.message);
    expect(result.signedHeaders).toEqual(expect.arrayContaining(['mcp-method', 'mcp-name', 'mcp-param-region', 'mcp-protocol-version']));
    expect((received[0] as Received).headers).toMatchObject(mcp);
  });

  it.each([
    ['a query string', '/prod/mcp?qualifier=DEFAULT'],
    ['an AgentCore runtime ARN, percent-encoded in the path', '/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmy_agent-abc/invocations?qualifier=DEFAULT'],
    ['a double slash in the path', '//prod//mcp'],
    ['repeated keys, an empty value and a literal +', '/prod/mcp?k=2&k=1&empty=&q=a+b%2Bc'],
  ])('signs %s', async (_what, pathAndQuery) => {
    await sendOk(client(credentialSource(KEY).source), post(pathAndQuery, CALL));
    expect(lastRecord().result).toMatchObject({ ok: true });
    // Nothing was re-encoded or decoded on the way: the server saw the path we signed.
    expect((received[0] as Received).url).toBe(pathAndQuery);
  });

  it('signs a GET without a body and a DELETE', async () => {
    const c = client(credentialSource(KEY).source);
    const headers = { accept: 'text/event-stream', 'mcp-session-id': 'sess-1', 'last-event-id': 'ev-7' };
    await sendOk(c, { method: 'GET', url: new URL('/prod/mcp', base), headers, body: undefined });
    await sendOk(c, { method: 'DELETE', url: new URL('/prod/mcp', base), headers: { 'mcp-session-id': 'sess-1' }, body: undefined });
    expect(records.map((r) => r.result.ok)).toEqual([true, true]);
    const get = records[0]?.result;
    expect(get?.ok && get.signedHeaders).toEqual(expect.arrayContaining(['last-event-id', 'mcp-session-id', 'accept']));
  });

  it('signs the session token of temporary credentials', async () => {
    await sendOk(client(credentialSource(TEMP_NEW).source), post('/prod/mcp', CALL));
    const result = lastRecord().result;
    expect(result).toMatchObject({ ok: true, accessKeyId: TEMP_NEW.accessKeyId });
    expect(result.ok && result.signedHeaders).toContain('x-amz-security-token');
    expect((received[0] as Received).headers['x-amz-security-token']).toBe(TEMP_NEW.sessionToken);
  });
});

describe('SigV4 signer when AWS says no', () => {
  async function rejection(c: HttpClient, req: OutgoingRequest = post('/prod/mcp', CALL)): Promise<ProxyError> {
    const err = await c.send(req).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProxyError);
    return err as ProxyError;
  }

  it('explains a wrong secret as a signature mismatch, without retrying or echoing the server', async () => {
    const err = await rejection(client(credentialSource({ ...KEY, secretAccessKey: 'wrong-secret' }).source));
    expect(err).toMatchObject({ code: 'ESP_AWS_SIGNATURE_MISMATCH', httpStatus: 403 });
    expect(records).toHaveLength(1);
    // The 403 body carried the canonical request (as API Gateway's does); none of it may surface.
    expect(records[0]?.result).toMatchObject({ ok: false, message: expect.stringContaining('Canonical String') });
    const visible = JSON.stringify([toJsonRpcError(err), err.message, err.hint, err]);
    for (const secretish of ['Canonical String', 'wrong-secret', KEY.accessKeyId, 'café', 'Signature=']) expect(visible).not.toContain(secretish);
  });

  it('explains a region the endpoint does not serve as a signature mismatch naming the region', async () => {
    const err = await rejection(client(credentialSource(KEY).source, { region: 'eu-central-1' }));
    expect(err.code).toBe('ESP_AWS_SIGNATURE_MISMATCH');
    expect(err.message).toContain('"eu-central-1"');
  });

  it.each([
    ['ahead', 20 * MINUTE],
    ['behind', -20 * MINUTE],
  ])('corrects a clock 20 minutes %s from the Date header and retries once', async (_dir, skew) => {
    const log = captureLog('info');
    const c = client(credentialSource(KEY).source, { now: () => Date.now() + skew, logger: log.logger });
    await sendOk(c, post('/prod/mcp', CALL));
    expect(records.map((r) => r.result.ok)).toEqual([false, true]);
    expect(records[0]?.result).toMatchObject({ errorType: 'InvalidSignatureException', message: expect.stringMatching(/^Signature (expired|not yet current)/) });
    // Every attempt is signed afresh.
    expect(records[1]?.amzDate).not.toBe(records[0]?.amzDate);
    // The correction sticks: the next request passes on its first attempt.
    await sendOk(c, post('/prod/mcp', CALL));
    expect(records.map((r) => r.result.ok)).toEqual([false, true, true]);
    const [warning] = log.warnings(/request time/);
    expect(Math.abs((warning?.clockOffsetSeconds as number) + skew / 1000)).toBeLessThanOrEqual(2);
    expect(log.raw()).not.toContain(KEY.secretAccessKey);
  });

  it('refreshes an expired session token once and retries with the new one', async () => {
    const creds = credentialSource(TEMP_OLD, TEMP_NEW);
    await sendOk(client(creds.source), post('/prod/mcp', CALL));
    expect(creds.forcedRefreshes()).toBe(1);
    expect(records.map((r) => r.result)).toMatchObject([
      { ok: false, errorType: 'ExpiredTokenException' },
      { ok: true, accessKeyId: TEMP_NEW.accessKeyId },
    ]);
  });

  it('gives up with ESP_AWS_EXPIRED_TOKEN when the refreshed token is expired too', async () => {
    const creds = credentialSource(TEMP_OLD);
    const err = await rejection(client(creds.source));
    expect(err).toMatchObject({ code: 'ESP_AWS_EXPIRED_TOKEN', httpStatus: 403 });
    expect(creds.forcedRefreshes()).toBe(1);
    expect(records).toHaveLength(2);
    expect(JSON.stringify(toJsonRpcError(err))).not.toContain(TEMP_OLD.sessionToken as string);
  });

  it('refreshes once on an unknown key, then explains it as an invalid token', async () => {
    const creds = credentialSource({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 's' });
    const err = await rejection(client(creds.source));
    expect(err.code).toBe('ESP_AWS_INVALID_TOKEN');
    expect(creds.forcedRefreshes()).toBe(1);
    expect(records).toHaveLength(2);
  });
});

describe('SigV4 signer, unit', () => {
  const ctx = (attempt = 1, now = Date.now()): SignContext => ({ now: () => now, attempt, logger: createLogger('silent') });
  const failure = (headers: Record<string, string>, body: object) => ({ status: 403, headers, bodyText: JSON.stringify(body) });

  it('returns a new request, replacing a stale signature and keeping unsigned headers', async () => {
    const signer = createSigV4Signer({ service: SERVICE, region: REGION, credentials: credentialSource(KEY).source });
    const req: OutgoingRequest = {
      method: 'POST',
      url: new URL('https://abc.execute-api.us-west-2.amazonaws.com/prod/mcp'),
      headers: { 'content-type': 'application/json', authorization: 'Bearer stale', 'x-amz-date': '20000101T000000Z', 'user-agent': 'ua' },
      body: Buffer.from('{}'),
    };
    const signed = await signer.sign(req, ctx(1, Date.parse('2024-05-01T10:00:00Z')));
    expect(req.headers.authorization).toBe('Bearer stale');
    expect(signed.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/20240501\/us-west-2\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(signed.headers['x-amz-date']).toBe('20240501T100000Z');
    expect(signed.headers['user-agent']).toBe('ua');
    expect(signed.headers.host).toBeUndefined();
    expect(signed.headers['x-amz-security-token']).toBeUndefined();
  });

  it('treats a bare "Forbidden" with a far-off Date as clock skew (Lambda function URLs)', async () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    const lambdaSigner = () => createSigV4Signer({ service: 'lambda', region: REGION, credentials: credentialSource(KEY).source });
    const forbidden = failure({ 'x-amzn-errortype': 'AccessDeniedException', date: new Date(now - 10 * MINUTE).toUTCString() }, { Message: 'Forbidden' });
    expect(await lambdaSigner().onAuthFailure?.(forbidden, ctx(1, now))).toEqual({ retry: true });
    const inSync = failure({ 'x-amzn-errortype': 'AccessDeniedException', date: new Date(now).toUTCString() }, { Message: 'Forbidden' });
    const verdict = await lambdaSigner().onAuthFailure?.(inSync, ctx(1, now));
    expect(verdict).toMatchObject({ retry: false, error: { code: 'ESP_AWS_ACCESS_DENIED' } });
    expect(verdict?.error?.hint).toContain('lambda:InvokeFunctionUrl');
  });

  it('does not retry a skew rejection a second time', async () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    const signer = createSigV4Signer({ service: SERVICE, region: REGION, credentials: credentialSource(KEY).source });
    const skewed = failure({ 'x-amzn-errortype': 'InvalidSignatureException', date: new Date(now).toUTCString() }, { message: 'Signature expired: 20240501T093000Z is now earlier than …' });
    expect(await signer.onAuthFailure?.(skewed, ctx(2, now))).toMatchObject({ retry: false, error: { code: 'ESP_AWS_CLOCK_SKEW' } });
  });

  it('explains Missing Authentication Token without retrying', async () => {
    const signer = createSigV4Signer({ service: SERVICE, region: REGION, credentials: credentialSource(KEY).source });
    const missing = failure({ 'x-amzn-errortype': 'MissingAuthenticationTokenException' }, { message: 'Missing Authentication Token' });
    expect(await signer.onAuthFailure?.(missing, ctx())).toMatchObject({ retry: false, error: { code: 'ESP_AWS_MISSING_AUTH', httpStatus: 403 } });
  });

  it('a rejection names where the credentials it signed with came from', async () => {
    const origin = { label: 'static keys of profile "dev"', renew: 'aws configure --profile dev' };
    const signer = createSigV4Signer({ service: SERVICE, region: REGION, credentials: credentialSource({ ...KEY, origin }).source });
    await signer.sign(post('/prod/mcp', CALL), ctx());
    const mismatch = failure({ 'x-amzn-errortype': 'InvalidSignatureException' }, { message: 'The request signature we calculated does not match the signature you provided.' });
    const verdict = await signer.onAuthFailure?.(mismatch, ctx());
    expect(verdict?.error?.message).toContain('signed with credentials from the static keys of profile "dev"');
  });

  it('leaves failures it does not recognise to the attempt loop', async () => {
    const signer = createSigV4Signer({ service: SERVICE, region: REGION, credentials: credentialSource(KEY).source });
    expect(await signer.onAuthFailure?.({ status: 401, headers: {}, bodyText: 'nope' }, ctx())).toBeUndefined();
  });
});
