import { registerSecret } from '../logging/safe-url.js';
import { awsAuthError, classifyAwsAuthError, serverClockOffset, type AwsAuthErrorKind } from './aws-errors.js';
import type { CredentialSource, OutgoingRequest, Signer, SignerVerdict } from './signer.js';
import { signRequest } from './sigv4/sign-request.js';
import { createSigningKeyCache } from './sigv4/signing-key.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  /** Where they came from, in words, for error messages (never secret). */
  origin?: { readonly label: string; readonly renew: string };
}

export interface SigV4SignerOptions {
  /** Signing name: execute-api, lambda, bedrock-agentcore … (README "AWS"). */
  service: string;
  region: string;
  /** Memoised; asked on every sign and forced to refresh when AWS rejects a token. */
  credentials: CredentialSource<AwsCredentials>;
}

/**
 * Headers left out of the signature because something between us and AWS may add, drop or
 * rewrite them: hop-by-hop headers, headers undici adds or recomputes (content-length is
 * the byte length undici computes; signing it broke non-ASCII bodies), and proxy headers
 * (see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). They still travel, unsigned.
 */
const UNSIGNED_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'user-agent',
  'accept-encoding',
  'accept-language',
  'via',
]);
const UNSIGNED_PREFIXES = ['proxy-', 'x-forwarded-'] as const;

/** Headers this signer produces; a stale copy on the input is replaced, never signed. */
const SIGNATURE_HEADERS = ['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'authorization'] as const;
const SIGNATURE_HEADER_SET: ReadonlySet<string> = new Set(SIGNATURE_HEADERS);

/** API Gateway's window; the AWS SDKs use the same threshold to suspect skew. */
const SKEW_SUSPECT_MS = 5 * 60_000;

/** Each SigV4 signer's credential source, for --check (sigV4CredentialsOf). */
const sources = new WeakMap<Signer, CredentialSource<AwsCredentials>>();

/**
 * The credentials a SigV4 signer of the chain signs with: `--check` asks STS who they are
 * with these rather than building its own chain, so an assumed role is assumed once.
 */
export function sigV4CredentialsOf(signer: Signer): CredentialSource<AwsCredentials> | undefined {
  return sources.get(signer);
}

/**
 * AWS Signature Version 4 (src/signers/sigv4/). Runs last in the chain so it covers
 * every header added before it, and on every attempt so each gets a fresh date and
 * credentials.
 */
export function createSigV4Signer(opts: SigV4SignerOptions): Signer {
  const { service, region, credentials } = opts;
  /** The credentials of the latest signature, so a rejection can name where they came from. */
  let lastUsed: AwsCredentials | undefined;
  // Derived signing keys per day/region/service, for this signer's lifetime.
  const signingKey = createSigningKeyCache();
  /** Server time minus local time, learned from a skew rejection's Date header. */
  let clockOffsetMs = 0;

  const signer: Signer = {
    name: 'sigv4',

    identity() {
      // The key id's last 4 characters, as the AWS console shows keys; never the whole id.
      return lastUsed && { accessKeyId: `…${lastUsed.accessKeyId.slice(-4)}` };
    },

    async sign(req, ctx) {
      // Asked on every sign: the source caches, and refreshes ahead of expiry.
      const current = await credentials();
      if (typeof current?.accessKeyId !== 'string' || typeof current.secretAccessKey !== 'string') {
        throw new Error('Resolved credential object is not valid');
      }
      // Known only once fetched (and again after each refresh); registering a known value is
      // a lookup in a small list.
      registerSecret(current.secretAccessKey, 'aws-secret-access-key');
      registerSecret(current.sessionToken, 'aws-session-token');
      lastUsed = current;
      const signed = signRequest(toSignable(req), current, {
        service,
        region,
        date: new Date(ctx.now() + clockOffsetMs),
        // Sends and signs x-amz-content-sha256; never UNSIGNED-PAYLOAD (Lambda does not support unsigned payloads).
        contentSha256Header: true,
        signingKey,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!SIGNATURE_HEADER_SET.has(name)) headers[name] = value;
      }
      for (const name of SIGNATURE_HEADERS) {
        const value = signed.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      return { ...req, headers };
    },

    async onAuthFailure(failure, ctx): Promise<SignerVerdict | undefined> {
      const observedOffset = serverClockOffset(failure.headers, ctx.now());
      let kind: AwsAuthErrorKind | undefined = classifyAwsAuthError(failure);
      // A vague rejection with a far-off Date is treated as skew, as the AWS SDKs do for
      // AccessDeniedException / SignatureDoesNotMatch: Lambda function URLs answer
      // IAM failures with a bare "Forbidden", so the Date is the only hint.
      if (
        (kind === undefined || kind === 'signature-mismatch' || kind === 'access-denied') &&
        observedOffset !== undefined &&
        Math.abs(observedOffset - clockOffsetMs) >= SKEW_SUSPECT_MS
      ) {
        kind = 'clock-skew';
      }
      if (kind === undefined) return undefined;

      const firstAttempt = ctx.attempt === 1;
      if (kind === 'clock-skew' && observedOffset !== undefined) {
        clockOffsetMs = observedOffset;
        ctx.logger.warn({ clockOffsetSeconds: Math.round(observedOffset / 1000) }, 'AWS rejected the request time; signing with the server clock from now on');
        if (firstAttempt) return { retry: true };
      }
      if ((kind === 'expired-token' || kind === 'invalid-token') && firstAttempt) {
        await credentials({ forceRefresh: true });
        return { retry: true };
      }
      return {
        retry: false,
        error: awsAuthError(kind, { status: failure.status, service, region, credentials: lastUsed?.origin, clockOffsetMs: kind === 'clock-skew' ? observedOffset : undefined }),
      };
    },
  };
  sources.set(signer, credentials);
  return signer;
}

/**
 * What gets signed of an outgoing request. `host` is `URL.host` (with a non-default port:
 * undici sends it that way and ignores a Host we set); the path is the pathname exactly
 * as it goes on the wire (the canonical URI encodes it once more) and the query goes
 * separately — a `?` inside the path would be escaped and the signature never match.
 * Non-S3 services double-encode the path: `%3A` in an AgentCore ARN is signed as `%253A`.
 */
function toSignable(req: OutgoingRequest): Parameters<typeof signRequest>[0] {
  const headers: Record<string, string> = { host: req.url.host };
  for (const [name, value] of Object.entries(req.headers)) {
    if (isSignable(name)) headers[name] = value;
  }
  return { method: req.method, path: req.url.pathname, search: req.url.search, headers, body: req.body };
}

function isSignable(name: string): boolean {
  return (
    name !== 'host' &&
    !SIGNATURE_HEADER_SET.has(name) &&
    !UNSIGNED_HEADERS.has(name) &&
    !UNSIGNED_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}
