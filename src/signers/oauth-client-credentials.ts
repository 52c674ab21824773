import { createHash } from 'node:crypto';
import { memoizeCredentials } from '../credentials/memoize-credentials.js';
import { CredentialError } from '../errors.js';
import { registerSecret, safeOrigin } from '../logging/safe-url.js';
import type { Logger } from '../logging/logger.js';
import type { Dispatcher } from '../transport/undici.js';
import type { AssertionKey } from './oauth/client-assertion.js';
import { challengeParam } from './oauth/challenge.js';
import { discoverAuthorizationServer, type AuthorizationServer } from './oauth/discovery.js';
import { requestToken, type ClientAuth } from './oauth/token-request.js';
import { jwtClaims } from './jwt-claims.js';
import { withHeaders, type AuthFailure, type Signer, type SignerVerdict } from './signer.js';

export interface OAuthClientCredentialsOptions {
  endpoint: URL;
  clientId: string;
  /** Read once here; registered for masking. */
  secret: string | undefined;
  key: AssertionKey | undefined;
  tokenUrl: URL | undefined;
  scope: string | undefined;
  clientAuth: 'basic' | 'post' | undefined;
  dispatcher: Dispatcher;
  logger: Logger;
  now: () => number;
}

/** https://www.rfc-editor.org/rfc/rfc8707#section-2: an absolute URI without a fragment; the query is not part of the resource. */
function resourceOf(endpoint: URL): string {
  return `${endpoint.origin}${endpoint.pathname}`;
}

/**
 * client_secret_basic unless told otherwise or the metadata offers only client_secret_post
 * (https://www.rfc-editor.org/rfc/rfc8414#section-2: the default, when the metadata does not say, is client_secret_basic).
 */
function chooseAuth(o: OAuthClientCredentialsOptions, as: AuthorizationServer): ClientAuth {
  if (o.key !== undefined) return { method: 'private_key_jwt', key: o.key };
  const secret = o.secret as string;
  if (o.clientAuth !== undefined) return { method: o.clientAuth === 'post' ? 'client_secret_post' : 'client_secret_basic', secret };
  const offered = as.authMethods;
  const postOnly = offered !== undefined && offered.includes('client_secret_post') && !offered.includes('client_secret_basic');
  return { method: postOnly ? 'client_secret_post' : 'client_secret_basic', secret };
}

/**
 * OAuth 2.1 client credentials (the MCP extension io.modelcontextprotocol/oauth-client-credentials,
 * RFC 7523 for private_key_jwt). Without --oauth-token-url the first request goes without a
 * token; the server's 401 names its protected-resource metadata (RFC 9728), which names the
 * authorization server (RFC 8414), whose token endpoint issues the token (MCP authorization
 * spec, "Authorization Server Discovery"). Tokens are cached until shortly before
 * `expires_in`, refreshed ahead, and concurrent requests share one token request.
 */
export function createOAuthClientCredentialsSigner(o: OAuthClientCredentialsOptions): Signer {
  const log = o.logger.child({ component: 'oauth' });
  registerSecret(o.secret);
  let server: AuthorizationServer | undefined = o.tokenUrl === undefined ? undefined : { issuer: undefined, tokenEndpoint: o.tokenUrl, authMethods: undefined };
  /** resource_metadata of the latest challenge, for discovery. */
  let metadataUrl: string | undefined;
  let generation = 0;
  /** The latest token's non-secret facts, for --check. */
  let facts: { scope: string | undefined; expiration: Date | undefined; claims: ReturnType<typeof jwtClaims> } | undefined;
  const signedWith = new WeakMap<object, number>();

  const token = memoizeCredentials(
    async () => {
      server ??= await discoverAuthorizationServer(o.endpoint, metadataUrl, o.dispatcher);
      const issued = await requestToken(o.dispatcher, { tokenEndpoint: server.tokenEndpoint, clientId: o.clientId, auth: chooseAuth(o, server), scope: o.scope, resource: resourceOf(o.endpoint), issuer: server.issuer }, o.now());
      registerSecret(issued.accessToken, 'oauth-access-token');
      facts = { scope: issued.scope, expiration: issued.expiration, claims: jwtClaims(issued.accessToken) };
      log.info(
        { issuer: server.issuer, tokenEndpoint: safeOrigin(server.tokenEndpoint), expiresInS: issued.expiration && Math.round((issued.expiration.getTime() - o.now()) / 1000), scope: issued.scope },
        'OAuth access token obtained (client credentials)',
      );
      return { ...issued, generation: ++generation };
    },
    { now: o.now, onBackgroundError: (err) => log.warn({ err }, 'refreshing the OAuth access token failed; the current one stays in use until it expires') },
  );

  async function refreshed(): Promise<SignerVerdict> {
    try {
      await token({ forceRefresh: true });
      return { retry: true };
    } catch (err) {
      return { retry: false, error: err as CredentialError };
    }
  }

  // The audit log names who acted (README "Audit log"): the client, its issuer, and the token
  // by a hash prefix like the bearer signer's, computed once per token.
  let hashed = { of: '', id: '' };

  return {
    name: 'oauth-client-credentials',
    identity() {
      const out: Record<string, string> = { oauthClientId: o.clientId };
      if (server?.issuer !== undefined) out.oauthIssuer = server.issuer;
      if (hashed.id !== '') out.oauthToken = hashed.id;
      return out;
    },
    credentialFacts() {
      if (facts === undefined) return undefined;
      const { claims } = facts;
      return {
        issuer: server?.issuer ?? claims?.iss,
        tokenEndpoint: server === undefined ? undefined : safeOrigin(server.tokenEndpoint),
        audience: claims?.aud,
        scope: facts.scope ?? claims?.scope,
        expiresAt: (facts.expiration ?? claims?.exp)?.toISOString(),
      };
    },
    async sign(req, ctx) {
      // Before discovery there is nothing to send: the server's 401 says where to get a token.
      if (server === undefined && generation === 0) {
        signedWith.set(ctx, 0);
        return req;
      }
      const current = await token();
      signedWith.set(ctx, current.generation);
      if (hashed.of !== current.accessToken) hashed = { of: current.accessToken, id: `sha256:${createHash('sha256').update(current.accessToken).digest('hex').slice(0, 12)}` };
      return withHeaders(req, { authorization: `Bearer ${current.accessToken}` });
    },
    async onAuthFailure(failure: AuthFailure, ctx) {
      const challenge = failure.headers['www-authenticate'];
      const sent = signedWith.get(ctx) ?? 0;
      if (failure.status === 403) {
        if (challengeParam(challenge, 'error') !== 'insufficient_scope') return undefined;
        const needed = challengeParam(challenge, 'scope');
        return {
          retry: false,
          error: new CredentialError('ESP_OAUTH_SCOPE', `the server refused the OAuth access token for lacking scope (insufficient_scope${needed !== undefined && /^[\x21-\x7e ]{1,200}$/.test(needed) ? `; it asks for "${needed}"` : ''})`, {
            httpStatus: 403,
            hint: 'set --oauth-scope to the scopes the server asks for, and allow them for this client at the authorization server',
          }),
        };
      }
      if (failure.status !== 401) return undefined;
      const error = challengeParam(challenge, 'error');
      if (ctx.attempt === 1) {
        if (sent === 0) {
          metadataUrl = challengeParam(challenge, 'resource_metadata') ?? metadataUrl;
          return generation > 0 ? { retry: true } : refreshed();
        }
        // Requests in flight during a rotation fail together: one token request, the rest retry with it.
        if (sent < generation) return { retry: true };
        if (error === undefined || error === 'invalid_token') {
          log.info('the server rejected the OAuth access token; requesting a new one');
          return refreshed();
        }
      }
      return {
        retry: false,
        error: new CredentialError('ESP_OAUTH_REJECTED', `the server rejected the OAuth access token (HTTP 401${error !== undefined && /^[\w.-]{1,64}$/.test(error) ? `, ${error}` : ''})`, {
          httpStatus: 401,
          hint: 'check that the authorization server issues tokens for this MCP endpoint (resource/audience) with the scopes it needs (--oauth-scope)',
        }),
      };
    },
  };
}
