import { CredentialError } from '../../errors.js';
import { safeOrigin, safeUrl } from '../../logging/safe-url.js';
import { readBody } from '../../transport/read-body.js';
import { describeNetworkError } from '../../transport/network-errors.js';
import { request, type HttpAgent as Dispatcher } from '../../transport/http-agent.js';
import { OAUTH_TIMEOUT_MS } from './request-timeout.js';

/** Metadata documents and token responses are small; a larger answer is not one. */
const BODY_LIMIT = 64 * 1024;

export interface OAuthResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body, or undefined when it is not JSON. Never logged or quoted. */
  readonly json: unknown;
}

/**
 * One request to an OAuth endpoint through the MCP dispatcher (same CA, mTLS, proxy), with
 * only the headers given here: the configured static headers never reach the authorization
 * server. Redirects are not followed (they are errors: a token request that is redirected
 * would carry the client secret elsewhere).
 */
export async function oauthRequest(
  dispatcher: Dispatcher,
  url: URL,
  what: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
): Promise<OAuthResponse> {
  let res;
  try {
    res = await request(dispatcher, {
      origin: url.origin,
      path: url.pathname + url.search,
      method: init.method,
      headers: { accept: 'application/json', ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
    });
  } catch (err) {
    const net = describeNetworkError(err, url);
    throw new CredentialError('ESP_OAUTH_UNREACHABLE', `the ${what} ${safeUrl(url)} could not be reached: ${net.message}`, { hint: net.hint ?? 'check the URL and the network path' });
  }
  if (res.statusCode >= 300 && res.statusCode < 400) {
    res.body.resume();
    throw new CredentialError('ESP_OAUTH_REDIRECT', `the ${what} ${safeUrl(url)} answered HTTP ${res.statusCode} with a redirect; OAuth requests are never redirected (they carry client credentials)`, {
      hint: `configure the final URL of the ${what}${what === 'token endpoint' ? ' (--oauth-token-url)' : ''}, or fix the authorization server's metadata`,
    });
  }
  let text = '';
  try {
    const bytes = await readBody(capped(res.body, BODY_LIMIT), Number.NaN);
    text = bytes.toString('utf8');
  } catch {
    throw new CredentialError('ESP_OAUTH_RESPONSE', `the ${what} at ${safeOrigin(url)} sent an answer larger than ${BODY_LIMIT} bytes or broke off`, { hint: 'check that the URL is the OAuth endpoint' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json };
}

async function* capped(body: AsyncIterable<Uint8Array>, limit: number): AsyncIterable<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new Error('too large');
    yield chunk;
  }
}
