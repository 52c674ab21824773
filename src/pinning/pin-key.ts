import { safeUrl } from '../logging/safe-url.js';

/**
 * An endpoint's key in the pin file: origin and path, masked as in the log (the pin file
 * holds no secret that a URL may carry), without the query.
 */
export function pinKey(endpoint: URL): string {
  return safeUrl(new URL(endpoint.origin + endpoint.pathname));
}
