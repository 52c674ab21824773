import { isLoopback } from '../../config/values.js';
import { CredentialError } from '../../errors.js';
import { safeUrl } from '../../logging/safe-url.js';

/**
 * The one rule every OAuth URL passes, configured or discovered (MCP authorization spec,
 * "Communication Security"): https, or http to a loopback host (local test servers) or with
 * --allow-http; no user:password. Returns the URL without its fragment.
 */
export function checkOAuthUrl(raw: string, what: string, allowHttp: boolean, source: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CredentialError('ESP_OAUTH_URL', `the ${what} is not a valid URL (${source})`, { hint: `check ${source}` });
  }
  if (url.username !== '' || url.password !== '') {
    throw new CredentialError('ESP_OAUTH_URL', `the ${what} carries user:password@ (${source}); refused`, { hint: `check ${source}` });
  }
  const plainOk = url.protocol === 'http:' && (allowHttp || isLoopback(url));
  if (url.protocol !== 'https:' && !plainOk) {
    throw new CredentialError('ESP_OAUTH_URL', `the ${what} ${safeUrl(url)} is not https (${source}); credentials would travel unencrypted`, {
      hint: `the authorization server must use https://; for a trusted network pass --allow-http (MCP_ALLOW_HTTP=1)`,
    });
  }
  url.hash = '';
  return url;
}
