/**
 * A loopback OAuth 2.1 authorization server speaking the real protocol for client
 * credentials: RFC 8414 metadata, a token endpoint that verifies client_secret_basic,
 * client_secret_post and private_key_jwt (RFC 7523; the signature checked with node:crypto),
 * RFC 6749 section 5.2 errors, expires_in; and for the browser login an authorization endpoint
 * (client_id, loopback redirect_uri, PKCE S256, state passed through, resource, iss in the
 * answer), the authorization_code grant (code_verifier checked), refresh_token with rotation
 * (a used refresh token is invalid) and dynamic client registration (RFC 7591).
 * `protectResource` wraps a test MCP server
 * (mcp-server.ts `wrap`) into a resource server that serves RFC 9728 metadata and validates
 * the tokens: issuer, audience (the RFC 8707 resource), expiry and scope.
 */
import { createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler } from './mcp-server.js';

export interface TestClient {
  id: string;
  secret?: string;
  /** For private_key_jwt. */
  publicKey?: KeyObject;
  /** Without the client_credentials grant: unauthorized_client. */
  noGrant?: boolean;
  /** Scopes it may ask for; the default grant is all of them. */
  scopes?: string[];
  /** A public client for the browser login (no secret): authorization_code and refresh_token only. */
  public?: boolean;
  /** Its secret is accepted in the Authorization header only (client_secret_basic). */
  basicOnly?: boolean;
}

export interface AuthorizationRecord {
  params: Record<string, string>;
}

export interface TokenRequestRecord {
  headers: http.IncomingHttpHeaders;
  form: Record<string, string>;
  /** How the client authenticated, as verified. */
  method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
}

export interface IssuedTokenRecord {
  clientId: string;
  resource: string;
  scope: string;
  exp: number;
}

export interface TestAuthorizationServer {
  issuer: string;
  tokenEndpoint: string;
  requests: TokenRequestRecord[];
  metadataRequests: string[];
  tokens: Map<string, IssuedTokenRecord>;
  /** Refresh tokens still valid (a used one is removed: rotation). */
  refreshTokens: Map<string, IssuedTokenRecord>;
  authorizations: AuthorizationRecord[];
  /** Clients made by dynamic registration. */
  registered: TestClient[];
  /** Forget every token issued so far (the resource server then answers invalid_token). */
  revokeAll(): void;
  /** Forget the refresh tokens too: the next refresh gets invalid_grant. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}

export interface AuthorizationServerOptions {
  clients: TestClient[];
  /** token_endpoint_auth_methods_supported; default basic, post and private_key_jwt. */
  authMethods?: string[];
  expiresIn?: number;
  /** Answer a refresh_token grant only after this long (a slow authorization server). */
  refreshDelayMs?: number;
  /** Issuer path, e.g. "/tenant1" (RFC 8414 path insertion). */
  path?: string;
  /** Browser login: what the metadata advertises and how the endpoints behave. */
  login?: {
    /** authorization_endpoint in the metadata instead of the real one (e.g. a javascript: URL). */
    authorizationEndpoint?: string;
    /** Leave registration_endpoint out. */
    noRegistration?: boolean;
    /** client_id_metadata_document_supported. */
    cimd?: boolean;
    /** Leave code_challenge_methods_supported out. */
    noPkce?: boolean;
    /** The iss the authorization answer carries (default: the issuer); null leaves it out. */
    iss?: string | null;
    /** The scope the token answers say was granted (default: the one asked for). */
    grantedScope?: string;
    /** Dynamic registration issues a secret to be sent with client_secret_basic (RFC 7591 token_endpoint_auth_method). */
    registerBasicSecret?: boolean;
  };
}

/** https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1: form-urlencoded id and secret, Basic-encoded. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (header?.startsWith('Basic ') !== true) return undefined;
  const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map((v) => decodeURIComponent(v.replace(/\+/g, ' ')));
  return id === undefined || secret === undefined ? undefined : { id, secret };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
  });
}

/** RFC 7523 section 3 checks of a client assertion; returns the client id, or an error text. */
function verifyAssertion(jwt: string, clients: TestClient[], audiences: string[], seen: Set<string>): string | { error: string } {
  const [h, p, s] = jwt.split('.');
  if (h === undefined || p === undefined || s === undefined) return { error: 'not a JWT' };
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss: string; sub: string; aud: string; exp: number; jti: string };
  const client = clients.find((c) => c.id === claims.iss);
  if (client?.publicKey === undefined || claims.sub !== claims.iss) return { error: 'unknown issuer' };
  const key = client.publicKey;
  const ok =
    header.alg === 'RS256'
      ? key.asymmetricKeyType === 'rsa' && verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))
      : header.alg === 'ES256' && key.asymmetricKeyType === 'ec' && verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) return { error: 'bad signature' };
  if (!audiences.includes(claims.aud)) return { error: 'bad audience' };
  if (claims.exp * 1000 < Date.now()) return { error: 'expired' };
  if (seen.has(claims.jti)) return { error: 'replayed' };
  seen.add(claims.jti);
  return client.id;
}

export async function startAuthorizationServer(opts: AuthorizationServerOptions): Promise<TestAuthorizationServer> {
  const requests: TokenRequestRecord[] = [];
  const metadataRequests: string[] = [];
  const tokens = new Map<string, IssuedTokenRecord>();
  const jtis = new Set<string>();
  const refreshTokens = new Map<string, IssuedTokenRecord>();
  const authorizations: AuthorizationRecord[] = [];
  const registered: TestClient[] = [];
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; resource: string; scope: string }>();
  const redirectUris = new Map<string, string[]>();
  const path = opts.path ?? '';
  const login = opts.login ?? {};
  let issuer = '';
  // A Client ID Metadata Document client is known by its URL (the document is not fetched here).
  const clientById = (id: string | undefined): TestClient | undefined =>
    [...opts.clients, ...registered].find((c) => c.id === id) ?? (login.cimd === true && id?.startsWith('https://') === true ? { id, public: true } : undefined);

  function issue(res: http.ServerResponse, clientId: string, resource: string, scope: string): void {
    const token = `at-${randomBytes(18).toString('base64url')}`;
    const refresh = `rt-${randomBytes(18).toString('base64url')}`;
    const expiresIn = opts.expiresIn ?? 3600;
    const record = { clientId, resource, scope, exp: Date.now() + expiresIn * 1000 };
    tokens.set(token, record);
    refreshTokens.set(refresh, { ...record, exp: Date.now() + 86_400_000 });
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refresh, scope: login.grantedScope ?? scope });
  }

  /** The browser login's grants for a public (or registered) client. */
  function loginGrant(res: http.ServerResponse, form: Record<string, string>, headers: http.IncomingHttpHeaders): void {
    const client = clientById(form.client_id);
    const basic = basicCredentials(headers.authorization);
    // A client registered for client_secret_basic is authenticated by the header alone.
    const secret = client?.basicOnly === true ? (basic?.id === client.id && form.client_secret === undefined ? basic.secret : undefined) : form.client_secret;
    if (client === undefined || (client.secret !== undefined && client.secret !== secret)) return json(res, 401, { error: 'invalid_client' });
    if (form.grant_type === 'authorization_code') {
      const c = form.code === undefined ? undefined : codes.get(form.code);
      if (form.code !== undefined) codes.delete(form.code);
      if (c === undefined || c.clientId !== client.id || c.redirectUri !== form.redirect_uri) return json(res, 400, { error: 'invalid_grant' });
      const challenge = createHash('sha256').update(form.code_verifier ?? '').digest('base64url');
      if (challenge !== c.challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      if (form.resource !== c.resource) return json(res, 400, { error: 'invalid_target' });
      return issue(res, client.id, c.resource, c.scope);
    }
    const r = form.refresh_token === undefined ? undefined : refreshTokens.get(form.refresh_token);
    if (r === undefined || r.clientId !== client.id) return json(res, 400, { error: 'invalid_grant' });
    // Rotation: the refresh token is single-use.
    refreshTokens.delete(form.refresh_token as string);
    if (form.resource !== undefined && form.resource !== r.resource) return json(res, 400, { error: 'invalid_target' });
    issue(res, client.id, r.resource, r.scope);
  }

  function authorize(res: http.ServerResponse, url: URL): void {
    const p = Object.fromEntries(url.searchParams);
    authorizations.push({ params: p });
    const client = clientById(p.client_id);
    if (client === undefined) return json(res, 400, { error: 'invalid_request', error_description: 'unknown client_id' });
    let redirect: URL;
    try {
      redirect = new URL(p.redirect_uri ?? '');
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'bad redirect_uri' });
    }
    const allowed = client === undefined ? undefined : redirectUris.get(client.id);
    if (redirect.protocol !== 'http:' || redirect.hostname !== '127.0.0.1' || (allowed !== undefined && !allowed.includes(redirect.href))) {
      return json(res, 400, { error: 'invalid_request', error_description: 'redirect_uri is not an allowed loopback URI' });
    }
    const back = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
      res.writeHead(302, { location: redirect.href }).end();
    };
    if (p.response_type !== 'code' || p.code_challenge_method !== 'S256' || !/^[\w-]{43}$/.test(p.code_challenge ?? '') || p.resource === undefined) {
      return back({ error: 'invalid_request', ...(p.state === undefined ? {} : { state: p.state }) });
    }
    const code = `code-${randomBytes(12).toString('base64url')}`;
    codes.set(code, { clientId: p.client_id as string, redirectUri: p.redirect_uri as string, challenge: p.code_challenge as string, resource: p.resource, scope: p.scope ?? 'mcp:read mcp:write' });
    const iss = login.iss === undefined ? issuer : login.iss;
    back({ code, ...(p.state === undefined ? {} : { state: p.state }), ...(iss === null ? {} : { iss }) });
  }

  async function register(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = JSON.parse(await readBody(req)) as { redirect_uris?: string[]; token_endpoint_auth_method?: string };
    if (!Array.isArray(body.redirect_uris) || body.redirect_uris.length === 0 || body.token_endpoint_auth_method !== 'none') return json(res, 400, { error: 'invalid_client_metadata' });
    const id = `dcr-${registered.length + 1}`;
    redirectUris.set(id, body.redirect_uris);
    if (login.registerBasicSecret === true) {
      const secret = `dcr-secret-${randomBytes(9).toString('base64url')}`;
      registered.push({ id, secret, basicOnly: true });
      return json(res, 201, { client_id: id, client_secret: secret, redirect_uris: body.redirect_uris, token_endpoint_auth_method: 'client_secret_basic' });
    }
    registered.push({ id, public: true });
    json(res, 201, { client_id: id, redirect_uris: body.redirect_uris, token_endpoint_auth_method: 'none' });
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method === 'GET' && url.pathname === `/.well-known/oauth-authorization-server${path}`) {
      metadataRequests.push(url.pathname);
      json(res, 200, {
        issuer,
        token_endpoint: `${issuer}/token`,
        authorization_endpoint: login.authorizationEndpoint ?? `${issuer}/authorize`,
        ...(login.noRegistration ? {} : { registration_endpoint: `${issuer}/register` }),
        ...(login.noPkce ? {} : { code_challenge_methods_supported: ['S256'] }),
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: login.cimd === true,
        response_types_supported: ['code'],
        grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
        token_endpoint_auth_methods_supported: opts.authMethods ?? ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === `${path}/authorize`) return authorize(res, url);
    if (req.method === 'POST' && url.pathname === `${path}/register`) return register(req, res);
    if (req.method !== 'POST' || url.pathname !== `${path}/token`) {
      metadataRequests.push(url.pathname);
      json(res, 404, { error: 'not_found' });
      return;
    }
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    if (form.grant_type === 'authorization_code' || form.grant_type === 'refresh_token') {
      requests.push({ headers: req.headers, form, method: 'none' });
      if (form.grant_type === 'refresh_token' && opts.refreshDelayMs !== undefined) await new Promise((r) => setTimeout(r, opts.refreshDelayMs));
      return loginGrant(res, form, req.headers);
    }
    let clientId: string | undefined;
    let method: TokenRequestRecord['method'] = 'none';
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(auth.slice(6), 'base64').toString().split(':').map((v) => decodeURIComponent(v.replace(/\+/g, ' ')));
      const c = opts.clients.find((x) => x.id === id);
      if (c?.secret !== undefined && c.secret === secret) clientId = c.id;
      method = 'client_secret_basic';
    } else if (form.client_secret !== undefined) {
      const c = opts.clients.find((x) => x.id === form.client_id);
      if (c?.secret !== undefined && c.secret === form.client_secret) clientId = c.id;
      method = 'client_secret_post';
    } else if (form.client_assertion !== undefined && form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      const r = verifyAssertion(form.client_assertion, opts.clients, [`${issuer}/token`, issuer], jtis);
      if (typeof r === 'string' && (form.client_id === undefined || form.client_id === r)) clientId = r;
      method = 'private_key_jwt';
    }
    requests.push({ headers: req.headers, form, method });
    if (method !== 'none' && opts.authMethods !== undefined && !opts.authMethods.includes(method)) clientId = undefined;
    if (clientId === undefined) return json(res, 401, { error: 'invalid_client', error_description: `client authentication failed for ${form.client_secret ?? ''}` }, { 'www-authenticate': 'Basic realm="test"' });
    const client = opts.clients.find((c) => c.id === clientId) as TestClient;
    if (form.grant_type !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (client.noGrant) return json(res, 400, { error: 'unauthorized_client' });
    const allowed = client.scopes ?? ['mcp:read', 'mcp:write'];
    const asked = form.scope === undefined ? allowed : form.scope.split(' ');
    if (asked.some((s) => !allowed.includes(s))) return json(res, 400, { error: 'invalid_scope' });
    if (form.resource === undefined) return json(res, 400, { error: 'invalid_target' });
    const token = `at-${randomBytes(18).toString('base64url')}`;
    const expiresIn = opts.expiresIn ?? 3600;
    tokens.set(token, { clientId, resource: form.resource, scope: asked.join(' '), exp: Date.now() + expiresIn * 1000 });
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: asked.join(' ') });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    requests,
    metadataRequests,
    tokens,
    refreshTokens,
    authorizations,
    registered,
    revokeAll: () => tokens.clear(),
    revokeRefreshTokens: () => refreshTokens.clear(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ProtectOptions {
  /** A scope every MCP request needs. */
  requiredScope?: string;
  /** Path of the MCP endpoint (for the RFC 9728 well-known location); default /mcp. */
  mcpPath?: string;
  /** Leave resource_metadata out of the challenge (clients then try the well-known URI). */
  noResourceMetadata?: boolean;
  /** The metadata's `resource` is the origin alone (RFC 9728 allows any identifier covering the endpoint); tokens must be for it. */
  originResource?: boolean;
}

/**
 * The MCP server as an OAuth resource server: RFC 9728 metadata at the well-known location,
 * RFC 6750 challenges, and token checks (issued by `as`, for this resource, not expired,
 * with the scope).
 */
export function protectResource(as: TestAuthorizationServer, opts: ProtectOptions = {}): (inner: Handler) => Handler {
  const mcpPath = opts.mcpPath ?? '/mcp';
  return (inner) => async (req, res, body) => {
    const origin = `http://${req.headers.host}`;
    const resource = opts.originResource ? origin : `${origin}${mcpPath}`;
    const metadata = `${origin}/.well-known/oauth-protected-resource${mcpPath}`;
    if (req.url === `/.well-known/oauth-protected-resource${mcpPath}`) {
      json(res, 200, { resource, authorization_servers: [as.issuer], scopes_supported: ['mcp:read', 'mcp:write'], bearer_methods_supported: ['header'] });
      return;
    }
    const rm = opts.noResourceMetadata ? '' : `, resource_metadata="${metadata}"`;
    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith('Bearer ')) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="mcp"${rm}` }).end();
      return;
    }
    const record = as.tokens.get(auth.slice(7));
    if (record === undefined || record.exp < Date.now() || record.resource !== resource) {
      res.writeHead(401, { 'www-authenticate': `Bearer error="invalid_token"${rm}` }).end();
      return;
    }
    if (opts.requiredScope !== undefined && !record.scope.split(' ').includes(opts.requiredScope)) {
      res.writeHead(403, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${opts.requiredScope}"${rm}` }).end();
      return;
    }
    await inner(req, res, body);
  };
}
