/**
 * The browser login: authorization code with PKCE (MCP authorization spec,
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization, "Authorization Flow Steps").
 * Discovery as for client credentials (the server's 401 → RFC 9728 → RFC 8414), a client
 * (client-registration.ts), PKCE S256, a random state, `resource` = the MCP endpoint (as the
 * resource metadata publishes it), a
 * loopback redirect, the `iss` check of RFC 9207, the code exchanged for tokens. Every URL
 * the servers supply passes the one URL policy, and the authorization URL is opened without
 * a shell or printed (open-browser.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { CredentialError } from '../../errors.js';
import { registerSecret, safeOrigin } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import { challengeParam } from './challenge.js';
import { chooseClient, type ClientChoice } from './client-registration.js';
import { exchangeCode } from './code-grant.js';
import { discoverAuthorizationServer } from './discovery.js';
import { oauthRequest } from './oauth-http.js';
import { openBrowser } from './open-browser.js';
import { startRedirectListener } from './redirect-listener.js';
import type { StoredLogin } from './token-store.js';
import { checkOAuthUrl } from './url-policy.js';

export interface LoginOptions extends ClientChoice {
  readonly endpoint: URL;
  readonly resource: string;
  readonly dispatcher: Dispatcher;
  /** --oauth-scope; else the challenge's scope, else the resource's scopes_supported. */
  readonly scope: string | undefined;
  readonly openBrowser: boolean;
  readonly timeoutMs: number;
  /** A line for the person logging in (stderr). */
  readonly tell: (line: string) => void;
  readonly now: () => number;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** https://www.rfc-editor.org/rfc/rfc7636#section-4.1: 32 random octets, base64url (43 characters); S256 challenge. */
function pkce(): { verifier: string; challenge: string } {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/**
 * An unauthenticated initialize: the server's 401 names its resource metadata and the scope
 * it wants (MCP authorization spec, "Protected Resource Metadata Discovery Requirements",
 * "Scope Selection Strategy").
 */
async function probe(dispatcher: Dispatcher, endpoint: URL): Promise<{ metadataUrl: string | undefined; scope: string | undefined }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-signing-proxy', version: 'login' } } });
  const res = await oauthRequest(dispatcher, endpoint, 'MCP endpoint', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body }).catch(
    (err: unknown) => {
      // A redirect or an unreachable endpoint: discovery's well-known locations may still work.
      if (err instanceof CredentialError && err.code === 'ESP_OAUTH_REDIRECT') return undefined;
      throw err;
    },
  );
  const header = res?.headers['www-authenticate'];
  const challenge = Array.isArray(header) ? header.join(', ') : header;
  if (res?.status !== 401) return { metadataUrl: undefined, scope: undefined };
  return { metadataUrl: challengeParam(challenge, 'resource_metadata'), scope: challengeParam(challenge, 'scope') };
}

export async function runBrowserLogin(o: LoginOptions): Promise<StoredLogin> {
  const hint = await probe(o.dispatcher, o.endpoint);
  const as = await discoverAuthorizationServer(o.endpoint, hint.metadataUrl, o.dispatcher);
  const meta = as.metadata ?? {};
  const issuer = as.issuer as string;
  if (typeof meta.authorization_endpoint !== 'string') {
    throw new CredentialError('ESP_OAUTH_DISCOVERY', `the authorization server ${safeOrigin(new URL(issuer))} has no authorization_endpoint: it offers no browser login`, {
      hint: 'use OAuth client credentials (--oauth-client-id with a secret or key) for this server',
    });
  }
  // A server-supplied URL: javascript:, file: and the like are refused here, before any browser sees them.
  const authorizationEndpoint = checkOAuthUrl(meta.authorization_endpoint, 'authorization endpoint', false, 'authorization_endpoint in the authorization server metadata');
  // MCP authorization spec, "Authorization Code Protection": without S256 in the metadata, refuse.
  const methods = meta.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new CredentialError('ESP_OAUTH_NO_PKCE', `the authorization server ${safeOrigin(new URL(issuer))} does not advertise PKCE with S256 (code_challenge_methods_supported)`, {
      hint: 'ask the server operator to enable PKCE (S256); the MCP authorization spec requires it',
    });
  }
  // The resource exactly as the metadata publishes it (https://www.rfc-editor.org/rfc/rfc9728#section-3.3; MCP authorization spec,
  // "Canonical Server URI"): it may be the origin alone while the endpoint has a path.
  const resource = as.resource ?? o.resource;
  const scope = o.scope ?? hint.scope ?? (as.resourceScopes !== undefined && as.resourceScopes.length > 0 ? as.resourceScopes.join(' ') : undefined);
  const state = b64url(randomBytes(24));
  const { verifier, challenge } = pkce();
  registerSecret(verifier);
  const listener = await startRedirectListener(state, o.timeoutMs);
  try {
    const client = await chooseClient(o.dispatcher, meta, o, listener.redirectUri);
    const url = new URL(authorizationEndpoint);
    const params = url.searchParams;
    params.set('response_type', 'code');
    params.set('client_id', client.clientId);
    params.set('redirect_uri', listener.redirectUri);
    params.set('code_challenge', challenge);
    params.set('code_challenge_method', 'S256');
    params.set('state', state);
    params.set('resource', resource);
    if (scope !== undefined) params.set('scope', scope);
    const opened = o.openBrowser && (await openBrowser(url));
    o.tell(opened ? `mcp-signing-proxy: a browser was opened to log in; if it did not, open this URL: ${url.href}` : `mcp-signing-proxy: open this URL in a browser to log in: ${url.href}`);
    const answer = await listener.result;
    // https://www.rfc-editor.org/rfc/rfc9207#section-2.4: the answer must come from the server the request went to (mix-up defence).
    const issRequired = meta.authorization_response_iss_parameter_supported === true;
    if ((issRequired || answer.iss !== undefined) && answer.iss !== issuer) {
      throw new CredentialError('ESP_OAUTH_ISSUER_MISMATCH', `the login answer ${answer.iss === undefined ? 'carries no iss' : 'names another issuer'} (RFC 9207); expected ${safeOrigin(new URL(issuer))}`, {
        hint: 'run the login again, and check that only one login is under way in this browser',
      });
    }
    registerSecret(answer.code);
    const tokens = await exchangeCode(o.dispatcher, as.tokenEndpoint, client, { code: answer.code, redirectUri: listener.redirectUri, verifier, resource }, o.now());
    return {
      issuer,
      resource: o.resource,
      configuredClientId: o.configuredClientId ?? null,
      clientId: client.clientId,
      ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
      ...(client.clientAuth === undefined ? {} : { clientAuth: client.clientAuth }),
      ...(resource === o.resource ? {} : { resourceIndicator: resource }),
      registration: client.registration,
      tokenEndpoint: as.tokenEndpoint.href,
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt,
      refreshToken: tokens.refreshToken ?? null,
      scope: tokens.scope ?? scope ?? null,
      savedAt: o.now(),
    };
  } finally {
    listener.close();
  }
}
