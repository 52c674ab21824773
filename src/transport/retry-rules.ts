/**
 * The one table of when a message is sent again, keyed by JSON-RPC method. The HTTP
 * client's attempt loop and the Streamable HTTP session both ask it; docs/architecture.md
 * ("Where each retry rule lives") describes each rule. Every rule gives at most one retry.
 */

/** Why a request may be sent once more. */
export type RetryReason =
  /** Refused, DNS, connect timeout: nothing reached the server. */
  | 'connect'
  /** 429/503 with a short Retry-After: the server said it did not process it. */
  | 'retry-after'
  /** 401/403 after a signer refreshed its credentials. */
  | 'auth-refresh'
  /** 404 to a request carrying a session id: the server never processed it (spec, "Session Management"). */
  | 'session-expired'
  /**
   * 502/503/504 without Retry-After, or the connection reset before the response headers:
   * the server may have processed it, so only requests that change nothing are sent again.
   */
  | 'transient';

/** Rules every message gets: in each case the server did not act on it. */
const EVERY_MESSAGE: ReadonlySet<RetryReason> = new Set(['connect', 'retry-after', 'auth-refresh', 'session-expired']);
const IDEMPOTENT: ReadonlySet<RetryReason> = new Set([...EVERY_MESSAGE, 'transient']);

/**
 * Requests that read or set state idempotently, so a second copy does no harm. tools/call
 * is not here, nor anything else: the tool may have run.
 */
const BY_METHOD: ReadonlyMap<string, ReadonlySet<RetryReason>> = new Map(
  [
    'initialize',
    'ping',
    'tools/list',
    'resources/list',
    'resources/templates/list',
    'resources/read',
    'prompts/list',
    'prompts/get',
    'completion/complete',
    'logging/setLevel',
  ].map((m) => [m, IDEMPOTENT]),
);

/** The rules for a message: its method's, or those every message gets (also for GET and DELETE). */
export function retryRules(method: string | undefined): ReadonlySet<RetryReason> {
  return (method === undefined ? undefined : BY_METHOD.get(method)) ?? EVERY_MESSAGE;
}

/** Pause before the retry of a connect-phase failure (a server restarting, a DNS blip). */
export const CONNECT_RETRY_MS = 250;
/** Pause before the retry of a transient failure (a gateway whose backend is restarting). */
export const TRANSIENT_RETRY_MS = 500;
/** Longest Retry-After waited for inside a request; longer ones surface as errors. */
export const MAX_RETRY_AFTER_MS = 10_000;

/** Gateway statuses that say the backend was unavailable (https://www.rfc-editor.org/rfc/rfc9110#section-15.6). */
export function isTransientStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}
