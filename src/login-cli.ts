/**
 * `mcp-signing-proxy login` and `logout` (README "OAuth", "Browser login"), run by a person
 * in a terminal with the same endpoint settings as the host configuration. Messages go to
 * stderr, the outcome to stdout; no token, code or verifier is ever printed.
 */
import type { Config } from './config/config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logging/logger.js';
import { registerSecret, safeUrl } from './logging/safe-url.js';
import type { OAuthLoginConfig } from './signers/kinds/oauth-login.js';
import { loginOptions } from './signers/oauth/login-command.js';
import { runBrowserLogin } from './signers/oauth/login-flow.js';
import { removeLogins, saveLogin, type StoredLogin } from './signers/oauth/token-store.js';
import { registerConfiguredSecrets } from './signers/registry.js';
import { createDispatcher } from './transport/dispatcher.js';

function loginConfig(config: Config): OAuthLoginConfig & { storePath: string } {
  if (config.auth.kind !== 'oauth-login') throw new ConfigError(`login and logout are for the OAuth browser login, not --signer ${config.auth.kind}`, 'remove --signer, or use --signer oauth-login');
  const c = config.auth as OAuthLoginConfig;
  if (c.storePath === undefined) throw new ConfigError('the OAuth login store needs a home directory', 'set HOME (or XDG_CONFIG_HOME)');
  return c as OAuthLoginConfig & { storePath: string };
}

function describe(l: StoredLogin): string {
  return `${safeUrl(new URL(l.resource))} at ${safeUrl(new URL(l.issuer))} (client ${l.registration === 'pre-registered' ? l.clientId : `${l.registration} registration`})`;
}

/** https://www.rfc-editor.org/rfc/rfc6749#section-3.3: a scope the server sent is printed only if it is one (no control characters reach the terminal). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

const warnUnlocked = () => process.stderr.write('mcp-signing-proxy: the OAuth token store is locked by another process; going on without the lock\n');

export async function runLogin(config: Config): Promise<void> {
  const c = loginConfig(config);
  registerConfiguredSecrets(config.auth);
  for (const [, value] of config.headers) registerSecret(value);
  // Only warnings: a person reads this terminal; --debug shows the rest.
  const level = config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn';
  const dispatcher = createDispatcher(config, createLogger(level, config.log.file));
  const login = await runBrowserLogin(loginOptions(c, config.endpoint, dispatcher, Date.now, (line) => process.stderr.write(`${line}\n`)));
  await saveLogin(c.storePath, login, warnUnlocked);
  const expires = login.expiresAt === null ? '' : `; the access token expires ${new Date(login.expiresAt).toISOString()}${login.refreshToken === null ? '' : ' and is refreshed'}`;
  process.stdout.write(`logged in: ${describe(login)}${login.scope === null || !SCOPE.test(login.scope) ? '' : `, scope "${login.scope}"`}${expires}\nstored in ${c.storePath}\n`);
  await dispatcher.close();
}

export async function runLogout(config: Config): Promise<void> {
  const c = loginConfig(config);
  const removed = await removeLogins(c.storePath, c.resource, c.clientId, warnUnlocked);
  if (removed.length === 0) {
    process.stdout.write(`no stored login for ${safeUrl(new URL(c.resource))}${c.clientId === undefined ? '' : ` with --oauth-client-id ${c.clientId}`} in ${c.storePath}\n`);
    return;
  }
  for (const l of removed) process.stdout.write(`removed the stored login: ${describe(l)} from ${c.storePath}\n`);
}
