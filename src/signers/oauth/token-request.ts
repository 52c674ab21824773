import { CredentialError } from '../../errors.js';
import { safeOrigin } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import { clientAssertion, type AssertionKey } from './client-assertion.js';
import { oauthRequest } from './oauth-http.js';

export type ClientAuth =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly key: AssertionKey };

export interface TokenRequest {
  readonly tokenEndpoint: URL;
  readonly clientId: string;
  readonly auth: ClientAuth;
  readonly scope: string | undefined;
  /** RFC 8707 resource indicator: the MCP endpoint. */
  readonly resource: string;
  /** The authorization server's issuer, when known from its metadata. */
  readonly issuer?: string | undefined;
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiration: Date | undefined;
  readonly scope: string | undefined;
}

/** https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1: both parts form-urlencoded before the Basic encoding. */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

const CREDENTIAL_HINT = 'check --oauth-client-id / MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET / --oauth-client-secret-file (or --oauth-private-key-file and --oauth-key-id)';

/** https://www.rfc-editor.org/rfc/rfc6749#section-5.2 error codes, each with its own explanation; the body is never quoted. */
function tokenError(status: number, body: unknown, origin: string): CredentialError {
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const err = typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
  const at = `the token endpoint at ${origin}`;
  switch (err) {
    case 'invalid_client':
      return new CredentialError('ESP_OAUTH_INVALID_CLIENT', `${at} rejected the client credentials (invalid_client)`, { httpStatus: status, hint: `${CREDENTIAL_HINT}; force the client authentication with --oauth-client-auth basic|post if the server expects the other one` });
    case 'invalid_scope':
      return new CredentialError('ESP_OAUTH_INVALID_SCOPE', `${at} refused the requested scope (invalid_scope)`, { httpStatus: status, hint: 'set --oauth-scope to scopes this client may request, or leave it unset for the default' });
    case 'unauthorized_client':
      return new CredentialError('ESP_OAUTH_UNAUTHORIZED_CLIENT', `${at} does not allow this client the client_credentials grant (unauthorized_client)`, { httpStatus: status, hint: 'enable the client credentials grant for this client at the authorization server' });
    case 'invalid_grant':
    case 'unsupported_grant_type':
      return new CredentialError('ESP_OAUTH_GRANT', `${at} does not accept the client_credentials grant (${err})`, { httpStatus: status, hint: 'enable the client credentials grant at the authorization server, or use a browser login' });
    default:
      return new CredentialError('ESP_OAUTH_TOKEN', `${at} refused the token request (HTTP ${status}${err === undefined ? '' : `, ${err}`})`, { httpStatus: status, hint: `${CREDENTIAL_HINT}, and the authorization server's status` });
  }
}

/** One client_credentials token request (https://www.rfc-editor.org/rfc/rfc6749#section-4.4). */
export async function requestToken(dispatcher: Dispatcher, req: TokenRequest, nowMs: number): Promise<IssuedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (req.scope !== undefined) form.set('scope', req.scope);
  form.set('resource', req.resource);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const { auth } = req;
  if (auth.method !== 'private_key_jwt') {
    if (auth.method === 'client_secret_basic') headers.authorization = basic(req.clientId, auth.secret);
    else form.set('client_id', req.clientId);
    if (auth.method === 'client_secret_post') form.set('client_secret', auth.secret);
  } else {
    form.set('client_id', req.clientId);
    form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    form.set('client_assertion', clientAssertion(auth.key, req.clientId, req.issuer ?? req.tokenEndpoint.href, nowMs));
  }
  const res = await oauthRequest(dispatcher, req.tokenEndpoint, 'token endpoint', { method: 'POST', headers, body: form.toString() });
  const origin = safeOrigin(req.tokenEndpoint);
  if (res.status !== 200) throw tokenError(res.status, res.json, origin);
  const body = res.json as { access_token?: unknown; token_type?: unknown; expires_in?: unknown; scope?: unknown } | undefined;
  if (typeof body !== 'object' || body === null || typeof body.access_token !== 'string' || body.access_token === '' || /[\s\0]/.test(body.access_token)) {
    throw new CredentialError('ESP_OAUTH_TOKEN', `the token endpoint at ${origin} answered without a usable access_token`, { hint: 'check that --oauth-token-url is the token endpoint' });
  }
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new CredentialError('ESP_OAUTH_TOKEN', `the token endpoint at ${origin} issued a token that is not a Bearer token`, { hint: 'the proxy sends Bearer tokens only (RFC 6750)' });
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : undefined;
  return {
    accessToken: body.access_token,
    expiration: expiresIn === undefined || expiresIn <= 0 ? undefined : new Date(nowMs + expiresIn * 1000),
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}
