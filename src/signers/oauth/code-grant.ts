/**
 * The token requests of a browser login: the authorization code with its PKCE verifier
 * (https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3, https://www.rfc-editor.org/rfc/rfc7636#section-4.5) and the refresh token
 * (https://www.rfc-editor.org/rfc/rfc6749#section-6), both with the `resource` of the MCP endpoint (RFC 8707; MCP
 * authorization spec, "Resource Parameter Implementation"). A public client sends its
 * client_id in the form; a client that registration gave a secret sends it too, in the form
 * or, when registration said client_secret_basic, in the Authorization header.
 */
import { CredentialError } from '../../errors.js';
import { registerSecret, safeOrigin } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import { oauthRequest } from './oauth-http.js';
import { basic } from './token-request.js';

export interface LoginClient {
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  readonly clientAuth?: 'client_secret_basic' | undefined;
  /** A stored login's RFC 8707 resource when the resource metadata published another one than the endpoint. */
  readonly resourceIndicator?: string | undefined;
}

export interface GrantedTokens {
  readonly accessToken: string;
  /** Epoch ms, or null without expires_in. */
  readonly expiresAt: number | null;
  /** Undefined when the server sent none (then the previous one stays in use). */
  readonly refreshToken: string | undefined;
  readonly scope: string | undefined;
}

/** The refresh token is no longer accepted: only a new login helps. */
export class LoginExpiredError extends CredentialError {}

function errorCode(body: unknown): string | undefined {
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
}

async function grant(dispatcher: Dispatcher, tokenEndpoint: URL, client: LoginClient, form: URLSearchParams, what: string, nowMs: number): Promise<GrantedTokens> {
  form.set('client_id', client.clientId);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.clientSecret !== undefined && client.clientAuth === 'client_secret_basic') headers.authorization = basic(client.clientId, client.clientSecret);
  else if (client.clientSecret !== undefined) form.set('client_secret', client.clientSecret);
  const res = await oauthRequest(dispatcher, tokenEndpoint, 'token endpoint', { method: 'POST', headers, body: form.toString() });
  const at = `the token endpoint at ${safeOrigin(tokenEndpoint)}`;
  if (res.status !== 200) {
    const code = errorCode(res.json);
    // The response body is never quoted: it may echo what was sent.
    if (code === 'invalid_grant') throw new LoginExpiredError('ESP_OAUTH_LOGIN_EXPIRED', `${at} no longer accepts the ${what} (invalid_grant)`, { httpStatus: res.status });
    throw new CredentialError('ESP_OAUTH_TOKEN', `${at} refused the ${what} (HTTP ${res.status}${code === undefined ? '' : `, ${code}`})`, {
      httpStatus: res.status,
      hint: code === 'invalid_client' ? 'the client is not known to the authorization server any more: log in again' : "check the authorization server's status and log in again",
    });
  }
  const body = res.json as { access_token?: unknown; token_type?: unknown; expires_in?: unknown; refresh_token?: unknown; scope?: unknown } | undefined;
  const usable = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/[\s\0]/.test(v);
  if (typeof body !== 'object' || body === null || !usable(body.access_token)) {
    throw new CredentialError('ESP_OAUTH_TOKEN', `${at} answered the ${what} without a usable access_token`, { hint: "check the authorization server's token endpoint" });
  }
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new CredentialError('ESP_OAUTH_TOKEN', `${at} issued a token that is not a Bearer token`, { hint: 'the proxy sends Bearer tokens only (RFC 6750)' });
  }
  registerSecret(body.access_token, 'oauth-login-access-token');
  const refreshToken = usable(body.refresh_token) ? body.refresh_token : undefined;
  registerSecret(refreshToken, 'oauth-login-refresh-token');
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : undefined;
  return {
    accessToken: body.access_token,
    expiresAt: expiresIn === undefined || expiresIn <= 0 ? null : nowMs + expiresIn * 1000,
    refreshToken,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

export function exchangeCode(
  dispatcher: Dispatcher,
  tokenEndpoint: URL,
  client: LoginClient,
  p: { code: string; redirectUri: string; verifier: string; resource: string },
  nowMs: number,
): Promise<GrantedTokens> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.verifier, resource: p.resource });
  return grant(dispatcher, tokenEndpoint, client, form, 'authorization code', nowMs);
}

export function refreshTokens(dispatcher: Dispatcher, tokenEndpoint: URL, client: LoginClient, p: { refreshToken: string; resource: string; scope: string | undefined }, nowMs: number): Promise<GrantedTokens> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: p.refreshToken, resource: client.resourceIndicator ?? p.resource });
  if (p.scope !== undefined) form.set('scope', p.scope);
  return grant(dispatcher, tokenEndpoint, client, form, 'refresh token', nowMs);
}
