/**
 * An independent AWS Signature Version 4 verifier, written from the published algorithm
 * ("Create a signed AWS API request", AWS IAM user guide) with node:crypto only, so it
 * shares no code with the signer under test. It answers like API
 * Gateway: a 403 with an `x-amzn-ErrorType` and the same message texts (README "Reading
 * the error messages"). Validated against the AWS test-suite vectors in test/unit/sigv4-vectors.test.ts.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SCOPE_TERMINATOR = 'aws4_request';

/** A request as the server received it. */
export interface SigV4WireRequest {
  method: string;
  /** Path and query exactly as received (`req.url`), never decoded. */
  rawPath: string;
  /** Lower-cased names; repeated headers as arrays (see `headersFromRaw`). */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VerifierCredential {
  secretAccessKey: string;
  sessionToken?: string;
  /** Answer "The security token included in the request is expired" for this key. */
  expired?: boolean;
}

export interface VerifyOptions {
  credentials: (accessKeyId: string) => VerifierCredential | undefined;
  service: string;
  region: string;
  /** Server clock (ms since epoch); defaults to Date.now(). */
  now?: number;
  /** Allowed clock difference; API Gateway allows 5 minutes. */
  maxSkewMs?: number;
  /** false: S3-style canonical URI (no dot-segment removal, single encoding). */
  normalizePath?: boolean;
}

export type VerifyResult =
  | { ok: true; accessKeyId: string; signedHeaders: string[]; amzDate: string }
  | { ok: false; status: 403; errorType: string; message: string };

const DEFAULT_MAX_SKEW_MS = 5 * 60_000;

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export function verifySigV4(req: SigV4WireRequest, opts: VerifyOptions): VerifyResult {
  const now = opts.now ?? Date.now();
  const authorization = headerValue(req.headers, 'authorization');
  if (authorization === undefined) return deny('MissingAuthenticationTokenException', 'Missing Authentication Token');

  const auth = parseAuthorization(authorization);
  if (typeof auth === 'string') return deny('IncompleteSignatureException', auth);
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = auth.credential.split('/');
  if (accessKeyId === undefined || scopeDate === undefined || scopeRegion === undefined || scopeService === undefined || terminator !== SCOPE_TERMINATOR) {
    return deny('IncompleteSignatureException', `Credential should be of the form AKID/YYYYMMDD/region/service/${SCOPE_TERMINATOR}.`);
  }

  const amzDate = headerValue(req.headers, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined) {
    return deny('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    return deny('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  if (scopeRegion !== opts.region) return deny('InvalidSignatureException', 'Credential should be scoped to a valid region.');
  if (scopeService !== opts.service) return deny('InvalidSignatureException', `Credential should be scoped to correct service: '${opts.service}'.`);

  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const minutes = `${Math.round(maxSkew / 60_000)} min.`;
  if (signedAt < now - maxSkew) {
    return deny('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - maxSkew)} (${formatAmzDate(now)} - ${minutes})`);
  }
  if (signedAt > now + maxSkew) {
    return deny('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + maxSkew)} (${formatAmzDate(now)} + ${minutes})`);
  }

  if (!auth.signedHeaders.includes('host')) {
    return deny('IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const credential = opts.credentials(accessKeyId);
  if (credential === undefined || credential.sessionToken !== headerValue(req.headers, 'x-amz-security-token')) {
    return deny('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (credential.expired) return deny('ExpiredTokenException', 'The security token included in the request is expired');

  const missing = auth.signedHeaders.find((name) => req.headers[name] === undefined);
  if (missing !== undefined) return deny('InvalidSignatureException', `${MISMATCH} (signed header '${missing}' is not on the request)`);

  const payloadHash = sha256Hex(req.body);
  const declaredHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== payloadHash) {
    return deny('InvalidSignatureException', `${MISMATCH} (x-amz-content-sha256 is not the SHA-256 of the body)`);
  }

  const creq = canonicalRequest(
    { method: req.method, rawPath: req.rawPath, headers: req.headers, signedHeaders: auth.signedHeaders, payloadHash },
    { normalizePath: opts.normalizePath ?? true },
  );
  const sts = stringToSign(amzDate, `${scopeDate}/${scopeRegion}/${scopeService}/${SCOPE_TERMINATOR}`, creq);
  const expected = signature(credential.secretAccessKey, { date: scopeDate, region: scopeRegion, service: scopeService }, sts);
  if (!sameHex(expected, auth.signature)) {
    // API Gateway includes both strings in the message, which is why the proxy must never
    // forward an error body.
    return deny('InvalidSignatureException', `${MISMATCH}\n\nThe Canonical String for this request should have been\n'${creq}'\n\nThe String-to-Sign should have been\n'${sts}'\n`);
  }
  return { ok: true, accessKeyId, signedHeaders: auth.signedHeaders, amzDate };
}

// ---------------------------------------------------------------------------------------
// The algorithm, stage by stage (exported so the vectors can check each stage).

export interface CanonicalRequestInput {
  method: string;
  rawPath: string;
  headers: IncomingHttpHeaders;
  /** Lower-cased, in the order of the Authorization header (sorted here anyway). */
  signedHeaders: readonly string[];
  payloadHash: string;
}

/** Method, URI, query, headers, signed-header list and payload hash, newline-separated. */
export function canonicalRequest(input: CanonicalRequestInput, opts: { normalizePath?: boolean } = {}): string {
  const q = input.rawPath.indexOf('?');
  const path = q === -1 ? input.rawPath : input.rawPath.slice(0, q);
  const query = q === -1 ? '' : input.rawPath.slice(q + 1);
  const names = [...input.signedHeaders].sort();
  const headerLines = names.map((name) => `${name}:${canonicalHeaderValue(input.headers[name] ?? '')}\n`).join('');
  return [
    input.method.toUpperCase(),
    canonicalUri(path, opts.normalizePath ?? true),
    canonicalQuery(query),
    headerLines,
    names.join(';'),
    input.payloadHash,
  ].join('\n');
}

/**
 * Non-S3 services: remove `.`, `..` and empty segments (RFC 3986 section 5.2.4 plus AWS's
 * empty-segment rule) and URI-encode each segment of the path *as received* once more,
 * so `%3A` becomes `%253A`. S3-style (normalize false): segments kept, encoded once.
 */
export function canonicalUri(path: string, normalize: boolean): string {
  if (!normalize) return path.split('/').map((segment) => uriEncode(percentDecode(segment))).join('/');
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(uriEncode(segment));
  }
  const trailingSlash = kept.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${kept.join('/')}${trailingSlash}`;
}

/**
 * Each name and value percent-decoded (a `+` is a literal plus, not a space), encoded
 * again, and the pairs sorted by name then value.
 */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [uriEncode(percentDecode(name)), uriEncode(percentDecode(value))] as const;
    });
  pairs.sort(([n1, v1], [n2, v2]) => compare(n1, n2) || compare(v1, v2));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** Values of a repeated header joined by commas, each trimmed with inner runs of whitespace collapsed. */
export function canonicalHeaderValue(value: string | readonly string[]): string {
  const values = typeof value === 'string' ? [value] : value;
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(Buffer.from(canonical, 'utf8'))].join('\n');
}

/** HMAC chain "AWS4"+secret → date → region → service → aws4_request, then HMAC of the string to sign. */
export function signature(secretAccessKey: string, scope: { date: string; region: string; service: string }, sts: string): string {
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of [scope.date, scope.region, scope.service, SCOPE_TERMINATOR]) key = hmac(key, part);
  return hmac(key, sts).toString('hex');
}

/** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX (upper case). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Node's parsed headers join repeats with ", "; SigV4 needs each value, so rebuild from rawHeaders. */
export function headersFromRaw(rawHeaders: readonly string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return headers;
}

// ---------------------------------------------------------------------------------------

interface ParsedAuthorization {
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; a string is the error. */
function parseAuthorization(value: string): ParsedAuthorization | string {
  const prefix = `${ALGORITHM} `;
  if (!value.startsWith(prefix)) return `Authorization header must use the ${ALGORITHM} algorithm.`;
  const params = new Map<string, string>();
  for (const part of value.slice(prefix.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) return 'Invalid key=value pair (missing equal-sign) in Authorization header.';
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !params.get(name));
  if (missing.length > 0) return missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ');
  return {
    credential: params.get('Credential') as string,
    signedHeaders: (params.get('SignedHeaders') as string).split(';'),
    signature: params.get('Signature') as string,
  };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `YYYYMMDD'T'HHMMSS'Z'` → ms since epoch. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Byte order, which for encoded ASCII strings is code-unit order. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function deny(errorType: string, message: string): VerifyResult {
  return { ok: false, status: 403, errorType, message };
}
