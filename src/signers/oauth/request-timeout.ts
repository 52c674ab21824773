/**
 * How long one request to an OAuth endpoint may take before it is abandoned. Its own module
 * because the token store's lock waits for one refresh this long, and the store is read at
 * configuration time, where the HTTP stack is not loaded.
 */
export const OAUTH_TIMEOUT_MS = 15_000;
