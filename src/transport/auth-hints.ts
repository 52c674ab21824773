/**
 * Answers that say which kind of authentication a server wants when the proxy sent none
 * that fits: an OAuth challenge, or a Cloudflare Access login (README "Troubleshooting").
 */
import { UpstreamHttpError } from '../errors.js';
import { safeOrigin, safeUrl } from '../logging/safe-url.js';
import { challengeParam } from '../signers/oauth/challenge.js';

const CF_ACCESS_HINT =
  'Cloudflare Access wants a service token: add --header "CF-Access-Client-Id: ${CF_ACCESS_CLIENT_ID}" and --header "CF-Access-Client-Secret: ${CF_ACCESS_CLIENT_SECRET}" (values from the env block), with a service token your Access policy allows';

function isCloudflareAccessHost(url: URL): boolean {
  return url.hostname === 'cloudflareaccess.com' || url.hostname.endsWith('.cloudflareaccess.com');
}

/** A redirect to a `*.cloudflareaccess.com` login page. */
export function cloudflareAccessRedirect(status: number, location: URL): UpstreamHttpError | undefined {
  if (!isCloudflareAccessHost(location)) return undefined;
  return new UpstreamHttpError('ESP_CLOUDFLARE_ACCESS', `the server is behind Cloudflare Access: it answered HTTP ${status} redirecting to the Access login at ${safeOrigin(location)}`, {
    httpStatus: status,
    hint: CF_ACCESS_HINT,
  });
}

/**
 * An HTML page instead of MCP from Cloudflare's edge (its headers say so), or a 401/403
 * body that names Cloudflare Access: the Access login or block page.
 */
export function cloudflareAccessPage(status: number, headers: Readonly<Record<string, string>>, bodyText: string): UpstreamHttpError | undefined {
  const html = /^\s*text\/html\b/i.test(headers['content-type'] ?? '');
  const fromCloudflare = /^cloudflare\b/i.test(headers.server ?? '') || headers['cf-ray'] !== undefined;
  const namesAccess = /cloudflareaccess\.com|cloudflare access|cf-access/i.test(bodyText) || headers['cf-access-domain'] !== undefined;
  if (!html || !(namesAccess || (fromCloudflare && status < 300))) return undefined;
  return new UpstreamHttpError('ESP_CLOUDFLARE_ACCESS', `the server answered HTTP ${status} with an HTML page (text/html) from Cloudflare${namesAccess ? ' Access' : ''}, probably the Cloudflare Access login page, not MCP`, {
    httpStatus: status,
    hint: CF_ACCESS_HINT,
  });
}

/** A 401 whose challenge names protected-resource metadata (https://www.rfc-editor.org/rfc/rfc9728#section-5.1): the server uses OAuth. */
export function oauthChallenge(status: number, headers: Readonly<Record<string, string>>, endpoint: URL): UpstreamHttpError | undefined {
  if (status !== 401) return undefined;
  const challenge = headers['www-authenticate'];
  const metadata = challengeParam(challenge, 'resource_metadata');
  if (metadata === undefined) return undefined;
  let where = 'its protected-resource metadata';
  try {
    where = `its protected-resource metadata at ${safeUrl(new URL(metadata))}`;
  } catch {
    // Named without the URL.
  }
  return new UpstreamHttpError('ESP_OAUTH_REQUIRED', `the server uses OAuth (HTTP 401, WWW-Authenticate: Bearer naming ${where}) and no OAuth client is configured`, {
    httpStatus: status,
    hint: `log in as a person once in a terminal: run: mcp-signing-proxy login ${safeUrl(endpoint)} (the proxy then uses the stored login); for a service account set --oauth-client-id / MCP_OAUTH_CLIENT_ID with MCP_OAUTH_CLIENT_SECRET (or --oauth-private-key-file) in this server's configuration (OAuth client credentials)`,
  });
}
