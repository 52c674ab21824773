/**
 * Our SigV4 signer against @smithy/signature-v4 (a dev dependency, the implementation it
 * replaced) on generated requests: every header the two produce must be identical, byte
 * for byte. The reference is the former mapping onto smithy, kept here verbatim: the
 * signable headers plus Host, the wire pathname double-encoded (uriEscapePath), the query
 * percent-decoded, x-amz-content-sha256 sent (applyChecksum).
 */
import { randomBytes } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createSigV4Signer, type AwsCredentials } from '../../src/signers/sigv4.js';
import type { OutgoingRequest } from '../../src/signers/signer.js';
import { verifySigV4 } from '../helpers/sigv4-verifier.js';

const UNSIGNED = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'user-agent', 'accept-encoding', 'accept-language', 'via']);
const PRODUCED = ['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'authorization'];

function referenceQuery(search: string): Record<string, string | string[]> {
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const query: Record<string, string | string[]> = Object.create(null);
  if (search.length <= 1) return query;
  for (const pair of search.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const previous = query[name];
    if (previous === undefined) query[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else query[name] = [previous, value];
  }
  return query;
}

async function referenceSign(req: OutgoingRequest, creds: AwsCredentials, service: string, region: string, now: number): Promise<Record<string, string>> {
  const smithy = new SignatureV4({ service, region, credentials: creds, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: true });
  const headers: Record<string, string> = { host: req.url.host };
  for (const [name, value] of Object.entries(req.headers)) {
    const signable = name !== 'host' && !PRODUCED.includes(name) && !UNSIGNED.has(name) && !name.startsWith('proxy-') && !name.startsWith('x-forwarded-');
    if (signable) headers[name] = value;
  }
  const signed = await smithy.sign(
    new HttpRequest({ method: req.method, protocol: req.url.protocol, hostname: req.url.hostname, path: req.url.pathname, query: referenceQuery(req.url.search), headers, body: req.body }),
    { signingDate: new Date(now) },
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (!PRODUCED.includes(name)) out[name] = value;
  for (const name of PRODUCED) if (signed.headers[name] !== undefined) out[name] = signed.headers[name] as string;
  return out;
}

/** A small seeded generator (mulberry32), so a failure is reproducible. */
function rng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] as never };
}

const SEGMENTS = ['mcp', 'a b', 'ü', '日本語', '%3A', '%2F', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-1', '.', '..', '', "!'()*", '~_-.', '+', '%zz', 'invocations', '😀', 'a%20b', '$&,;=@'];
const QUERY_NAMES = ['a', 'A', 'b', 'qualifier', 'X-Amz-Signature', 'ü', 'a%20b', '+', '%2B', 'x', '%zz', '日'];
const QUERY_VALUES = ['', '1', 'a b', '+', '%2B', '%20', 'ü', '=', '/', '%zz', 'DEFAULT', '*', '~'];
const HOSTS = ['abc123.execute-api.eu-west-1.amazonaws.com', 'x.lambda-url.us-east-1.on.aws', '127.0.0.1:8443', 'bedrock-agentcore.us-east-1.amazonaws.com'];
const HEADER_VALUES = ['application/json', 'application/json, text/event-stream', '  padded  ', 'a\tb   c', 'ü-value', '2025-11-25', '', 'a,b, c', 'tools/call'];
const OPTIONAL_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'x-custom', 'date', 'user-agent', 'content-length', 'x-forwarded-for', 'proxy-authorization', 'sec-fetch-mode', 'cache-control', 'x-amz-target', 'x-amz-date', 'authorization', 'x-amz-content-sha256', 'x-amz-security-token', 'expect', 'x-amzn-trace-id', 'via', 'referer', 'te', 'last-event-id'];

function generate(r: ReturnType<typeof rng>): { req: OutgoingRequest; creds: AwsCredentials; service: string; region: string; now: number } {
  const path = '/' + Array.from({ length: r.int(5) }, () => r.pick(SEGMENTS)).join('/') + (r.int(3) === 0 ? '/' : '');
  const pairs = Array.from({ length: r.int(6) }, () => {
    const kind = r.int(6);
    if (kind === 0) return r.pick(QUERY_NAMES);
    if (kind === 1) return '';
    return `${r.pick(QUERY_NAMES)}=${r.pick(QUERY_VALUES)}`;
  });
  const search = pairs.length === 0 ? '' : `?${pairs.join('&')}`;
  const url = new URL(`https://${r.pick(HOSTS)}${path}${search}`);
  const headers: Record<string, string> = {};
  for (const name of OPTIONAL_HEADERS) if (r.int(3) === 0) headers[name] = r.pick(HEADER_VALUES);
  // Mcp-Session-Id values are often base64 with +, / and =.
  if (r.int(2) === 0) headers['mcp-session-id'] = randomBytes(1 + r.int(40)).toString('base64');
  const bodies = [undefined, new Uint8Array(), Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"text":"grüße 😀"}}'), randomBytes(r.int(300))];
  const body = r.pick(bodies);
  const creds: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: randomBytes(30).toString('base64'), ...(r.int(2) === 0 ? { sessionToken: randomBytes(60).toString('base64') } : {}) };
  return {
    req: { method: r.pick(['GET', 'POST', 'DELETE'] as const), url, headers, body },
    creds,
    service: r.pick(['execute-api', 'lambda', 'bedrock-agentcore']),
    region: r.pick(['us-east-1', 'eu-west-1', 'ap-southeast-2']),
    now: Date.UTC(2020, 0, 1) + r.int(10 * 365 * 86_400_000),
  };
}

describe('SigV4 signer: identical to @smithy/signature-v4', () => {
  it('on 1000 generated requests (paths, queries, headers, bodies, tokens)', async () => {
    const r = rng(20251125);
    const logger = createLogger('silent');
    for (let i = 0; i < 1000; i++) {
      const { req, creds, service, region, now } = generate(r);
      const ours = await createSigV4Signer({ service, region, credentials: async () => creds }).sign(req, { now: () => now, attempt: 1, logger });
      const reference = await referenceSign(req, creds, service, region, now);
      expect({ i, url: req.url.href, headers: ours.headers }).toEqual({ i, url: req.url.href, headers: reference });
      expect(ours.body).toBe(req.body);
      expect(ours.url).toBe(req.url);
    }
  });

  it('one signer over many dates and credentials (its key cache never serves a stale key)', async () => {
    const r = rng(7);
    const logger = createLogger('silent');
    let creds: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'first' };
    const signer = createSigV4Signer({ service: 'execute-api', region: 'eu-west-1', credentials: async () => creds });
    for (let i = 0; i < 300; i++) {
      if (r.int(4) === 0) creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: randomBytes(20).toString('hex') };
      const now = Date.UTC(2026, 0, 1) + r.int(40) * 86_400_000 + r.int(86_400_000);
      const { req } = generate(r);
      const ours = await signer.sign(req, { now: () => now, attempt: 1, logger });
      expect(ours.headers).toEqual(await referenceSign(req, creds, 'execute-api', 'eu-west-1', now));
    }
  });

  // smithy serialises a `__proto__` parameter as "[object Object]" (its canonical query is
  // a plain object), a signature AWS would never accept; ours signs it as a parameter.
  it('a query parameter named __proto__ is signed as a parameter (checked by the independent verifier)', async () => {
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/mcp?__proto__=1&a=2');
    const now = Date.UTC(2026, 0, 1);
    const signer = createSigV4Signer({ service: 'execute-api', region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }) });
    const signed = await signer.sign({ method: 'GET', url, headers: { accept: 'application/json' }, body: undefined }, { now: () => now, attempt: 1, logger: createLogger('silent') });
    const verdict = verifySigV4(
      { method: 'GET', rawPath: url.pathname + url.search, headers: { ...signed.headers, host: url.host }, body: Buffer.alloc(0) },
      { credentials: () => ({ secretAccessKey: 'secret' }), service: 'execute-api', region: 'eu-west-1', now, normalizePath: true },
    );
    expect(verdict).toMatchObject({ ok: true });
  });
});
