import { ConfigError } from '../../errors.js';
import { defineSignerKind } from '../kind.js';
import { SecretSource } from '../secret-source.js';

export interface BearerSignerConfig {
  readonly kind: 'bearer';
  /** MCP_BEARER_TOKEN (env only: argv is world-readable); undefined when a file is used. */
  readonly token: SecretSource | undefined;
  readonly tokenFile: string | undefined;
}

/** `Authorization: Bearer …` from MCP_BEARER_TOKEN or a token file (README "Bearer token"). */
export const bearerKind = defineSignerKind({
  kind: 'bearer',
  settings: [
    { name: 'bearer-token-file', type: 'string', value: 'PATH', env: ['MCP_BEARER_TOKEN_FILE'], help: 'bearer token file, re-read when it changes', group: 'Headers and tokens' },
  ],
  refusedFlags: {
    '--bearer-token': 'set MCP_BEARER_TOKEN in the env, or use --bearer-token-file PATH',
    '--token': 'set MCP_BEARER_TOKEN in the env, or use --bearer-token-file PATH',
  },
  envOnly: [{ env: 'MCP_BEARER_TOKEN', key: 'bearer-token', help: 'bearer token (secrets never go on the command line)', group: 'Headers and tokens' }],
  ownsAuthorization: true,
  detect: (input) => (input.flag('bearer-token-file') ?? input.env('MCP_BEARER_TOKEN_FILE') ?? input.env('MCP_BEARER_TOKEN')) === undefined ? undefined : 'strong',
  configure(input): BearerSignerConfig {
    const tokenFile = input.flag('bearer-token-file') ?? input.env('MCP_BEARER_TOKEN_FILE');
    const token = input.env('MCP_BEARER_TOKEN');
    if (token === undefined && tokenFile === undefined) {
      throw new ConfigError('--signer bearer needs a token', 'set MCP_BEARER_TOKEN, or MCP_BEARER_TOKEN_FILE / --bearer-token-file PATH');
    }
    return { kind: 'bearer', token: tokenFile === undefined && token !== undefined ? new SecretSource('env MCP_BEARER_TOKEN', () => token) : undefined, tokenFile };
  },
  unused(input, chosen) {
    const given = (input.flag('bearer-token-file') ?? input.env('MCP_BEARER_TOKEN_FILE') ?? input.env('MCP_BEARER_TOKEN')) !== undefined;
    if (!given || !chosen.ownsAuthorization) return undefined;
    const what = chosen.kind === 'sigv4' ? 'SigV4' : `the ${chosen.kind} signer`;
    return new ConfigError(`a bearer token and ${what} both need the Authorization header`, `unset MCP_BEARER_TOKEN/MCP_BEARER_TOKEN_FILE, or choose --signer bearer`);
  },
  headerProblem: (name) =>
    name === 'authorization'
      ? { message: 'an "authorization" header conflicts with the bearer signer', hint: 'use MCP_BEARER_TOKEN alone, or the header alone with --signer none' }
      : undefined,
  describe: (c) => ({ bearer: c.tokenFile !== undefined ? `file ${c.tokenFile}` : 'env MCP_BEARER_TOKEN' }),
  async create(c) {
    const { createBearerSigner } = await import('../bearer.js');
    return createBearerSigner({ token: c.token?.reveal(), tokenFile: c.tokenFile });
  },
});
