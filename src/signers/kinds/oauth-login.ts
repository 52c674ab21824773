import { resolve } from 'node:path';
import { ConfigError, type ProxyError } from '../../errors.js';
import { truthy } from '../../config/values.js';
import { safeUrl } from '../../logging/safe-url.js';
import { defineSignerKind, type SignerInput } from '../kind.js';
import { checkOAuthUrl } from '../oauth/url-policy.js';
import { hasLoginSync, tokenStorePath } from '../oauth/token-store.js';

export interface OAuthLoginConfig {
  readonly kind: 'oauth-login';
  /** The RFC 8707 resource: the endpoint without query or fragment. */
  readonly resource: string;
  /** --oauth-client-id without a secret or key: a pre-registered public client. */
  readonly clientId: string | undefined;
  readonly clientMetadataUrl: URL | undefined;
  readonly scope: string | undefined;
  /** --oauth-interactive: a proxy under a host may run the browser login itself. */
  readonly interactive: boolean;
  readonly openBrowser: boolean;
  readonly timeoutMs: number;
  readonly storePath: string | undefined;
  /** --config / --server the settings came from (the path absolute), so the login command shown finds them too. */
  readonly configFile: { readonly path: string; readonly server: string | undefined } | undefined;
}

/** https://www.rfc-editor.org/rfc/rfc8707#section-2: an absolute URI without a fragment; the query is not part of the resource. */
export function resourceOf(endpoint: URL): string {
  return `${endpoint.origin}${endpoint.pathname}`;
}

const clientIdOf = (input: SignerInput) => input.flag('oauth-client-id') ?? input.env('MCP_OAUTH_CLIENT_ID');
/** A secret or key makes the client id a client-credentials client, not a login. */
const hasClientSecret = (input: SignerInput) => (input.env('MCP_OAUTH_CLIENT_SECRET') ?? input.flag('oauth-client-secret-file') ?? input.flag('oauth-private-key-file')) !== undefined;
const interactiveOf = (input: SignerInput) => input.switchOn('oauth-interactive') || truthy(input.env('MCP_OAUTH_INTERACTIVE'));
const metadataUrlOf = (input: SignerInput) => input.flag('oauth-client-metadata-url') ?? input.env('MCP_OAUTH_CLIENT_METADATA_URL');

function configFileOf(input: SignerInput): OAuthLoginConfig['configFile'] {
  const path = input.flag('config') ?? input.env('MCP_PROXY_CONFIG');
  return path === undefined ? undefined : { path: resolve(path), server: input.flag('server') ?? input.env('MCP_PROXY_SERVER') };
}

function storedLoginExists(input: SignerInput): boolean {
  const path = tokenStorePath(input.rawEnv);
  return path !== undefined && hasLoginSync(path, resourceOf(input.endpoint), clientIdOf(input));
}

/** A person's OAuth login made with `mcp-signing-proxy login` (README "OAuth", "Browser login"). */
export const oauthLoginKind = defineSignerKind({
  kind: 'oauth-login',
  settings: [
    { name: 'oauth-client-metadata-url', type: 'string', value: 'URL', env: ['MCP_OAUTH_CLIENT_METADATA_URL'], help: 'https URL of your Client ID Metadata Document, used as the client id for a browser login where the server supports it', group: 'OAuth' },
    { name: 'oauth-interactive', type: 'boolean', env: ['MCP_OAUTH_INTERACTIVE=1'], help: 'under a host, run the browser login when no login is stored (the URL goes to stderr) instead of answering "run: mcp-signing-proxy login"', group: 'OAuth' },
    { name: 'no-browser', type: 'boolean', env: ['MCP_OAUTH_NO_BROWSER=1'], help: 'for a browser login, print the URL instead of opening a browser (SSH sessions)', group: 'OAuth' },
    { name: 'oauth-login-timeout', type: 'string', value: 'SECONDS', env: ['MCP_OAUTH_LOGIN_TIMEOUT'], default: '300', help: 'longest wait for the browser login to come back', group: 'OAuth' },
  ],
  ownsAuthorization: true,
  detect(input) {
    if (hasClientSecret(input)) return undefined;
    return interactiveOf(input) || metadataUrlOf(input) !== undefined || storedLoginExists(input) ? 'strong' : undefined;
  },
  configure(input): OAuthLoginConfig {
    const clientId = clientIdOf(input);
    if (clientId !== undefined && !/^[\x21-\x7e]{1,512}$/.test(clientId)) throw new ConfigError('--oauth-client-id / MCP_OAUTH_CLIENT_ID has spaces or control characters', 'set it to the client id alone');
    if (hasClientSecret(input)) {
      throw new ConfigError('a browser login (--signer oauth-login) uses no client secret or private key', 'unset MCP_OAUTH_CLIENT_SECRET / --oauth-client-secret-file / --oauth-private-key-file, or use --signer oauth-client-credentials');
    }
    const rawMetadataUrl = metadataUrlOf(input);
    let clientMetadataUrl: URL | undefined;
    if (rawMetadataUrl !== undefined) {
      try {
        clientMetadataUrl = checkOAuthUrl(rawMetadataUrl, 'client metadata document URL', false, '--oauth-client-metadata-url');
      } catch (err) {
        throw new ConfigError(`--oauth-client-metadata-url / MCP_OAUTH_CLIENT_METADATA_URL: ${(err as ProxyError).message}`, (err as ProxyError).hint);
      }
      // The MCP authorization spec, "Client ID Metadata Documents": an https URL with a path.
      if (clientMetadataUrl.protocol !== 'https:' || clientMetadataUrl.pathname === '/') {
        throw new ConfigError('--oauth-client-metadata-url / MCP_OAUTH_CLIENT_METADATA_URL must be an https URL with a path', 'e.g. https://example.com/mcp-client.json');
      }
    }
    const scope = input.flag('oauth-scope');
    if (scope !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope)) {
      throw new ConfigError('--oauth-scope must be scope names separated by single spaces (https://www.rfc-editor.org/rfc/rfc6749#section-3.3)', 'e.g. --oauth-scope "mcp:read mcp:write"');
    }
    const timeoutRaw = input.flag('oauth-login-timeout') ?? input.env('MCP_OAUTH_LOGIN_TIMEOUT');
    if (timeoutRaw !== undefined && (!/^\d+$/.test(timeoutRaw) || Number(timeoutRaw) < 1 || Number(timeoutRaw) > 3600)) {
      throw new ConfigError(`--oauth-login-timeout / MCP_OAUTH_LOGIN_TIMEOUT must be a whole number of seconds between 1 and 3600 (got "${timeoutRaw.slice(0, 20)}")`, 'e.g. --oauth-login-timeout 300');
    }
    return {
      kind: 'oauth-login',
      resource: resourceOf(input.endpoint),
      clientId,
      clientMetadataUrl,
      scope,
      interactive: interactiveOf(input),
      openBrowser: !(input.switchOn('no-browser') || truthy(input.env('MCP_OAUTH_NO_BROWSER'))),
      timeoutMs: (timeoutRaw === undefined ? 300 : Number(timeoutRaw)) * 1000,
      storePath: tokenStorePath(input.rawEnv),
      configFile: configFileOf(input),
    };
  },
  unused(input, chosen) {
    if (!chosen.ownsAuthorization || hasClientSecret(input)) return undefined;
    if (interactiveOf(input) || metadataUrlOf(input) !== undefined) {
      return new ConfigError(`a browser login (--oauth-interactive / --oauth-client-metadata-url) and the ${chosen.kind} signer both need the Authorization header`, 'unset those settings, or choose --signer oauth-login');
    }
    return undefined;
  },
  headerProblem: (name) =>
    name === 'authorization' ? { message: 'an "authorization" header conflicts with the oauth-login signer', hint: 'remove the authorization header: the OAuth login writes it' } : undefined,
  describe: (c) => ({
    oauthLogin: { resource: safeUrl(new URL(c.resource)), clientId: c.clientId, clientMetadataUrl: c.clientMetadataUrl?.href, scope: c.scope, interactive: c.interactive || undefined, store: c.storePath },
  }),
  async create(c, { config, dispatcher, logger, now }) {
    const [{ createOAuthLoginSigner }, { loginCommand, loginOptions }] = await Promise.all([import('../oauth-login.js'), import('../oauth/login-command.js')]);
    if (c.storePath === undefined) throw new ConfigError('the OAuth login store needs a home directory', 'set HOME (or XDG_CONFIG_HOME) in the environment of the proxy');
    const interactiveLogin = c.interactive
      ? async () => {
          const { runBrowserLogin } = await import('../oauth/login-flow.js');
          return runBrowserLogin(loginOptions(c, config.endpoint, dispatcher, now, (line) => process.stderr.write(`${line}\n`)));
        }
      : undefined;
    return createOAuthLoginSigner({
      resource: c.resource,
      storePath: c.storePath,
      configuredClientId: c.clientId,
      scope: c.scope,
      loginCommand: loginCommand(c, config.endpoint),
      interactiveLogin,
      dispatcher,
      logger,
      now,
    });
  },
});
