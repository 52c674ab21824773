import { createHash } from 'node:crypto';
import { memoizeCredentials } from '../credentials/memoize-credentials.js';
import { CredentialError, ProxyError } from '../errors.js';
import { registerSecret, safeUrl } from '../logging/safe-url.js';
import type { Logger } from '../logging/logger.js';
import type { Dispatcher } from '../transport/undici.js';
import { jwtClaims } from './jwt-claims.js';
import { challengeParam } from './oauth/challenge.js';
import { LoginExpiredError, refreshTokens } from './oauth/code-grant.js';
import { findLogin, saveLogin, updateLogin, waitForUnlock, type StoredLogin } from './oauth/token-store.js';
import type { AuthFailure, Signer, SignerVerdict } from './signer.js';
import { withHeaders } from './signer.js';

export interface OAuthLoginSignerOptions {
  readonly resource: string;
  readonly storePath: string;
  readonly configuredClientId: string | undefined;
  readonly scope: string | undefined;
  /** The command that logs in with these settings, for the error that asks for it. */
  readonly loginCommand: string;
  /** --oauth-interactive: run the browser login from here when no login is stored. */
  readonly interactiveLogin: (() => Promise<StoredLogin>) | undefined;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly now: () => number;
}

/** A stored access token is not used this close to its expiry (or half its lifetime, if shorter); it is refreshed first. */
const EXPIRY_MARGIN_MS = 60_000;

function register(l: StoredLogin): void {
  registerSecret(l.accessToken, 'oauth-login-access-token');
  registerSecret(l.refreshToken ?? undefined, 'oauth-login-refresh-token');
  registerSecret(l.clientSecret);
}

/**
 * The browser login's signer (README "OAuth", "Browser login"): the access token stored by
 * `mcp-signing-proxy login`, refreshed with its refresh token ahead of expiry (the new
 * refresh token stored: authorization servers rotate them, https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2). Without a
 * usable login every request is answered at once with the error that names the login
 * command; it never waits for a person unless --oauth-interactive is set. The store is read
 * again on each miss, so a login made while the proxy runs is picked up.
 */
export function createOAuthLoginSigner(o: OAuthLoginSignerOptions): Signer {
  const log = o.logger.child({ component: 'oauth-login' });
  /** The access token the server rejected: not handed out again even if the store still holds it. */
  let rejected: string | undefined;
  let generation = 0;
  const signedWith = new WeakMap<object, number>();
  const onUnlocked = () => log.warn('the OAuth token store is locked by another process; going on without the lock');
  // The resource is the endpoint's path, which may carry a secret: printed masked, sent as is.
  const shown = safeUrl(new URL(o.resource));

  function loginRequired(why: string): CredentialError {
    return new CredentialError('ESP_OAUTH_LOGIN_REQUIRED', why, { httpStatus: 401, hint: `run: ${o.loginCommand}` });
  }

  const usable = (l: StoredLogin | undefined): boolean =>
    l !== undefined && l.accessToken !== rejected && (l.expiresAt === null || l.expiresAt - o.now() > Math.min(EXPIRY_MARGIN_MS, (l.expiresAt - l.savedAt) / 2));

  async function refresh(): Promise<StoredLogin> {
    let lost: LoginExpiredError | undefined;
    const next = await updateLogin(
      o.storePath,
      o.resource,
      o.configuredClientId,
      async (current) => {
        // Another process may have refreshed (and rotated) already: its result is ours too.
        if (current === undefined || usable(current) || current.refreshToken === null) return current;
        try {
          const t = await refreshTokens(o.dispatcher, new URL(current.tokenEndpoint), current, { refreshToken: current.refreshToken, resource: o.resource, scope: o.scope }, o.now());
          log.info({ expiresInS: t.expiresAt === null ? undefined : Math.round((t.expiresAt - o.now()) / 1000), rotated: t.refreshToken !== undefined && t.refreshToken !== current.refreshToken }, 'OAuth access token refreshed');
          return { ...current, accessToken: t.accessToken, expiresAt: t.expiresAt, refreshToken: t.refreshToken ?? current.refreshToken, scope: t.scope ?? current.scope, savedAt: o.now() };
        } catch (err) {
          if (!(err instanceof LoginExpiredError)) throw err;
          lost = err;
          return current;
        }
      },
      onUnlocked,
    );
    if (lost !== undefined) {
      // A process that refreshed without the lock (it waited too long) may be rotating the token right now.
      await waitForUnlock(o.storePath);
      const latest = await findLogin(o.storePath, o.resource, o.configuredClientId);
      if (latest !== undefined && usable(latest)) return latest;
      throw loginRequired(`the OAuth login for ${shown} can no longer be refreshed (${lost.message})`);
    }
    if (next !== undefined && usable(next)) return next;
    throw loginRequired(`the stored OAuth login for ${shown} has no usable access token and cannot be refreshed`);
  }

  async function obtain(): Promise<StoredLogin> {
    const stored = await findLogin(o.storePath, o.resource, o.configuredClientId);
    if (stored !== undefined) register(stored);
    if (stored !== undefined && usable(stored)) return stored;
    if (stored !== undefined && stored.refreshToken !== null) {
      try {
        return await refresh();
      } catch (err) {
        // A login that cannot be refreshed any more is made again where a person may be asked.
        if (o.interactiveLogin === undefined || !(err instanceof CredentialError && err.code === 'ESP_OAUTH_LOGIN_REQUIRED')) throw err;
      }
    }
    if (o.interactiveLogin !== undefined) {
      const fresh = await o.interactiveLogin();
      register(fresh);
      await saveLogin(o.storePath, fresh, onUnlocked);
      return fresh;
    }
    throw loginRequired(stored === undefined ? `no OAuth login is stored for ${shown}` : `the stored OAuth login for ${shown} has expired and has no refresh token`);
  }

  const token = memoizeCredentials(
    async () => {
      const l = await obtain();
      return { login: l, expiration: l.expiresAt === null ? undefined : new Date(l.expiresAt), generation: ++generation };
    },
    { now: o.now, onBackgroundError: (err) => log.warn({ err }, 'refreshing the OAuth access token failed; the current one stays in use until it expires') },
  );

  let hashed = { of: '', id: '' };
  let current: StoredLogin | undefined;
  /** Why the latest sign got no token, for --check. */
  let problem: ProxyError | undefined;

  async function renewed(): Promise<SignerVerdict> {
    try {
      await token({ forceRefresh: true });
      return { retry: true };
    } catch (err) {
      return { retry: false, error: err as CredentialError };
    }
  }

  return {
    name: 'oauth-login',
    identity() {
      if (current === undefined) return undefined;
      const out: Record<string, string> = { oauthClientId: current.clientId, oauthIssuer: current.issuer };
      if (hashed.id !== '') out.oauthToken = hashed.id;
      return out;
    },
    credentialFacts() {
      if (current === undefined) return undefined;
      // Opaque tokens say nothing themselves; the stored login says what they were issued for.
      const claims = jwtClaims(current.accessToken);
      return {
        issuer: current.issuer,
        resource: safeUrl(new URL(current.resource)),
        // The audience is usually the resource itself, so it is masked the same way.
        audience: typeof claims?.aud === 'string' && URL.canParse(claims.aud) ? safeUrl(new URL(claims.aud)) : claims?.aud,
        scope: current.scope ?? claims?.scope,
        expiresAt: current.expiresAt === null ? undefined : new Date(current.expiresAt).toISOString(),
        refreshToken: current.refreshToken === null ? 'none stored (a new login is needed when this token expires)' : 'stored',
        clientId: current.clientId,
        registration: current.registration,
      };
    },
    async credentialProblem() {
      if (current !== undefined) return undefined;
      if (problem !== undefined) return problem;
      // No request was signed (the check stopped before the MCP exchange): look at the store only.
      const stored = await findLogin(o.storePath, o.resource, o.configuredClientId);
      return stored === undefined && o.interactiveLogin === undefined ? loginRequired(`no OAuth login is stored for ${shown}`) : undefined;
    },
    async sign(req, ctx) {
      let t;
      try {
        t = await token();
      } catch (err) {
        if (err instanceof ProxyError) problem = err;
        throw err;
      }
      current = t.login;
      signedWith.set(ctx, t.generation);
      if (hashed.of !== t.login.accessToken) hashed = { of: t.login.accessToken, id: `sha256:${createHash('sha256').update(t.login.accessToken).digest('hex').slice(0, 12)}` };
      return withHeaders(req, { authorization: `Bearer ${t.login.accessToken}` });
    },
    async onAuthFailure(failure: AuthFailure, ctx) {
      if (failure.status !== 401) return undefined;
      const error = challengeParam(failure.headers['www-authenticate'], 'error');
      if (ctx.attempt === 1) {
        // Requests in flight during a refresh fail together: one refresh, the rest retry with it.
        if ((signedWith.get(ctx) ?? 0) < generation) return { retry: true };
        if (error === undefined || error === 'invalid_token') {
          log.info('the server rejected the OAuth access token; refreshing it');
          rejected = current?.accessToken;
          return renewed();
        }
      }
      return {
        retry: false,
        error: loginRequired(`the server rejected the OAuth access token of the stored login (HTTP 401${error !== undefined && /^[\w.-]{1,64}$/.test(error) ? `, ${error}` : ''})`),
      };
    },
  };
}
