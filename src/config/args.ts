import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';

/** Raw command-line values; normalizeConfig() merges them with the environment. */
export interface CliArgs {
  endpoint: string | undefined;
  signer: string | undefined;
  header: string[];
  headerFile: string | undefined;
  headersHelper: string | undefined;
  headersHelperTtl: string | undefined;
  headersHelperTimeout: string | undefined;
  bearerTokenFile: string | undefined;
  service: string | undefined;
  region: string | undefined;
  profile: string | undefined;
  roleArn: string | undefined;
  roleSessionName: string | undefined;
  externalId: string | undefined;
  roleDuration: string | undefined;
  stsRegion: string | undefined;
  clientCert: string | undefined;
  clientKey: string | undefined;
  clientPfx: string | undefined;
  caCert: string | undefined;
  insecure: boolean;
  allowHttp: boolean;
  noEnvProxy: boolean;
  connectTimeout: string | undefined;
  maxConnections: string | undefined;
  maxLineBytes: string | undefined;
  logLevel: string | undefined;
  logFile: string | undefined;
  debug: boolean;
  silent: boolean;
  check: boolean;
  help: boolean;
  version: boolean;
}

const OPTIONS = {
  endpoint: { type: 'string' },
  signer: { type: 'string' },
  header: { type: 'string', multiple: true, short: 'H' },
  'header-file': { type: 'string' },
  'headers-helper': { type: 'string' },
  'headers-helper-ttl': { type: 'string' },
  'headers-helper-timeout': { type: 'string' },
  'bearer-token-file': { type: 'string' },
  service: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'role-arn': { type: 'string' },
  'role-session-name': { type: 'string' },
  'external-id': { type: 'string' },
  'role-duration': { type: 'string' },
  'sts-region': { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  'client-pfx': { type: 'string' },
  'ca-cert': { type: 'string' },
  insecure: { type: 'boolean' },
  'allow-http': { type: 'boolean' },
  'no-env-proxy': { type: 'boolean' },
  // mcp-remote needs --enable-proxy; we honour proxy env by default, so it is accepted and ignored.
  'enable-proxy': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  'log-level': { type: 'string' },
  'log-file': { type: 'string' },
  debug: { type: 'boolean' },
  silent: { type: 'boolean' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** Flags that look like they take a secret: refused, because argv is world-readable (ps). */
const SECRET_FLAGS: Record<string, string> = {
  '--bearer-token': 'set MCP_BEARER_TOKEN in the env, or use --bearer-token-file PATH',
  '--token': 'set MCP_BEARER_TOKEN in the env, or use --bearer-token-file PATH',
  '--client-key-passphrase': 'set MCP_CLIENT_KEY_PASSPHRASE in the env',
  '--passphrase': 'set MCP_CLIENT_KEY_PASSPHRASE in the env',
  '--aws-secret-access-key': 'use a profile (--profile) or the AWS_* env variables',
};

export function parseCliArgs(argv: readonly string[]): CliArgs {
  for (const a of argv) {
    const flag = a.split('=')[0] as string;
    const fix = SECRET_FLAGS[flag];
    if (fix !== undefined) throw new ConfigError(`${flag} is not accepted: command lines are visible to every user on the machine`, fix);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    throw new ConfigError(msg.replace(/\. To specify a positional.*$/, ''), 'run mcp-signing-proxy --help for the list of flags');
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 1) {
    throw new ConfigError(`expected at most one endpoint URL argument, got ${positionals.length}`, 'pass only the MCP server URL as a positional argument');
  }
  if (positionals.length === 1 && v.endpoint !== undefined) {
    throw new ConfigError('the endpoint is given both as an argument and with --endpoint', 'keep one of them');
  }
  return {
    endpoint: positionals[0] ?? v.endpoint,
    signer: v.signer,
    header: v.header ?? [],
    headerFile: v['header-file'],
    headersHelper: v['headers-helper'],
    headersHelperTtl: v['headers-helper-ttl'],
    headersHelperTimeout: v['headers-helper-timeout'],
    bearerTokenFile: v['bearer-token-file'],
    service: v.service,
    region: v.region,
    profile: v.profile,
    roleArn: v['role-arn'],
    roleSessionName: v['role-session-name'],
    externalId: v['external-id'],
    roleDuration: v['role-duration'],
    stsRegion: v['sts-region'],
    clientCert: v['client-cert'],
    clientKey: v['client-key'],
    clientPfx: v['client-pfx'],
    caCert: v['ca-cert'],
    insecure: v.insecure ?? false,
    allowHttp: v['allow-http'] ?? false,
    noEnvProxy: v['no-env-proxy'] ?? false,
    connectTimeout: v['connect-timeout'],
    maxConnections: v['max-connections'],
    maxLineBytes: v['max-line-bytes'],
    logLevel: v['log-level'],
    logFile: v['log-file'],
    debug: v.debug ?? false,
    silent: v.silent ?? false,
    check: v.check ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
