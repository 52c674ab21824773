import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { SIGNER_ENV_ONLY, SIGNER_NAMES, SIGNER_REFUSED_FLAGS, SIGNER_SETTINGS } from '../signers/registry.js';

/** Sections of `--help`, in display order. */
export const GROUPS = ['Endpoint and signer', 'Headers and tokens', 'AWS SigV4', 'OAuth', 'TLS and network', 'Least privilege', 'Relay and logging', 'Other'] as const;
type Group = (typeof GROUPS)[number];

/**
 * One flag: its parseArgs definition and its `--help` entry. parseArgs' options, the
 * CliArgs fields (camel-cased names) and the help text are all generated from SETTINGS, so
 * adding a flag is one row here (plus reading it in normalizeConfig).
 */
export interface Setting {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** What the value looks like in the help, e.g. PATH. */
  readonly value?: string;
  /** Environment variables that set the same thing, as the help shows them. */
  readonly env?: readonly string[];
  readonly default?: string;
  readonly help: string;
  readonly group: Group;
  /** Accepted for compatibility, not listed. */
  readonly hidden?: boolean;
  /**
   * A comma-separated list: a config file may give it as a JSON array too. (Repeatable
   * flags, `multiple`, take a string or an array there anyway.)
   */
  readonly list?: boolean;
  /** Not a key of the config file (README "Config file"): actions and shorthands. */
  readonly file?: false;
}

export const SETTINGS = [
  { name: 'endpoint', type: 'string', value: 'URL', env: ['MCP_ENDPOINT'], help: 'remote MCP endpoint; also the first argument', group: 'Endpoint and signer' },
  { name: 'signer', type: 'string', value: 'KIND', env: ['MCP_SIGNER'], default: 'auto', help: `${[...SIGNER_NAMES, 'auto'].join(', ')}; auto: sigv4 for AWS URLs, --service or a role ARN; oauth-client-credentials when a client id and a secret or key are set; bearer when a token is set; oauth-login when "mcp-signing-proxy login" stored a login for the endpoint; else none`, group: 'Endpoint and signer' },
  { name: 'signer-module', type: 'string', value: 'PATH', env: ['MCP_SIGNER_MODULE'], help: 'ES module exporting sign(request, ctx) (and optionally onAuthFailure); runs last in the chain, after the signer above', group: 'Endpoint and signer' },
  { name: 'transport', type: 'string', value: 'auto|streamable-http|sse', env: ['MCP_TRANSPORT'], default: 'auto', help: 'auto: Streamable HTTP, legacy HTTP+SSE when the server answers initialize with 400/404/405; mcp-remote\'s http-first, sse-first, http-only, sse-only are accepted', group: 'Endpoint and signer' },
  { name: 'protocol', type: 'string', value: 'auto|passthrough|bridge', env: ['MCP_PROTOCOL'], default: 'auto', help: 'bridge: speak MCP 2026-07-28 to the server for a 2025-era client (initialize answered from server/discover, input requests and notifications relayed); passthrough: relay each era as it is; auto: bridge when a 2026-07-28 server refuses 2025-era clients or serves them without a session', group: 'Endpoint and signer' },
  { name: 'header', type: 'string', short: 'H', multiple: true, value: '"Name: value"', env: ['MCP_HEADERS'], help: 'static header, repeatable; Name=value also accepted; ${VAR} and ${VAR:-default} are expanded; MCP_HEADERS holds one per line', group: 'Headers and tokens' },
  { name: 'header-file', type: 'string', value: 'PATH', env: ['MCP_HEADER_FILE'], help: 'file of "Name: value" lines', group: 'Headers and tokens' },
  { name: 'headers-helper', type: 'string', value: 'CMD', env: ['MCP_HEADERS_HELPER'], help: 'command printing a JSON object of headers (or "Name: value" lines); run through the shell without stdin', group: 'Headers and tokens' },
  { name: 'headers-helper-ttl', type: 'string', value: 'SECONDS', env: ['MCP_HEADERS_HELPER_TTL'], default: '300', help: 'run the helper again after this long (and on 401/403)', group: 'Headers and tokens' },
  { name: 'headers-helper-timeout', type: 'string', value: 'SECONDS', env: ['MCP_HEADERS_HELPER_TIMEOUT'], default: '10', help: 'longest a helper run may take', group: 'Headers and tokens' },
  ...SIGNER_SETTINGS,
  { name: 'client-cert', type: 'string', value: 'PATH', env: ['MCP_CLIENT_CERT'], help: 'PEM client certificate (mTLS); falls back to CLAUDE_CODE_CLIENT_CERT', group: 'TLS and network' },
  { name: 'client-key', type: 'string', value: 'PATH', env: ['MCP_CLIENT_KEY'], help: 'PEM private key of the client certificate; falls back to CLAUDE_CODE_CLIENT_KEY', group: 'TLS and network' },
  { name: 'client-pfx', type: 'string', value: 'PATH', env: ['MCP_CLIENT_PFX'], help: 'PKCS#12 bundle instead of certificate and key', group: 'TLS and network' },
  { name: 'ca-cert', type: 'string', value: 'PATH', env: ['MCP_CA_CERT'], help: 'extra trusted CA bundle, added to the default roots', group: 'TLS and network' },
  { name: 'insecure', type: 'boolean', env: ['MCP_INSECURE=1'], help: 'do not verify the server certificate (never in production)', group: 'TLS and network' },
  { name: 'allow-http', type: 'boolean', env: ['MCP_ALLOW_HTTP=1'], help: 'allow http:// to hosts other than loopback', group: 'TLS and network' },
  { name: 'no-env-proxy', type: 'boolean', env: ['MCP_NO_ENV_PROXY=1'], help: 'ignore HTTPS_PROXY, HTTP_PROXY and NO_PROXY', group: 'TLS and network' },
  // mcp-remote needs --enable-proxy; we honour proxy env by default, so it is accepted and ignored.
  { name: 'enable-proxy', type: 'boolean', help: 'accepted for mcp-remote users; proxies are honoured by default', group: 'TLS and network', hidden: true },
  { name: 'connect-timeout', type: 'string', value: 'SECONDS', env: ['MCP_CONNECT_TIMEOUT'], default: '10', help: 'longest wait for a connection', group: 'TLS and network' },
  { name: 'max-connections', type: 'string', value: 'N', env: ['MCP_MAX_CONNECTIONS'], default: '32', help: 'connections to the server (at least 3); more calls wait their turn', group: 'TLS and network' },
  { name: 'allow-tools', type: 'string', value: 'LIST', env: ['MCP_ALLOW_TOOLS'], help: 'only these tools exist for the client: comma-separated names, * matches any characters', group: 'Least privilege', list: true },
  { name: 'deny-tools', type: 'string', value: 'LIST', env: ['MCP_DENY_TOOLS'], help: 'these tools are hidden and their calls refused; wins over every allow', group: 'Least privilege', list: true },
  { name: 'read-only', type: 'boolean', env: ['MCP_READ_ONLY=1'], help: 'only tools the server annotates readOnlyHint: true, plus those in --allow-tools', group: 'Least privilege' },
  { name: 'allow-prompts', type: 'string', value: 'LIST', env: ['MCP_ALLOW_PROMPTS'], help: 'only these prompts exist (names, * globs)', group: 'Least privilege', list: true },
  { name: 'deny-prompts', type: 'string', value: 'LIST', env: ['MCP_DENY_PROMPTS'], help: 'these prompts are hidden and refused', group: 'Least privilege', list: true },
  { name: 'allow-resources', type: 'string', value: 'LIST', env: ['MCP_ALLOW_RESOURCES'], help: 'only these resources and templates exist (URIs, * globs)', group: 'Least privilege', list: true },
  { name: 'deny-resources', type: 'string', value: 'LIST', env: ['MCP_DENY_RESOURCES'], help: 'these resources and templates are hidden and refused', group: 'Least privilege', list: true },
  { name: 'pin-tools', type: 'string', value: 'FILE', env: ['MCP_PIN_TOOLS'], help: 'pin each tool (digest of description, input schema, annotations) per endpoint; a changed or new tool is hidden until accepted', group: 'Least privilege' },
  { name: 'accept-tool', type: 'string', value: 'LIST', help: 'with --pin-tools and the endpoint settings: accept the changed or new tools named (* globs) as last seen, then exit', group: 'Least privilege', list: true, file: false },
  { name: 'audit-log', type: 'string', value: 'PATH', env: ['MCP_AUDIT_LOG'], help: 'JSON Lines (0600, hash-chained) with one line per tools/call, resources/read, prompts/get and refusal', group: 'Least privilege' },
  { name: 'audit-args', type: 'string', value: 'shape|hash|full', env: ['MCP_AUDIT_ARGS'], default: 'shape', help: "what the audit log keeps of the arguments: their shape, plus a SHA-256, or the values", group: 'Least privilege' },
  { name: 'max-response-bytes', type: 'string', value: 'N', env: ['MCP_MAX_RESPONSE_BYTES'], help: 'largest message from the server (a JSON body or one event); a larger one is answered with an error', group: 'Relay and logging' },
  { name: 'max-line-bytes', type: 'string', value: 'N', env: ['MCP_MAX_LINE_BYTES'], default: '33554432', help: 'largest stdin line', group: 'Relay and logging' },
  { name: 'log-level', type: 'string', value: 'LEVEL', env: ['MCP_LOG_LEVEL'], default: 'info', help: 'trace|debug|info|warn|error|silent', group: 'Relay and logging' },
  { name: 'log-file', type: 'string', value: 'PATH', env: ['MCP_LOG_FILE'], help: 'log to this file (mode 0600) instead of stderr', group: 'Relay and logging' },
  { name: 'debug', type: 'boolean', help: 'shorthand for --log-level debug', group: 'Relay and logging', file: false },
  { name: 'silent', type: 'boolean', help: 'shorthand for --log-level silent', group: 'Relay and logging', file: false },
  { name: 'config', type: 'string', value: 'FILE', env: ['MCP_PROXY_CONFIG'], help: 'JSON file of settings: { "defaults": {…}, "servers": { "NAME": {…} } }; keys are the flag names', group: 'Other', file: false },
  { name: 'server', type: 'string', value: 'NAME', env: ['MCP_PROXY_SERVER'], help: 'the entry of --config to use; flags and environment variables win over it', group: 'Other', file: false },
  { name: 'print-config', type: 'boolean', help: 'print the effective settings with the source of each (secrets masked), exit 0', group: 'Other', file: false },
  { name: 'check', type: 'boolean', help: 'diagnose: configuration, credentials (who the proxy signs as), DNS, proxy, TLS, the MCP exchange; one line per stage with the fix, exit 0 or 1', group: 'Other', file: false },
  { name: 'json', type: 'boolean', help: 'with --check: print one JSON document with the same stages, for scripts', group: 'Other', file: false },
  { name: 'help', type: 'boolean', short: 'h', help: 'show this help', group: 'Other', file: false },
  { name: 'version', type: 'boolean', short: 'V', help: 'print the version (-v works too)', group: 'Other', file: false },
] as const satisfies readonly Setting[];

/**
 * Settings read from the environment only; listed in the help under their group. `key` is
 * the name of the same setting in a config file, where a secret must be a ${VAR} reference.
 */
export const ENV_ONLY: ReadonlyArray<{ readonly env: string; readonly key?: string; readonly help: string; readonly group: Group }> = [
  ...SIGNER_ENV_ONLY,
  { env: 'MCP_CLIENT_KEY_PASSPHRASE', key: 'client-key-passphrase', help: 'passphrase of the client key or PFX; falls back to CLAUDE_CODE_CLIENT_KEY_PASSPHRASE', group: 'TLS and network' },
];

type Row = (typeof SETTINGS)[number];
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Value<R extends Row> = R extends { type: 'boolean' } ? boolean : R extends { multiple: true } ? string[] : string | undefined;

/** Raw command-line values; normalizeConfig() merges them with the environment. */
export type CliArgs = { [R in Row as Camel<R['name']>]: Value<R> };

export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
const OPTIONS: ParseOptions = Object.fromEntries(
  SETTINGS.map((s: Setting) => [s.name, { type: s.type, ...(s.short && { short: s.short }), ...(s.multiple && { multiple: true }) }]),
);

/** Flags that look like they take a secret: refused, because argv is world-readable (ps). */
const SECRET_FLAGS: Record<string, string> = {
  ...SIGNER_REFUSED_FLAGS,
  '--client-key-passphrase': 'set MCP_CLIENT_KEY_PASSPHRASE in the env',
  '--passphrase': 'set MCP_CLIENT_KEY_PASSPHRASE in the env',
};

export function parseCliArgs(argv: readonly string[]): CliArgs {
  for (const a of argv) {
    const flag = a.split('=')[0] as string;
    const fix = SECRET_FLAGS[flag];
    if (fix !== undefined) throw new ConfigError(`${flag} is not accepted: command lines are visible to every user on the machine`, fix);
  }
  let parsed;
  try {
    // -v stays an alias of -V: earlier releases documented it.
    const args = argv.map((a) => (a === '-v' ? '-V' : a));
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    throw new ConfigError(msg.replace(/\. To specify a positional.*$/, ''), 'run mcp-signing-proxy --help for the list of flags');
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new ConfigError(`expected at most one endpoint URL argument, got ${positionals.length}`, 'pass only the MCP server URL as a positional argument');
  }
  if (positionals.length === 1 && values.endpoint !== undefined) {
    throw new ConfigError('the endpoint is given both as an argument and with --endpoint', 'keep one of them');
  }
  const args: Record<string, unknown> = {};
  for (const s of SETTINGS as readonly Setting[]) {
    const v = values[s.name];
    args[camel(s.name)] = s.type === 'boolean' ? v === true : s.multiple ? (v ?? []) : v;
  }
  args.endpoint = positionals[0] ?? values.endpoint;
  return args as CliArgs;
}
