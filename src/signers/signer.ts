import type { Logger } from '../logging/logger.js';
import type { ProxyError } from '../errors.js';

/**
 * One HTTP request as the signers see it. Immutable: a signer returns a new value
 * (smithy's HttpBearerAuthSigner clones the same way), so a retry starts from the
 * unsigned original and every attempt is signed afresh.
 */
export interface OutgoingRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: URL;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Exact bytes that go on the wire (SigV4 hashes these). */
  readonly body: Uint8Array | undefined;
}

export interface SignContext {
  /** Wall clock (injectable for tests); signers apply their own corrections (clock skew). */
  now(): number;
  /** 1 for the first attempt of a request, 2 for its retry. */
  readonly attempt: number;
  readonly logger: Logger;
}

/** What the attempt loop tells a signer about a 401/403 answer. */
export interface AuthFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Start of the response body (at most 8 KiB), for classification only: never forwarded. */
  readonly bodyText: string;
}

export interface SignerVerdict {
  /** Sign and send once more (after a credential refresh, a clock-skew correction …). */
  retry: boolean;
  /** A precise, client-safe explanation when the signer recognises the failure. */
  error?: ProxyError;
}

/**
 * Attaches credentials to a request. Runs on every attempt, in chain order; SigV4 runs
 * last because it must cover every header added before it (docs/architecture.md, "Layers").
 */
export interface Signer {
  readonly name: string;
  sign(req: OutgoingRequest, ctx: SignContext): Promise<OutgoingRequest>;
  /** Called on 401/403; may ask for one retry or explain the failure. */
  onAuthFailure?(failure: AuthFailure, ctx: SignContext): Promise<SignerVerdict | undefined>;
  /**
   * Who the requests are signed as, for the audit log: facts that identify the credential
   * without revealing it (a hash prefix, the last characters of a key id). Undefined when
   * not known yet.
   */
  identity?(): Readonly<Record<string, string>> | undefined;
  /**
   * For `--check`: what the current credential is (issuer, audience, scopes, expiry), never
   * the credential. Undefined until one has been obtained.
   */
  credentialFacts?(): Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /**
   * For `--check`, when credentialFacts() has none: why no credential can be had, with its
   * fix (e.g. "run: mcp-signing-proxy login …"). Looks, never prompts or opens a browser.
   */
  credentialProblem?(): Promise<ProxyError | undefined>;
}

/**
 * A memoised source of credentials: refreshed ahead of expiry, concurrent calls coalesced,
 * `forceRefresh` after the remote rejected what it gave.
 */
export type CredentialSource<T> = (opts?: { forceRefresh?: boolean }) => Promise<T>;

export function withHeaders(req: OutgoingRequest, add: Record<string, string>): OutgoingRequest {
  return { ...req, headers: { ...req.headers, ...add } };
}

export async function signAll(signers: readonly Signer[], req: OutgoingRequest, ctx: SignContext): Promise<OutgoingRequest> {
  let out = req;
  for (const signer of signers) out = await signer.sign(out, ctx);
  return out;
}
