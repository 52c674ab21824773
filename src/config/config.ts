import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { ConfigError } from '../errors.js';
import { inferAwsEndpoint, looksLikeAwsHost } from '../signers/aws-endpoint.js';
import { profileRegion } from './aws-profile-region.js';
import { headerProblem, parseHeaderLines, type HeaderPair } from './headers.js';
import { auditConfig, type AuditConfig } from './audit-config.js';
import { splitList } from '../policy/glob.js';
import { policyConfig } from './policy-config.js';
import type { CliArgs } from './args.js';
import type { PolicyConfig } from '../policy/policy.js';
import type { TransportMode } from '../transport/create-transport.js';

export type SignerKind = 'none' | 'bearer' | 'sigv4';
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
  readonly signer: SignerKind;
  /** Static headers, already expanded, in the order given. */
  readonly headers: readonly HeaderPair[];
  /** A command whose output is headers (Claude Code's headersHelper), re-run after the TTL. */
  readonly headersHelper: HeadersHelperConfig | undefined;
  readonly bearer: { readonly token: string | undefined; readonly tokenFile: string | undefined } | undefined;
  readonly sigv4: SigV4Config | undefined;
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

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 32;

/** An env value, with empty strings treated as unset (hosts often template "" in). */
function env(e: Env, name: string): string | undefined {
  const v = e[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

function positiveInt(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${what} must be a whole number, got "${value}"`, `set it to a number between ${min} and ${max}`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got ${n}`, `set it to a number between ${min} and ${max}`);
  return n;
}

function isLoopback(url: URL): boolean {
  const h = url.hostname;
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

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

/** Stable, valid default: [\w+=,.@-], 2–64 chars (STS AssumeRole RoleSessionName). */
export function defaultRoleSessionName(user: string | undefined): string {
  const clean = (user ?? 'user').replace(/[^\w+=,.@-]/g, '-');
  return `mcp-signing-proxy-${clean}`.slice(0, 64);
}

function currentUser(e: Env): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return env(e, 'USER') ?? env(e, 'USERNAME');
  }
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

function pickSigner(args: CliArgs, e: Env, endpoint: URL, hasToken: boolean, roleArn: string | undefined): SignerKind {
  const explicit = args.signer ?? env(e, 'MCP_SIGNER');
  if (explicit !== undefined && explicit !== 'auto') {
    if (explicit !== 'none' && explicit !== 'bearer' && explicit !== 'sigv4') {
      throw new ConfigError(`--signer / MCP_SIGNER must be none, bearer, sigv4 or auto (got "${explicit}")`, 'pick one of none, bearer, sigv4, auto');
    }
    return explicit;
  }
  // DESIGN.md: auto = sigv4 if a role ARN is set or the URL is an AWS endpoint; bearer if a
  // token is set; else none.
  if (roleArn !== undefined || (inferAwsEndpoint(endpoint) !== undefined && !hasToken)) return 'sigv4';
  if (args.service !== undefined || env(e, 'MCP_SIGV4_SERVICE') !== undefined) return 'sigv4';
  if (hasToken) return 'bearer';
  return 'none';
}

function sigv4Config(args: CliArgs, e: Env, endpoint: URL, roleArn: string | undefined): SigV4Config {
  const guess = inferAwsEndpoint(endpoint);
  const service = args.service ?? env(e, 'MCP_SIGV4_SERVICE') ?? guess?.service;
  if (service === undefined) {
    const aws = looksLikeAwsHost(endpoint);
    throw new ConfigError(
      `cannot tell the SigV4 service for ${endpoint.hostname}${aws ? '' : ' (custom domain)'}`,
      'add --service NAME or MCP_SIGV4_SERVICE (execute-api for API Gateway, lambda for function URLs, bedrock-agentcore for AgentCore)',
    );
  }
  if (!/^[a-z0-9-]+$/.test(service)) throw new ConfigError(`--service / MCP_SIGV4_SERVICE "${service}" is not a service name`, 'use a lower-case name such as execute-api');
  const profile = args.profile ?? env(e, 'AWS_PROFILE');
  // Region precedence (README, configuration table): --region › URL › AWS_REGION ›
  // AWS_DEFAULT_REGION (the JS SDK ignores it, so we read it ourselves) › the profile's
  // `region`, the fallback of the AWS CLI and SDKs.
  let region = args.region ?? guess?.region ?? env(e, 'AWS_REGION') ?? env(e, 'AWS_DEFAULT_REGION');
  if (region === undefined) {
    const lookup = profileRegion(profile ?? 'default', e);
    region = lookup.region;
    if (region === undefined) {
      throw new ConfigError(
        `cannot tell the AWS region for ${endpoint.hostname}: no --region, AWS_REGION, AWS_DEFAULT_REGION, or region in profile "${lookup.profile}" of ${lookup.configFile}`,
        `add --region REGION or set AWS_REGION, or add region = REGION to the profile (aws configure set region REGION --profile ${lookup.profile})`,
      );
    }
  }
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`region "${region}" is not a region name`, 'use a name such as us-east-1');
  let assumeRole: AssumeRoleConfig | undefined;
  if (roleArn !== undefined) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/.test(roleArn)) {
      // Quoted only when it looks like an ARN: a key pasted into the wrong variable must not
      // be echoed into the host's (and the model's) view.
      const shown = /^arn:[\w:/+=,.@-]{0,200}$/.test(roleArn) ? ` "${roleArn}"` : '';
      throw new ConfigError(`--role-arn / ASSUME_ROLE_ARN${shown} is not an IAM role ARN`, 'use arn:aws:iam::<account-id>:role/<name>');
    }
    const sessionName = args.roleSessionName ?? env(e, 'ASSUME_ROLE_SESSION_NAME') ?? defaultRoleSessionName(currentUser(e));
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new ConfigError('--role-session-name / ASSUME_ROLE_SESSION_NAME must be 2–64 characters of letters, digits and +=,.@_-', 'pick a shorter name without spaces');
    }
    const durationRaw = args.roleDuration ?? env(e, 'ASSUME_ROLE_DURATION_SECONDS');
    const durationSeconds = durationRaw === undefined ? 3600 : positiveInt(durationRaw, '--role-duration / ASSUME_ROLE_DURATION_SECONDS', 900, 43200);
    const externalId = args.externalId ?? env(e, 'ASSUME_ROLE_EXTERNAL_ID');
    if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
      throw new ConfigError('--external-id / ASSUME_ROLE_EXTERNAL_ID has characters STS does not accept', 'use letters, digits and +=,.@:/-');
    }
    const stsRegion = args.stsRegion ?? env(e, 'ASSUME_ROLE_STS_REGION') ?? region;
    assumeRole = { roleArn, sessionName, externalId, durationSeconds, stsRegion };
  }
  return { service, region, profile, assumeRole };
}

function tlsConfig(args: CliArgs, e: Env): TlsConfig {
  // Claude Code's own variables are the fallback so one setting serves both (issue 4).
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
 * names the flag/variable and the fix. Flags win over env (DESIGN.md, configuration contract).
 */
export function normalizeConfig(args: CliArgs, e: Env): Config {
  const allowHttp = args.allowHttp || truthy(env(e, 'MCP_ALLOW_HTTP'));
  const endpoint = parseEndpoint(args.endpoint ?? env(e, 'MCP_ENDPOINT'), allowHttp);

  const tokenFile = args.bearerTokenFile ?? env(e, 'MCP_BEARER_TOKEN_FILE');
  const token = env(e, 'MCP_BEARER_TOKEN');
  const roleArn = args.roleArn ?? env(e, 'ASSUME_ROLE_ARN');
  const signer = pickSigner(args, e, endpoint, token !== undefined || tokenFile !== undefined, roleArn);

  let bearer: Config['bearer'];
  if (signer === 'bearer') {
    if (token === undefined && tokenFile === undefined) {
      throw new ConfigError('--signer bearer needs a token', 'set MCP_BEARER_TOKEN, or MCP_BEARER_TOKEN_FILE / --bearer-token-file PATH');
    }
    bearer = { token: tokenFile === undefined ? token : undefined, tokenFile };
  } else if (signer === 'sigv4' && (token !== undefined || tokenFile !== undefined)) {
    throw new ConfigError('a bearer token and SigV4 both need the Authorization header', 'unset MCP_BEARER_TOKEN/MCP_BEARER_TOKEN_FILE, or choose --signer bearer');
  }
  const sigv4 = signer === 'sigv4' ? sigv4Config(args, e, endpoint, roleArn) : undefined;
  if (signer !== 'sigv4' && roleArn !== undefined) {
    throw new ConfigError(`ASSUME_ROLE_ARN / --role-arn only works with --signer sigv4 (signer is ${signer})`, 'remove --signer, or unset ASSUME_ROLE_ARN');
  }

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

  return Object.freeze({
    endpoint,
    transport: transportMode(args.transport ?? env(e, 'MCP_TRANSPORT')),
    signer,
    headers: Object.freeze(headers),
    headersHelper,
    bearer,
    sigv4,
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
