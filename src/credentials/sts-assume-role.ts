import { CredentialError } from '../errors.js';
import { uriEncode } from '../signers/sigv4/canonical.js';
import { signRequest, type SigningCredentials } from '../signers/sigv4/sign-request.js';
import { createSigningKeyCache } from '../signers/sigv4/signing-key.js';
import type { StsPost } from './sts-http.js';

export interface AssumeRoleParams {
  readonly RoleArn: string;
  readonly RoleSessionName: string;
  readonly DurationSeconds: number;
  readonly ExternalId?: string | undefined;
}

export interface AssumedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface AssumeRoleOptions {
  readonly endpoint: URL;
  /** Signing region (the STS region). */
  readonly region: string;
  /** The caller's credentials, asked before each attempt. */
  readonly credentials: () => Promise<SigningCredentials>;
  readonly post: StsPost;
  /** Attempts per call; default 3, the AWS SDK's standard retry strategy. */
  readonly maxAttempts?: number | undefined;
  /** Waits between attempts; replaced in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Failures the SDK's standard retry strategy retries: transient network, 5xx, throttling. */
const RETRY_CODES: ReadonlySet<string> = new Set([
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException',
  'RequestLimitExceeded', 'BandwidthLimitExceeded', 'LimitExceededException', 'RequestThrottled', 'SlowDown',
  'PriorRequestNotComplete', 'EC2ThrottledException', 'ProvisionedThroughputExceededException', 'TransactionInProgressException',
]);
const RETRY_STATUS: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

const signingKey = createSigningKeyCache();

/** XML text content: the five predefined entities and character references. */
function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, ref: string) => {
    if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[ref.toLowerCase()] as string;
  });
}

/**
 * The text between the first `open` that has a `close` after it and that `close`. With
 * indexOf, not a lazy regex: that is tried from every opening again, quadratic on an answer
 * of many unclosed ones.
 */
function between(xml: string, open: string, close: string): string | undefined {
  const start = xml.indexOf(open);
  if (start === -1) return undefined;
  const end = xml.indexOf(close, start + open.length);
  return end === -1 ? undefined : xml.slice(start + open.length, end);
}

// A regex is fine here: `[^<]*` stops at the next `<`, so each opening is scanned once.
function element(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m === null ? undefined : xmlText(m[1] as string);
}

/**
 * An STS error as the SDK raises it: `name` is the error `<Code>`, `message` its `<Message>`
 * (what src/credentials/credential-errors.ts classifies; neither is shown as is).
 */
function stsError(status: number, xml: string): Error {
  const code = element(xml, 'Code') ?? (status === 404 ? 'NotFound' : 'UnknownError');
  return Object.assign(new Error(element(xml, 'Message') ?? `STS answered HTTP ${status}`), { name: code, $metadata: { httpStatusCode: status } });
}

function invalidResponse(roleArn: string): Error {
  return Object.assign(new Error(`Invalid response from STS.assumeRole call with role ${roleArn}`), { name: 'CredentialsProviderError' });
}

/** The form body of the Query API call (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). */
function formBody(params: AssumeRoleParams): string {
  const fields: Array<[string, string]> = [
    ['Action', 'AssumeRole'],
    ['Version', '2011-06-15'],
    ['RoleArn', params.RoleArn],
    ['RoleSessionName', params.RoleSessionName],
    ['DurationSeconds', String(params.DurationSeconds)],
  ];
  if (params.ExternalId !== undefined) fields.push(['ExternalId', params.ExternalId]);
  return fields.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * STS AssumeRole as one signed Query API POST: what the SDK's STS client does for
 * fromTemporaryCredentials, without loading it. Retried as the SDK's standard strategy
 * does (up to 3 attempts, exponential backoff with full jitter).
 */
export async function assumeRole(params: AssumeRoleParams, opts: AssumeRoleOptions): Promise<AssumedCredentials> {
  const body = formBody(params);
  const maxAttempts = opts.maxAttempts ?? 3;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    let retryable: boolean;
    let failure: unknown;
    try {
      const credentials = await opts.credentials();
      const headers = { host: opts.endpoint.host, 'content-type': 'application/x-www-form-urlencoded' };
      const signed = signRequest(
        { method: 'POST', path: opts.endpoint.pathname, search: '', headers, body },
        credentials,
        { service: 'sts', region: opts.region, date: new Date(), contentSha256Header: true, signingKey },
      );
      const res = await opts.post(opts.endpoint, { ...headers, ...signed.headers }, body);
      if (res.status >= 200 && res.status < 300) return parseCredentials(res.body, params.RoleArn);
      failure = stsError(res.status, res.body);
      retryable = RETRY_STATUS.has(res.status) || RETRY_CODES.has((failure as Error).name);
    } catch (err) {
      // The source chain's own failure (no credentials …) is final, as in the SDK.
      if (err instanceof CredentialError) throw err;
      const code = (err as { code?: unknown } | null)?.code ?? (err as { name?: unknown } | null)?.name;
      if (typeof code !== 'string' || !RETRY_CODES.has(code)) throw err;
      failure = err;
      retryable = true;
    }
    if (!retryable || attempt >= maxAttempts) throw failure;
    await sleep(Math.floor(Math.random() * Math.min(20_000, 100 * 2 ** attempt)));
  }
}

function parseCredentials(xml: string, roleArn: string): AssumedCredentials {
  const block = between(xml, '<Credentials>', '</Credentials>') ?? '';
  const accessKeyId = element(block, 'AccessKeyId');
  const secretAccessKey = element(block, 'SecretAccessKey');
  const sessionToken = element(block, 'SessionToken');
  const expiration = element(block, 'Expiration');
  if (!accessKeyId || !secretAccessKey || sessionToken === undefined || expiration === undefined || Number.isNaN(Date.parse(expiration))) {
    throw invalidResponse(roleArn);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) };
}
