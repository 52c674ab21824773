import type { CredentialSource } from '../signers/signer.js';

/**
 * Starts fetching credentials now, without waiting: an assumed role's STS call (or an SSO
 * or credential_process step) then runs while stdin is read and the first request is
 * prepared, instead of after it (README, "Performance"). A caller arriving while that
 * first fetch is in flight shares it — its result or its error, exactly as if the caller
 * had made it. Once it has settled, every call goes to `source` as before (which caches),
 * so a failure at start-up is not replayed to a request made later.
 */
export function prewarmCredentials<T>(source: CredentialSource<T>): CredentialSource<T> {
  let warming: Promise<T> | undefined = source();
  const settled = (): void => {
    warming = undefined;
  };
  // Nobody may be waiting: the rejection is handled here and reported to the next caller's own fetch.
  warming.then(settled, settled);
  return (opts) => (warming !== undefined && !opts?.forceRefresh ? warming : source(opts));
}
