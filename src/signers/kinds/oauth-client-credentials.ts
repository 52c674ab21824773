import { readFileSync } from 'node:fs';
import { ConfigError, ProxyError } from '../../errors.js';
import { defineSignerKind, type SignerInput } from '../kind.js';
import { checkOAuthUrl } from '../oauth/url-policy.js';
import { SecretSource } from '../secret-source.js';

export interface OAuthClientCredentialsConfig {
  readonly kind: 'oauth-client-credentials';
  readonly clientId: string;
  /** MCP_OAUTH_CLIENT_SECRET (env only) or --oauth-client-secret-file; undefined with a private key. */
  readonly secret: SecretSource | undefined;
  readonly privateKeyFile: string | undefined;
  readonly keyId: string | undefined;
  /** Undefined: discovered from the server (RFC 9728 → RFC 8414). */
  readonly tokenUrl: URL | undefined;
  readonly scope: string | undefined;
  readonly clientAuth: 'basic' | 'post' | undefined;
}

function secretFile(path: string): SecretSource {
  return new SecretSource(`file ${path}`, () => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`--oauth-client-secret-file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path and its permissions');
    }
    if (text === '' || /[\r\n\0]/.test(text)) throw new ConfigError(`--oauth-client-secret-file ${path} must hold the client secret alone on one line`, 'write only the secret into the file');
    return text;
  });
}

const given = (input: SignerInput) => ({
  clientId: input.flag('oauth-client-id') ?? input.env('MCP_OAUTH_CLIENT_ID'),
  secret: input.env('MCP_OAUTH_CLIENT_SECRET'),
  secretFile: input.flag('oauth-client-secret-file'),
  keyFile: input.flag('oauth-private-key-file'),
});

/** OAuth 2.1 client credentials for service-to-service callers (README "OAuth"). */
export const oauthClientCredentialsKind = defineSignerKind({
  kind: 'oauth-client-credentials',
  settings: [
    { name: 'oauth-client-id', type: 'string', value: 'ID', env: ['MCP_OAUTH_CLIENT_ID'], help: 'OAuth client id; with a secret or a private key the proxy gets tokens by client credentials', group: 'OAuth' },
    { name: 'oauth-client-secret-file', type: 'string', value: 'PATH', help: 'file holding the client secret (or MCP_OAUTH_CLIENT_SECRET)', group: 'OAuth' },
    { name: 'oauth-private-key-file', type: 'string', value: 'PATH', help: 'PEM private key for private_key_jwt (RSA: RS256, P-256: ES256) instead of a secret', group: 'OAuth' },
    { name: 'oauth-key-id', type: 'string', value: 'KID', help: 'key id (kid) put in the client assertion header', group: 'OAuth' },
    { name: 'oauth-token-url', type: 'string', value: 'URL', help: "token endpoint; default: discovered from the server's 401 (RFC 9728, RFC 8414)", group: 'OAuth' },
    { name: 'oauth-scope', type: 'string', value: 'SCOPES', help: 'space-separated scopes to request', group: 'OAuth' },
    { name: 'oauth-client-auth', type: 'string', value: 'basic|post', help: 'how the client secret is sent to the token endpoint; without it basic, or post when the server offers only that', group: 'OAuth' },
  ],
  refusedFlags: { '--oauth-client-secret': 'set MCP_OAUTH_CLIENT_SECRET in the env, or use --oauth-client-secret-file PATH' },
  envOnly: [{ env: 'MCP_OAUTH_CLIENT_SECRET', key: 'oauth-client-secret', help: 'OAuth client secret (secrets never go on the command line)', group: 'OAuth' }],
  ownsAuthorization: true,
  detect(input) {
    const g = given(input);
    return g.clientId !== undefined && (g.secret ?? g.secretFile ?? g.keyFile) !== undefined ? 'strong' : undefined;
  },
  configure(input): OAuthClientCredentialsConfig {
    const g = given(input);
    if (g.clientId === undefined) throw new ConfigError('--signer oauth-client-credentials needs a client id', 'set --oauth-client-id / MCP_OAUTH_CLIENT_ID');
    if (!/^[\x21-\x7e]{1,512}$/.test(g.clientId)) throw new ConfigError('--oauth-client-id / MCP_OAUTH_CLIENT_ID has spaces or control characters', 'set it to the client id alone');
    const secrets = [g.secret, g.secretFile, g.keyFile].filter((v) => v !== undefined).length;
    if (secrets === 0) throw new ConfigError('OAuth client credentials need a client secret or a private key', 'set MCP_OAUTH_CLIENT_SECRET, --oauth-client-secret-file PATH, or --oauth-private-key-file PATH');
    if (secrets > 1) throw new ConfigError('more than one of MCP_OAUTH_CLIENT_SECRET, --oauth-client-secret-file and --oauth-private-key-file is set', 'keep one of them');
    const clientAuth = input.flag('oauth-client-auth');
    if (clientAuth !== undefined && clientAuth !== 'basic' && clientAuth !== 'post') throw new ConfigError(`--oauth-client-auth must be basic or post (got "${clientAuth.slice(0, 20)}")`, 'use basic (client_secret_basic) or post (client_secret_post)');
    if (clientAuth !== undefined && g.keyFile !== undefined) throw new ConfigError('--oauth-client-auth applies to a client secret, not to --oauth-private-key-file', 'remove --oauth-client-auth: a private key always uses private_key_jwt');
    const keyId = input.flag('oauth-key-id');
    if (keyId !== undefined && g.keyFile === undefined) throw new ConfigError('--oauth-key-id is set without --oauth-private-key-file', 'add the private key, or remove --oauth-key-id');
    const rawUrl = input.flag('oauth-token-url');
    let tokenUrl: URL | undefined;
    if (rawUrl !== undefined) {
      try {
        tokenUrl = checkOAuthUrl(rawUrl, 'token endpoint', input.allowHttp, '--oauth-token-url');
      } catch (err) {
        throw new ConfigError(`--oauth-token-url: ${(err as ProxyError).message}`, (err as ProxyError).hint);
      }
    }
    const scope = input.flag('oauth-scope');
    if (scope !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope)) {
      throw new ConfigError('--oauth-scope must be scope names separated by single spaces (https://www.rfc-editor.org/rfc/rfc6749#section-3.3)', 'e.g. --oauth-scope "mcp:read mcp:write"');
    }
    const secretEnv = g.secret;
    return {
      kind: 'oauth-client-credentials',
      clientId: g.clientId,
      secret: secretEnv !== undefined ? new SecretSource('env MCP_OAUTH_CLIENT_SECRET', () => secretEnv) : g.secretFile !== undefined ? secretFile(g.secretFile) : undefined,
      privateKeyFile: g.keyFile,
      keyId,
      tokenUrl,
      scope,
      clientAuth,
    };
  },
  unused(input, chosen) {
    if (kindClaims(input) && chosen.ownsAuthorization) {
      return new ConfigError(`OAuth client credentials and the ${chosen.kind} signer both need the Authorization header`, 'unset the --oauth-* settings, or choose --signer oauth-client-credentials');
    }
    return undefined;
  },
  headerProblem: (name) =>
    name === 'authorization' ? { message: 'an "authorization" header conflicts with the oauth-client-credentials signer', hint: 'remove the authorization header: the OAuth signer writes it' } : undefined,
  describe: (c) => ({
    oauth: { clientId: c.clientId, secret: c.secret?.label, privateKeyFile: c.privateKeyFile, tokenUrl: c.tokenUrl?.origin ?? 'discovered', scope: c.scope },
  }),
  async create(c, { config, dispatcher, logger, now }) {
    const [{ createOAuthClientCredentialsSigner }, { loadAssertionKey }] = await Promise.all([import('../oauth-client-credentials.js'), import('../oauth/client-assertion.js')]);
    return createOAuthClientCredentialsSigner({
      endpoint: config.endpoint,
      clientId: c.clientId,
      secret: c.secret?.reveal(),
      key: c.privateKeyFile === undefined ? undefined : loadAssertionKey(c.privateKeyFile, c.keyId),
      tokenUrl: c.tokenUrl,
      scope: c.scope,
      clientAuth: c.clientAuth,
      dispatcher,
      logger,
      now,
    });
  },
});

function kindClaims(input: SignerInput): boolean {
  return oauthClientCredentialsKind.detect(input) === 'strong';
}
