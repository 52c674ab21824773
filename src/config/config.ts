import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { headerProblem, parseHeaderLines, type HeaderPair } from './headers.js';
import { auditConfig, type AuditConfig } from './audit-config.js';
import { splitList } from '../policy/glob.js';
import { policyConfig } from './policy-config.js';
import { camel, type CliArgs } from './args.js';
import { configureSigner, type SignerConfig, type SignerKind } from '../signers/registry.js';
import type { SignerInput } from '../signers/kind.js';
import { env, isLoopback, positiveInt, truthy, type Env } from './values.js';
import type { PolicyConfig } from '../policy/policy.js';
import type { TransportMode } from '../transport/create-transport.js';
import type { ProtocolMode } from '../transport/era-bridge/transport.js';

export type { SignerKind } from '../signers/registry.js';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface SigV4Config {
  readonly service: string;
  readonly region: string;
  /** Profile for the default chain (flag or AWS_PROFILE); undefined = SDK default chain. */
  readonly profile: string | undefined;
  readonly assumeRole: AssumeRoleConfig | undefined;
}

export interface AssumeRoleConfig {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId: string | undefined;
  readonly durationSeconds: number;
  /** Region of the STS endpoint; defaults to the signing region. */
  readonly stsRegion: string;
}

export interface HeadersHelperConfig {
  readonly command: string;
  readonly ttlMs: number;
  readonly timeoutMs: number;
}

export interface TlsConfig {
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
  readonly clientPfx: string | undefined;
  /** From MCP_CLIENT_KEY_PASSPHRASE (env only: argv is world-readable). */
  readonly passphrase: string | undefined;
  readonly caCert: string | undefined;
  readonly insecure: boolean;
}

export interface Config {
  readonly endpoint: URL;
  /** Which wire protocol to speak, or how to find out (README "Protocols"). */
  readonly transport: TransportMode;
  /** `--protocol` (README "Protocols"). */
  readonly protocol: ProtocolMode;
  /** The chosen signer kind (`auth.kind`). */
  readonly signer: SignerKind;
  /** The chosen signer's settings, one branch per kind (src/signers/registry.ts); secrets as sources. */
  readonly auth: SignerConfig;
  /** --signer-module: the user's own signer, run last (README "Your own signer"). */
  readonly signerModule: string | undefined;
  /** Static headers, already expanded, in the order given. */
  readonly headers: readonly HeaderPair[];
  /** A command whose output is headers (Claude Code's headersHelper), re-run after the TTL. */
  readonly headersHelper: HeadersHelperConfig | undefined;
  readonly tls: TlsConfig;
  readonly network: {
    readonly allowHttp: boolean;
    readonly envProxy: boolean;
    readonly connectTimeoutMs: number;
    /** Connections to the server at once (requests in flight); more wait their turn. */
    readonly maxConnections: number;
  };
  readonly maxLineBytes: number;
  /** Which tools, prompts and resources the client may see and use; undefined: all. */
  readonly policy: PolicyConfig | undefined;
  /** The tool pin file (--pin-tools); undefined: no pinning. */
  readonly pinTools: string | undefined;
  /** Tools to accept in the pin file, then exit (--accept-tool); undefined: run the relay. */
  readonly acceptTools: readonly string[] | undefined;
  readonly audit: AuditConfig | undefined;
  /** Largest message from the server (--max-response-bytes); undefined: no cap. */
  readonly maxResponseBytes: number | undefined;
  readonly log: { readonly level: LogLevel; readonly file: string | undefined };
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 32;

function parseEndpoint(raw: string | undefined, allowHttp: boolean): URL {
  if (raw === undefined) {
    throw new ConfigError(
      'no remote endpoint configured',
      'pass the MCP server URL as the first argument, with --endpoint URL, or set MCP_ENDPOINT',
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('MCP_ENDPOINT / --endpoint is not a valid URL', 'use a full URL such as https://mcp.example.com/mcp');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`MCP_ENDPOINT / --endpoint must use https:// (got ${url.protocol})`, 'use an https:// URL');
  }
  if (url.username || url.password) {
    // Credentials in the URL would be logged and sent to every hop; refuse them outright.
    throw new ConfigError(
      'MCP_ENDPOINT / --endpoint must not contain user:password@',
      'remove the credentials from the URL and use MCP_BEARER_TOKEN or --header instead',
    );
  }
  if (url.hash) url.hash = '';
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url)) {
    throw new ConfigError(
      `refusing plain http:// to ${url.hostname}: credentials would travel unencrypted`,
      'use https://, or pass --allow-http (MCP_ALLOW_HTTP=1) if the network path is trusted',
    );
  }
  return url;
}

/** mcp-remote's --transport names, so its users need not relearn them. */
const TRANSPORT_NAMES: Readonly<Record<string, TransportMode>> = {
  auto: 'auto',
  'streamable-http': 'streamable-http',
  sse: 'sse',
  'http-first': 'auto',
  'http-only': 'streamable-http',
  'sse-first': 'sse-first',
  'sse-only': 'sse',
};

function transportMode(raw: string | undefined): TransportMode {
  if (raw === undefined) return 'auto';
  const mode = TRANSPORT_NAMES[raw.toLowerCase()];
  if (mode === undefined) {
    throw new ConfigError(`--transport / MCP_TRANSPORT must be auto, streamable-http or sse (got "${raw.slice(0, 40)}")`, 'pick auto (the default), streamable-http or sse; http-first, sse-first, http-only and sse-only are accepted too');
  }
  return mode;
}

const PROTOCOL_MODES: readonly ProtocolMode[] = ['auto', 'passthrough', 'bridge'];

function protocolMode(raw: string | undefined, transport: TransportMode): ProtocolMode {
  if (raw === undefined) return 'auto';
  const mode = raw.toLowerCase() as ProtocolMode;
  if (!PROTOCOL_MODES.includes(mode)) {
    throw new ConfigError(`--protocol / MCP_PROTOCOL must be auto, passthrough or bridge (got "${raw.slice(0, 40)}")`, 'pick auto (the default), passthrough or bridge');
  }
  if (mode === 'bridge' && transport === 'sse') {
    throw new ConfigError('--protocol bridge / MCP_PROTOCOL=bridge needs Streamable HTTP, but --transport / MCP_TRANSPORT is sse', 'use --transport auto or streamable-http with the bridge');
  }
  return mode;
}

function readHeaderSources(args: CliArgs, e: Env): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  const mcpHeaders = env(e, 'MCP_HEADERS');
  if (mcpHeaders !== undefined) pairs.push(...parseHeaderLines(mcpHeaders.split(/\r?\n/), 'MCP_HEADERS', e));
  const headerFile = args.headerFile ?? env(e, 'MCP_HEADER_FILE');
  if (headerFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(headerFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`--header-file / MCP_HEADER_FILE ${headerFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path and its permissions');
    }
    pairs.push(...parseHeaderLines(text.split(/\r?\n/), `header file ${headerFile}`, e));
  }
  pairs.push(...parseHeaderLines(args.header, '--header', e));
  return pairs;
}

function checkHeaders(headers: readonly HeaderPair[], signer: SignerKind): void {
  for (const [name] of headers) {
    const problem = headerProblem(name, signer);
    if (problem !== undefined) throw new ConfigError(`${problem.message} (--header / MCP_HEADERS / header file)`, problem.hint);
  }
}

function tlsConfig(args: CliArgs, e: Env): TlsConfig {
  // Claude Code's own variables are the fallback so one setting serves both.
  const clientCert = args.clientCert ?? env(e, 'MCP_CLIENT_CERT') ?? env(e, 'CLAUDE_CODE_CLIENT_CERT');
  const clientKey = args.clientKey ?? env(e, 'MCP_CLIENT_KEY') ?? env(e, 'CLAUDE_CODE_CLIENT_KEY');
  const clientPfx = args.clientPfx ?? env(e, 'MCP_CLIENT_PFX');
  const passphrase = e.MCP_CLIENT_KEY_PASSPHRASE || e.CLAUDE_CODE_CLIENT_KEY_PASSPHRASE || undefined;
  const caCert = args.caCert ?? env(e, 'MCP_CA_CERT');
  const insecure = args.insecure || truthy(env(e, 'MCP_INSECURE'));
  if (clientPfx !== undefined && (clientCert !== undefined || clientKey !== undefined)) {
    throw new ConfigError('--client-pfx / MCP_CLIENT_PFX cannot be combined with --client-cert/--client-key', 'use either a PFX file or a PEM certificate and key');
  }
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ConfigError(
      clientCert === undefined ? '--client-key / MCP_CLIENT_KEY is set without --client-cert / MCP_CLIENT_CERT' : '--client-cert / MCP_CLIENT_CERT is set without --client-key / MCP_CLIENT_KEY',
      'set both the certificate and its private key (PEM files)',
    );
  }
  return { clientCert, clientKey, clientPfx, passphrase, caCert, insecure };
}

/**
 * Turns flags + environment into one frozen configuration, or throws a ConfigError that
 * names the flag/variable and the fix. Flags win over env (README "Configuration").
 */
export function normalizeConfig(args: CliArgs, e: Env): Config {
  const allowHttp = args.allowHttp || truthy(env(e, 'MCP_ALLOW_HTTP'));
  const endpoint = parseEndpoint(args.endpoint ?? env(e, 'MCP_ENDPOINT'), allowHttp);

  const input: SignerInput = {
    endpoint,
    allowHttp,
    flag: (name) => {
      const v = (args as unknown as Record<string, unknown>)[camel(name)];
      return typeof v === 'string' ? v : undefined;
    },
    switchOn: (name) => (args as unknown as Record<string, unknown>)[camel(name)] === true,
    env: (name) => env(e, name),
    rawEnv: e,
  };
  const auth = configureSigner(args.signer ?? env(e, 'MCP_SIGNER'), input);
  const signer = auth.kind;

  const headers = readHeaderSources(args, e);
  checkHeaders(headers, signer);
  const helperCommand = args.headersHelper ?? env(e, 'MCP_HEADERS_HELPER');
  let headersHelper: HeadersHelperConfig | undefined;
  if (helperCommand !== undefined) {
    const ttl = args.headersHelperTtl ?? env(e, 'MCP_HEADERS_HELPER_TTL');
    const timeout = args.headersHelperTimeout ?? env(e, 'MCP_HEADERS_HELPER_TIMEOUT');
    headersHelper = {
      command: helperCommand,
      ttlMs: (ttl === undefined ? 300 : positiveInt(ttl, '--headers-helper-ttl / MCP_HEADERS_HELPER_TTL (seconds)', 1, 86_400)) * 1000,
      timeoutMs: (timeout === undefined ? 10 : positiveInt(timeout, '--headers-helper-timeout / MCP_HEADERS_HELPER_TIMEOUT (seconds)', 1, 600)) * 1000,
    };
  }

  const levelRaw = (args.debug ? 'debug' : args.silent ? 'silent' : args.logLevel ?? env(e, 'MCP_LOG_LEVEL') ?? 'info').toLowerCase();
  const level = (levelRaw === 'warning' ? 'warn' : levelRaw === 'critical' ? 'fatal' : levelRaw) as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`--log-level / MCP_LOG_LEVEL "${levelRaw}" is not a level`, `use one of ${LOG_LEVELS.join(', ')}`);
  }
  const maxLineRaw = args.maxLineBytes ?? env(e, 'MCP_MAX_LINE_BYTES');
  const maxLineBytes = maxLineRaw === undefined ? DEFAULT_MAX_LINE_BYTES : positiveInt(maxLineRaw, '--max-line-bytes / MCP_MAX_LINE_BYTES', 1024, 1024 * 1024 * 1024);
  const connectRaw = args.connectTimeout ?? env(e, 'MCP_CONNECT_TIMEOUT');
  const connectTimeoutMs = (connectRaw === undefined ? 10 : positiveInt(connectRaw, '--connect-timeout / MCP_CONNECT_TIMEOUT (seconds)', 1, 600)) * 1000;
  // At least 3: one for the event stream, one for the client's messages, one for calls.
  const maxConnectionsRaw = args.maxConnections ?? env(e, 'MCP_MAX_CONNECTIONS');
  const maxConnections = maxConnectionsRaw === undefined ? DEFAULT_MAX_CONNECTIONS : positiveInt(maxConnectionsRaw, '--max-connections / MCP_MAX_CONNECTIONS', 3, 1024);

  const pinTools = args.pinTools ?? env(e, 'MCP_PIN_TOOLS');
  let acceptTools: string[] | undefined;
  if (args.acceptTool !== undefined) {
    if (pinTools === undefined) throw new ConfigError('--accept-tool needs --pin-tools FILE / MCP_PIN_TOOLS', 'give the pin file the proxy uses, with the same endpoint settings');
    acceptTools = splitList(args.acceptTool).filter((t) => t !== '');
    if (acceptTools.length === 0) throw new ConfigError('--accept-tool is empty', 'name the tools to accept, comma-separated (* matches any characters)');
  }
  const maxResponseRaw = args.maxResponseBytes ?? env(e, 'MCP_MAX_RESPONSE_BYTES');
  const maxResponseBytes = maxResponseRaw === undefined ? undefined : positiveInt(maxResponseRaw, '--max-response-bytes / MCP_MAX_RESPONSE_BYTES', 1024, 1024 * 1024 * 1024);

  const transport = transportMode(args.transport ?? env(e, 'MCP_TRANSPORT'));
  return Object.freeze({
    endpoint,
    transport,
    protocol: protocolMode(args.protocol ?? env(e, 'MCP_PROTOCOL'), transport),
    signer,
    auth: Object.freeze(auth),
    signerModule: args.signerModule ?? env(e, 'MCP_SIGNER_MODULE'),
    headers: Object.freeze(headers),
    headersHelper,
    tls: tlsConfig(args, e),
    network: { allowHttp, envProxy: !(args.noEnvProxy || truthy(env(e, 'MCP_NO_ENV_PROXY'))), connectTimeoutMs, maxConnections },
    maxLineBytes,
    policy: policyConfig(args, e),
    pinTools,
    acceptTools,
    audit: auditConfig(args, e),
    maxResponseBytes,
    log: { level, file: args.logFile ?? env(e, 'MCP_LOG_FILE') },
  });
}

/** The chosen signer's settings when it is of `kind`, else undefined. */
export function signerOf<K extends SignerKind>(config: Config, kind: K): Extract<SignerConfig, { kind: K }> | undefined {
  return config.auth.kind === kind ? (config.auth as Extract<SignerConfig, { kind: K }>) : undefined;
}
