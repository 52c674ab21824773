import { CredentialError } from '../../errors.js';
import { safeUrl } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import { oauthRequest } from './oauth-http.js';
import { checkOAuthUrl } from './url-policy.js';

/** What the proxy needs from the authorization server's metadata (https://www.rfc-editor.org/rfc/rfc8414#section-2). */
export interface AuthorizationServer {
  /** Undefined when only --oauth-token-url is known. */
  readonly issuer: string | undefined;
  readonly tokenEndpoint: URL;
  /** token_endpoint_auth_methods_supported; undefined when the metadata does not say. */
  readonly authMethods: readonly string[] | undefined;
  /** The whole metadata document, for the browser login's fields; undefined with --oauth-token-url. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** scopes_supported of the protected-resource metadata (https://www.rfc-editor.org/rfc/rfc9728#section-2). */
  readonly resourceScopes?: readonly string[];
  /** The protected-resource metadata's `resource`, exactly as published (https://www.rfc-editor.org/rfc/rfc9728#section-3.3). */
  readonly resource?: string;
}

/** https://www.rfc-editor.org/rfc/rfc9728#section-3.1 / https://www.rfc-editor.org/rfc/rfc8414#section-3.1: the well-known name goes between the host and the path. */
function wellKnown(base: URL, name: string): URL {
  const path = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
  return new URL(`${base.origin}/.well-known/${name}${path}`);
}

function fail(message: string, hint: string): CredentialError {
  return new CredentialError('ESP_OAUTH_DISCOVERY', message, { hint: `${hint}, or set --oauth-token-url` });
}

/**
 * Protected-resource metadata (RFC 9728) → its authorization server. `metadataUrl` comes
 * from the server's 401 challenge; without one the well-known location under the endpoint
 * is tried (MCP authorization spec, "Protected Resource Metadata Discovery Requirements").
 */
export async function discoverAuthorizationServer(endpoint: URL, metadataUrl: string | undefined, dispatcher: Dispatcher): Promise<AuthorizationServer> {
  // Every URL here comes from the server, not the user: --allow-http (which the user gave
  // for MCP_ENDPOINT) does not extend to them; plain http only to loopback.
  const allowHttp = false;
  const candidates = metadataUrl !== undefined
    ? [checkOAuthUrl(metadataUrl, 'protected-resource metadata URL', allowHttp, "the server's WWW-Authenticate resource_metadata")]
    : [wellKnown(endpoint, 'oauth-protected-resource'), new URL('/.well-known/oauth-protected-resource', endpoint.origin)];
  let prm: Record<string, unknown> | undefined;
  let where: URL | undefined;
  for (const url of candidates) {
    const res = await oauthRequest(dispatcher, url, 'protected-resource metadata', { method: 'GET' });
    if (res.status === 200 && typeof res.json === 'object' && res.json !== null) {
      prm = res.json as Record<string, unknown>;
      where = url;
      break;
    }
  }
  if (prm === undefined || where === undefined) {
    throw fail(`the server's protected-resource metadata (RFC 9728) was not found at ${candidates.map((u) => safeUrl(u)).join(' or ')}`, 'check that the server supports OAuth');
  }
  // https://www.rfc-editor.org/rfc/rfc9728#section-3.3: `resource` is required and must be this endpoint; it is what binds the
  // metadata (which may sit on any origin) to the server whose tokens are asked for.
  if (typeof prm.resource !== 'string' || !coversEndpoint(prm.resource, endpoint)) {
    throw fail(`the protected-resource metadata at ${safeUrl(where)} ${typeof prm.resource === 'string' ? 'describes another resource' : 'names no resource'}`, 'check MCP_ENDPOINT, or ask the server operator to serve RFC 9728 metadata for it');
  }
  const servers = prm.authorization_servers;
  const first = Array.isArray(servers) ? servers.find((s): s is string => typeof s === 'string') : undefined;
  if (first === undefined) throw fail(`the protected-resource metadata at ${safeUrl(where)} names no authorization_servers`, 'ask the server operator');
  const issuer = checkOAuthUrl(first, 'authorization server', allowHttp, 'authorization_servers in the protected-resource metadata');
  const scopes = prm.scopes_supported;
  const resourceScopes = Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : undefined;
  return { ...(await authorizationServerMetadata(issuer, dispatcher, allowHttp)), ...(resourceScopes === undefined ? {} : { resourceScopes }), resource: prm.resource };
}

/** The metadata's resource is the endpoint or a prefix of it on the same origin. */
function coversEndpoint(resource: string, endpoint: URL): boolean {
  try {
    const r = new URL(resource);
    const path = r.pathname.replace(/\/$/, '');
    return r.origin === endpoint.origin && (endpoint.pathname === path || endpoint.pathname.startsWith(`${path}/`) || path === '');
  } catch {
    return false;
  }
}

/** RFC 8414 metadata, then OpenID Connect discovery (both orders of path insertion). */
async function authorizationServerMetadata(issuer: URL, dispatcher: Dispatcher, allowHttp: boolean): Promise<AuthorizationServer> {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  const candidates = [
    wellKnown(issuer, 'oauth-authorization-server'),
    wellKnown(issuer, 'openid-configuration'),
    ...(path === '' ? [] : [new URL(`${issuer.origin}${path}/.well-known/openid-configuration`)]),
  ];
  for (const url of candidates) {
    const res = await oauthRequest(dispatcher, url, 'authorization server metadata', { method: 'GET' });
    if (res.status !== 200 || typeof res.json !== 'object' || res.json === null) continue;
    const meta = res.json as Record<string, unknown>;
    // https://www.rfc-editor.org/rfc/rfc8414#section-3.3: the issuer in the document must be the one it was fetched for (mix-up defence).
    if (typeof meta.issuer !== 'string' || meta.issuer.replace(/\/$/, '') !== issuer.href.replace(/\/$/, '')) {
      throw fail(`the authorization server metadata at ${safeUrl(url)} names another issuer`, 'ask the server operator to fix the metadata');
    }
    if (typeof meta.token_endpoint !== 'string') throw fail(`the authorization server metadata at ${safeUrl(url)} has no token_endpoint`, 'ask the server operator');
    const tokenEndpoint = checkOAuthUrl(meta.token_endpoint, 'token endpoint', allowHttp, 'token_endpoint in the authorization server metadata');
    const methods = meta.token_endpoint_auth_methods_supported;
    const authMethods = Array.isArray(methods) ? methods.filter((m): m is string => typeof m === 'string') : undefined;
    return { issuer: meta.issuer, tokenEndpoint, authMethods, metadata: meta };
  }
  throw fail(`no authorization server metadata (RFC 8414 or OpenID Connect) was found for ${safeUrl(issuer)}`, 'check the authorization server');
}
