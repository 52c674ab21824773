import { CredentialError } from '../errors.js';
import type { CredentialSource } from '../signers/signer.js';

/** Anything with an optional absolute expiry, e.g. AWS credentials. */
export interface Expiring {
  readonly expiration?: Date | undefined;
}

export interface MemoizeCredentialsOptions {
  /** Clock in epoch ms; injectable for tests (and for a skew-corrected clock). */
  now?: () => number;
  /**
   * A refresh-ahead attempt failed while the cached credentials were still good; they stay
   * in use and the refresh is tried again later. The error is whatever `fetch` threw.
   */
  onBackgroundError?: (err: unknown) => void;
}

/** Refresh this long before expiry: the window the AWS SDK itself uses. */
const REFRESH_WINDOW_MS = 5 * 60_000;
/** Never hand out credentials closer than this to expiry (a request signed just before may arrive after it). */
export const MIN_VALIDITY_MS = 30_000;
/** Pause between refresh-ahead retries after a failure, so a broken STS is not hammered. */
const BACKGROUND_RETRY_MS = 30_000;

interface Timing {
  /** From here on a refresh runs in the background; the cached value is still returned. */
  refreshAt: number;
  /** From here on the cached value is not handed out; callers wait for a refresh. */
  usableUntil: number;
  /** Pause after a failed background refresh. */
  retryDelay: number;
}

/**
 * The windows scale with the lifetime actually issued. A fixed 5-minute window would make
 * any lifetime under 5 minutes refresh on every call (verified for smithy's `memoize`);
 * halving the lifetime instead means short-lived credentials are still fetched
 * once per lifetime. A 15-minute role keeps the full 5-minute window.
 */
function timingFor(expiresAt: number, obtainedAt: number): Timing {
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  const window = Math.min(REFRESH_WINDOW_MS, lifetime / 2);
  return {
    refreshAt: expiresAt - window,
    usableUntil: expiresAt - Math.min(MIN_VALIDITY_MS, window / 4),
    retryDelay: Math.min(BACKGROUND_RETRY_MS, window / 5),
  };
}

/**
 * Wraps an unmemoised credential fetch (e.g. `fromTemporaryCredentials`, which performs an
 * AssumeRole on every call) into a `CredentialSource`:
 * - one fetch in flight at a time: concurrent callers share it;
 * - refresh ahead of expiry in the background while the current value is still good;
 * - callers wait only when nothing usable is cached (first call, or too close to expiry);
 * - `forceRefresh` (the remote rejected what we signed with) always fetches, or joins a
 *   fetch already in flight, which yields newer credentials just the same;
 * - credentials without `expiration` (static keys) are kept until forced.
 */
export function memoizeCredentials<T extends Expiring>(
  fetch: () => Promise<T>,
  opts: MemoizeCredentialsOptions = {},
): CredentialSource<T> {
  const now = opts.now ?? Date.now;
  let cached: { value: T; timing: Timing | undefined } | undefined;
  let pending: Promise<T> | undefined;
  let nextBackgroundAttempt = 0;

  function accept(value: T): T {
    const t = now();
    const expiresAt = value.expiration?.getTime();
    if (expiresAt !== undefined && expiresAt <= t) {
      // Issued already expired by our clock: handing it out would only produce 403s.
      throw new CredentialError('ESP_CREDENTIALS_EXPIRED', 'the credentials just obtained are already expired by the local clock', {
        hint: 'check that the system clock is correct',
      });
    }
    cached = { value, timing: expiresAt === undefined ? undefined : timingFor(expiresAt, t) };
    return value;
  }

  function refresh(): Promise<T> {
    if (pending !== undefined) return pending;
    // `then(fetch)` so a synchronous throw still settles through the same path.
    const p: Promise<T> = Promise.resolve()
      .then(fetch)
      .then(accept)
      .finally(() => {
        if (pending === p) pending = undefined;
      });
    pending = p;
    return p;
  }

  return async (callOpts) => {
    if (callOpts?.forceRefresh) return refresh();
    const t = now();
    if (cached !== undefined) {
      const { value, timing } = cached;
      if (timing === undefined) return value;
      if (t < timing.usableUntil) {
        if (t >= timing.refreshAt && pending === undefined && t >= nextBackgroundAttempt) {
          refresh().catch((err: unknown) => {
            nextBackgroundAttempt = now() + timing.retryDelay;
            opts.onBackgroundError?.(err);
          });
        }
        return value;
      }
    }
    return refresh();
  };
}
