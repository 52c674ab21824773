import { createHash } from 'node:crypto';
import { canonicalHeaders, canonicalPath, canonicalQuery } from './canonical.js';
import { hmac, type SigningKeyFor } from './signing-key.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface RequestToSign {
  readonly method: string;
  /** Pathname as it goes on the wire; encoded once more for the canonical URI. */
  readonly path: string;
  /** `URL.search` (or the query without `?`). */
  readonly search: string;
  /** Every header to sign, `host` included; x-amz-date, date and authorization are replaced. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string | undefined;
}

export interface SignOptions {
  readonly service: string;
  readonly region: string;
  /** The signing time (the request's X-Amz-Date). */
  readonly date: Date;
  /** Sends and signs x-amz-content-sha256 (Lambda needs it; never UNSIGNED-PAYLOAD). */
  readonly contentSha256Header: boolean;
  readonly signingKey: SigningKeyFor;
}

export interface SignedParts {
  /** The headers the signature adds: x-amz-date, [x-amz-content-sha256], [x-amz-security-token], authorization. */
  readonly headers: Readonly<Record<string, string>>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
}

/** Headers the signature itself produces: a copy on the input is dropped, never signed. */
const REPLACED = new Set(['authorization', 'x-amz-date', 'date']);

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `20150830T123600Z` for a Date (whole seconds, UTC). */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Signs one request with AWS Signature Version 4 in the Authorization header
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 * The session token is signed (x-amz-security-token), and so is the payload hash when it
 * is sent.
 */
export function signRequest(req: RequestToSign, credentials: SigningCredentials, opts: SignOptions): SignedParts {
  const longDate = amzDate(opts.date);
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${opts.region}/${opts.service}/aws4_request`;

  const headers: Record<string, string> = Object.create(null);
  let givenPayloadHash: string | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    if (REPLACED.has(lower)) continue;
    if (lower === 'x-amz-content-sha256') givenPayloadHash ??= value;
    headers[name] = value;
  }
  const added: Record<string, string> = { 'x-amz-date': longDate };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;
  const payloadHash = givenPayloadHash ?? (req.body === undefined ? EMPTY_SHA256 : sha256Hex(req.body));
  if (givenPayloadHash === undefined && opts.contentSha256Header) added['x-amz-content-sha256'] = payloadHash;
  Object.assign(headers, added);

  const canonical = canonicalHeaders(headers);
  const signedHeaders = canonical.names.join(';');
  const canonicalRequest = `${req.method}\n${canonicalPath(req.path)}\n${canonicalQuery(req.search)}\n${canonical.lines}\n\n${signedHeaders}\n${payloadHash}`;
  const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = opts.signingKey(credentials.secretAccessKey, shortDate, opts.region, opts.service);
  const signature = hmac(key, stringToSign).toString('hex');
  added.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers: added, canonicalRequest, stringToSign, signature };
}
