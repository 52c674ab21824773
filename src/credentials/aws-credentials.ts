import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SigV4Config } from '../config/config.js';
import { CredentialError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CredentialSource } from '../signers/signer.js';
import type { AwsCredentials } from '../signers/sigv4.js';
import { classifyCredentialError, credentialOrigin, type CredentialErrorContext, type CredentialOrigin } from './credential-errors.js';
import { memoizeCredentials } from './memoize-credentials.js';
import { assumeRole as callAssumeRole } from './sts-assume-role.js';
import { stsEndpoint } from './sts-endpoint.js';
import { createStsPost, type StsHttpOptions } from './sts-http.js';

export interface AwsCredentialSourceOptions {
  /**
   * Handler for the SDK's own STS/SSO traffic, which goes through @smithy/node-http-handler,
   * not undici, so proxy and CA settings must be handed over here.
   */
  requestHandler?: unknown;
  /**
   * Builds that handler when a path needs the SDK and `requestHandler` is not given (CA
   * bundle / proxy; src/tls/aws-request-handler.ts); called at most once, so the fast
   * paths never load @smithy/node-http-handler.
   */
  sdkRequestHandler?: () => Promise<unknown>;
  /**
   * How our own STS AssumeRole call is sent (src/credentials/sts-http.ts): the CA bundle /
   * proxy agent and connect timeout. Used only when `requestHandler` is not given: a
   * caller handing in an SDK handler wants all STS traffic to go through it.
   */
  sts?: StsHttpOptions;
  /** STS attempts per AssumeRole; tests pass 1 (the fake STS). Default: the SDK's retry strategy. */
  maxAttempts?: number;
  /** Clock for refresh-ahead of assumed-role credentials (a skew-corrected clock, or a test's). */
  now?: () => number;
  /** Bound on one pass of the default chain; default 30 s. */
  chainTimeoutMs?: number;
}

/**
 * How long one pass of the credential chain may take. A credential_process that waits on
 * stdin, or an unreachable SSO/IMDS endpoint, would otherwise hold every request forever:
 * the SDK chain has no timeout of its own.
 */
const CHAIN_TIMEOUT_MS = 30_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CredentialError('ESP_AWS_CREDENTIALS_TIMEOUT', `the AWS credential chain did not answer within ${ms / 1000} s`, {
      hint: 'a credential_process, SSO or instance-metadata call is stuck; run it by hand and make sure it needs no input',
    })), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads `$source`, the SDK's internal credential-feature map, for the log line and for
 * naming the source in errors. First match wins: a role profile also carries its source's
 * feature.
 */
const SOURCE_KINDS: ReadonlyArray<readonly [feature: string, kind: string]> = [
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'web-identity'],
  ['CREDENTIALS_STS_ASSUME_ROLE', 'profile-role'],
  ['CREDENTIALS_SSO', 'sso'],
  ['CREDENTIALS_SSO_LEGACY', 'sso'],
  ['CREDENTIALS_PROCESS', 'credential-process'],
  ['CREDENTIALS_LOGIN', 'aws-login'],
  ['CREDENTIALS_ENV_VARS', 'env'],
  ['CREDENTIALS_HTTP', 'container'],
  ['CREDENTIALS_IMDS', 'imds'],
  ['CREDENTIALS_PROFILE', 'profile'],
];

function sourceKind(creds: object): string {
  const features = (creds as { $source?: Record<string, unknown> }).$source ?? {};
  return SOURCE_KINDS.find(([feature]) => feature in features)?.[1] ?? 'default-chain';
}

/** Bound on the provider notes kept for one failing pass of the chain. */
const MAX_PROVIDER_NOTES = 50;

/**
 * The logger handed to the SDK chain. Provider errors come through `debug` as the chain
 * moves on (the final error is only "could not load credentials from any providers"), so
 * they are kept — for pattern-matching, never for output. `warn` carries the SDK's 9-line
 * "multiple credential sources" notice, which becomes one line of ours. Objects (an inner
 * STS client's request records) are ignored.
 */
function chainLogger(log: Logger, notes: string[]): Record<'trace' | 'debug' | 'info' | 'warn' | 'error', (msg?: unknown) => void> {
  const ignore = (): void => undefined;
  return {
    trace: ignore,
    info: ignore,
    error: ignore,
    debug: (msg) => {
      if (typeof msg === 'string' && msg.startsWith('@smithy/property-provider') && notes.length < MAX_PROVIDER_NOTES) notes.push(msg.slice(0, 300));
    },
    warn: (msg) => {
      if (typeof msg === 'string' && /multiple credential sources detected/i.test(msg)) {
        log.warn('AWS_PROFILE (or --profile) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are both set; the profile is used and the keys are ignored');
      } else {
        log.warn('the AWS SDK credential chain printed a warning (not shown: it may quote configuration)');
      }
    },
  };
}

/**
 * On Node < 22 the SDK prints a 9-line NodeVersionSupportWarning the first time it builds
 * a client (STS, SSO); hosts file every stderr line under "error". The SDK's own switch
 * turns just that warning off — other process warnings stay visible — unless the user set
 * it. What it says is kept as one debug line.
 */
function quietNodeVersionWarning(log: Logger): void {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  if ((process.env[name] ?? '') !== '') return;
  process.env[name] = 'true';
  if (Number(process.versions.node.split('.')[0]) < 22) {
    log.debug({ node: process.version }, 'AWS SDK for JavaScript releases after the first week of January 2027 need Node 22 or later');
  }
}

/** Key ids identify an account/user; logs get the last four characters only. */
function maskKeyId(id: string): string {
  return `****${id.slice(-4)}`;
}

/**
 * Whether `profile` is defined in the shared AWS files, located and read the way the SDK
 * does (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, `~/` expanded, else under HOME; an
 * unreadable file counts as empty). Only consulted after the chain found nothing, to tell
 * a misspelt profile from one without credentials.
 */
async function profileDefined(profile: string): Promise<boolean> {
  const home = process.env.HOME || homedir();
  const resolve = (p: string): string => (p.startsWith('~/') ? join(home, p.slice(2)) : p);
  const files = [
    { path: resolve(process.env.AWS_CONFIG_FILE || join(home, '.aws', 'config')), config: true },
    { path: resolve(process.env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')), config: false },
  ];
  for (const { path, config } of files) {
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const m of text.matchAll(/^\s*\[([^\]]+)\]/gm)) {
      const section = (m[1] ?? '').trim();
      // In the config file a profile is `[profile NAME]`, or `[default]`; plain in credentials.
      const name = config ? (section === 'default' ? section : /^profile\s+(.+)$/.exec(section)?.[1]?.trim()) : section;
      if (name === profile) return true;
    }
  }
  return false;
}

/**
 * The static keys of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN,
 * AWS_CREDENTIAL_SCOPE, AWS_ACCOUNT_ID), exactly where the SDK's default chain would
 * return them: its first provider, skipped when a profile is in effect. Undefined when the
 * chain would look further (or the keys carry an AWS_CREDENTIAL_EXPIRATION, whose
 * refresh the SDK's chain handles).
 */
function envKeys(profile: string | undefined): AwsCredentials | undefined {
  const e = process.env;
  if (profile || e.AWS_PROFILE || e.AWS_CREDENTIAL_EXPIRATION) return undefined;
  const accessKeyId = e.AWS_ACCESS_KEY_ID;
  const secretAccessKey = e.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}),
    ...(e.AWS_CREDENTIAL_SCOPE ? { credentialScope: e.AWS_CREDENTIAL_SCOPE } : {}),
    ...(e.AWS_ACCOUNT_ID ? { accountId: e.AWS_ACCOUNT_ID } : {}),
  };
}

/**
 * Builds the SigV4 credential source: the AWS default chain for `cfg.profile` (env, SSO,
 * ini, credential_process, web identity, container, IMDS), optionally used as the
 * source identity for an STS AssumeRole of `cfg.assumeRole`. The STS endpoint follows
 * AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, as for the SDK.
 *
 * Start-up (README, "Performance"): environment keys and the AssumeRole call are handled
 * here without the AWS SDK, exactly as the SDK would handle them; every other source, and
 * STS set-ups only the SDK reproduces (see sts-endpoint.ts), load the SDK on first use.
 */
export async function createAwsCredentialSource(
  cfg: SigV4Config,
  logger: Logger,
  opts: AwsCredentialSourceOptions = {},
): Promise<CredentialSource<AwsCredentials>> {
  let handlerOnce: Promise<unknown> | undefined;
  const requestHandler = (): Promise<unknown> => (handlerOnce ??= opts.requestHandler !== undefined ? Promise.resolve(opts.requestHandler) : (opts.sdkRequestHandler?.() ?? Promise.resolve(undefined)));
  // Loaded on first use, not at module top: the SDK loads only for the sources that need it.
  const sdk = async () => {
    const [providers, handler] = await Promise.all([import('@aws-sdk/credential-providers'), requestHandler()]);
    type ClientConfig = NonNullable<Parameters<typeof providers.fromTemporaryCredentials>[0]['clientConfig']>;
    const handlerConfig: Pick<ClientConfig, 'requestHandler'> = handler === undefined ? {} : { requestHandler: handler as ClientConfig['requestHandler'] };
    return { ...providers, handlerConfig };
  };
  const log = logger.child({ component: 'aws-credentials' });
  quietNodeVersionWarning(log);
  const role = cfg.assumeRole;
  const ctx: CredentialErrorContext = {
    profile: cfg.profile ?? 'default',
    profileNamed: cfg.profile !== undefined,
    assumeRole: role === undefined ? undefined : { roleArn: role.roleArn, hasExternalId: role.externalId !== undefined },
  };

  const notes: string[] = [];
  let inFlight = 0;
  /** The SDK object last delivered by the chain, where it came from, and our copy naming that. */
  let lastSource: { creds: object; origin: CredentialOrigin; value: AwsCredentials } | undefined;

  async function fail(err: unknown): Promise<never> {
    // Already ours (the source chain's failure surfacing through the STS client): logged once.
    if (err instanceof CredentialError) throw err;
    const profileKnown = ctx.profileNamed ? await profileDefined(ctx.profile) : undefined;
    const error = classifyCredentialError(err, { ...ctx, profileDefined: profileKnown, source: lastSource?.origin, providerNotes: [...notes] });
    // Only our vocabulary reaches the log: the SDK's text may quote credential_process
    // output or file contents.
    log.error({ code: error.code, hint: error.hint }, error.message);
    throw error;
  }

  /** Where a set of credentials came from, logged once per set. */
  function delivered(creds: object, kind: string): AwsCredentials {
    const origin = credentialOrigin(kind, ctx.profile);
    lastSource = { creds, origin, value: { ...(creds as AwsCredentials), origin } };
    const c = creds as AwsCredentials;
    log.info(
      { source: kind, profile: ctx.profile, accessKeyId: maskKeyId(c.accessKeyId), expiresAt: c.expiration?.toISOString() },
      role === undefined ? 'AWS credentials loaded' : 'AWS source credentials loaded',
    );
    return lastSource.value;
  }

  // Memoised by the SDK: refreshes 5 min ahead, coalesces, honours forceRefresh.
  let chainOnce: ReturnType<Awaited<ReturnType<typeof sdk>>['fromNodeProviderChain']> | undefined;
  const chain = async (callOpts?: { forceRefresh?: boolean }) => {
    if (chainOnce === undefined) {
      const { fromNodeProviderChain, handlerConfig } = await sdk();
      chainOnce ??= fromNodeProviderChain({
        profile: cfg.profile,
        clientConfig: { region: cfg.region, ...handlerConfig },
        logger: chainLogger(log, notes),
      });
    }
    return chainOnce(callOpts);
  };
  const sdkSource: CredentialSource<AwsCredentials> = async (callOpts) => {
    // A new pass starts with fresh notes; callers joining a pass in flight keep them.
    if (inFlight++ === 0) notes.length = 0;
    try {
      const creds = await withTimeout(chain(callOpts), opts.chainTimeoutMs ?? CHAIN_TIMEOUT_MS);
      return creds === lastSource?.creds ? lastSource.value : delivered(creds, sourceKind(creds));
    } catch (err) {
      if (err instanceof CredentialError) log.error({ code: err.code, hint: err.hint }, err.message);
      return fail(err);
    } finally {
      inFlight--;
    }
  };
  // Environment keys: what the chain's first provider returns, kept until forced (static keys).
  const source: CredentialSource<AwsCredentials> =
    envKeys(cfg.profile) === undefined
      ? sdkSource
      : memoizeCredentials(async () => {
          const keys = envKeys(cfg.profile);
          // Changed under us (only tests do that): the chain decides, as it would have.
          return keys === undefined ? sdkSource({ forceRefresh: true }) : delivered(keys, 'env');
        });
  if (role === undefined) return source;

  const params = {
    RoleArn: role.roleArn,
    // Stable: the SDK default is a new aws-sdk-js-<timestamp> per refresh, which
    // makes CloudTrail sessions impossible to follow.
    RoleSessionName: role.sessionName,
    ExternalId: role.externalId,
    DurationSeconds: role.durationSeconds,
  };
  // The STS client reads endpoint settings of the AWS_PROFILE in effect, the chain those of cfg.profile.
  const endpoint = opts.requestHandler === undefined ? stsEndpoint(role.stsRegion, process.env, [process.env.AWS_PROFILE || 'default', ctx.profile]) : undefined;
  let assume: () => Promise<AwsCredentials>;
  if (endpoint !== undefined) {
    const post = createStsPost(opts.sts);
    assume = () => callAssumeRole(params, { endpoint, region: role.stsRegion, credentials: () => source(), post, maxAttempts: opts.maxAttempts });
  } else {
    let sdkAssume: (() => Promise<AwsCredentials>) | undefined;
    assume = async () => {
      if (sdkAssume === undefined) {
        const { fromTemporaryCredentials, handlerConfig } = await sdk();
        sdkAssume ??= fromTemporaryCredentials({
          params,
          masterCredentials: source,
          clientConfig: { region: role.stsRegion, ...handlerConfig, ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }) },
        });
      }
      return sdkAssume();
    };
  }
  // fromTemporaryCredentials is not memoised: one AssumeRole per call.
  return memoizeCredentials(
    async () => {
      try {
        const creds = await assume();
        const via = lastSource?.origin.label ?? `default credential chain (profile "${ctx.profile}")`;
        const origin: CredentialOrigin = {
          label: `role ${role.roleArn} (assumed with the ${via})`,
          renew: `the proxy assumes the role again by itself; if this persists, check the ${via} and the role's session policies`,
        };
        log.info(
          { source: 'assume-role', roleArn: role.roleArn, sessionName: role.sessionName, accessKeyId: maskKeyId(creds.accessKeyId), expiresAt: creds.expiration?.toISOString() },
          'assumed AWS role',
        );
        return { ...creds, origin };
      } catch (err) {
        return fail(err);
      }
    },
    {
      now: opts.now,
      onBackgroundError: () => log.warn({ roleArn: role.roleArn }, 'refreshing the assumed role ahead of expiry failed; the current credentials stay in use until close to expiry'),
    },
  );
}
