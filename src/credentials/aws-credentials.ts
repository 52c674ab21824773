import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SigV4Config } from '../config/config.js';
import { CredentialError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CredentialSource } from '../signers/signer.js';
import type { AwsCredentials } from '../signers/sigv4.js';
import { classifyCredentialError, type CredentialErrorContext } from './credential-errors.js';
import { memoizeCredentials } from './memoize-credentials.js';

export interface AwsCredentialSourceOptions {
  /**
   * Handler for the SDK's own STS/SSO traffic, which goes through @smithy/node-http-handler,
   * not undici, so proxy and CA settings must be handed over here (protocol-notes §4.6).
   */
  requestHandler?: unknown;
  /** STS attempts per AssumeRole; tests pass 1 (§6.4). Default: the SDK's retry strategy. */
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

/** Reads `$source`, the SDK's internal credential-feature map, for the log line only. */
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

/** Key ids identify an account/user; logs get the last four characters only (H1). */
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
 * Builds the SigV4 credential source: the AWS default chain for `cfg.profile` (env, SSO,
 * ini, credential_process, web identity, container, IMDS — §4.1), optionally used as the
 * source identity for an STS AssumeRole of `cfg.assumeRole`. The STS endpoint follows
 * AWS_ENDPOINT_URL_STS, which the SDK reads itself (§4.5).
 */
export async function createAwsCredentialSource(
  cfg: SigV4Config,
  logger: Logger,
  opts: AwsCredentialSourceOptions = {},
): Promise<CredentialSource<AwsCredentials>> {
  // Loaded here, not at module top: the SDK only loads when SigV4 is used (DESIGN.md
  // principle 5, start-up time).
  const { fromNodeProviderChain, fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  type ClientConfig = NonNullable<Parameters<typeof fromTemporaryCredentials>[0]['clientConfig']>;
  const handler: Pick<ClientConfig, 'requestHandler'> =
    opts.requestHandler === undefined ? {} : { requestHandler: opts.requestHandler as ClientConfig['requestHandler'] };

  const log = logger.child({ component: 'aws-credentials' });
  const role = cfg.assumeRole;
  const ctx: CredentialErrorContext = {
    profile: cfg.profile ?? 'default',
    profileNamed: cfg.profile !== undefined,
    assumeRole: role === undefined ? undefined : { roleArn: role.roleArn, hasExternalId: role.externalId !== undefined },
  };

  async function fail(err: unknown): Promise<never> {
    // Already ours (the source chain's failure surfacing through the STS client): logged once.
    if (err instanceof CredentialError) throw err;
    const profileKnown = ctx.profileNamed ? await profileDefined(ctx.profile) : undefined;
    const error = classifyCredentialError(err, { ...ctx, profileDefined: profileKnown });
    // Only our vocabulary reaches the log: the SDK's text may quote credential_process
    // output or file contents (failure-catalogue H1/H3).
    log.error({ code: error.code, hint: error.hint }, error.message);
    throw error;
  }

  // Memoised by the SDK: refreshes 5 min ahead, coalesces, honours forceRefresh (§4.2).
  const chain = fromNodeProviderChain({ profile: cfg.profile, clientConfig: { region: cfg.region, ...handler } });
  let lastSource: object | undefined;
  const source: CredentialSource<AwsCredentials> = async (callOpts) => {
    try {
      const creds = await withTimeout(chain(callOpts), opts.chainTimeoutMs ?? CHAIN_TIMEOUT_MS);
      if (creds !== lastSource) {
        lastSource = creds;
        log.info(
          { source: sourceKind(creds), profile: ctx.profile, accessKeyId: maskKeyId(creds.accessKeyId), expiresAt: creds.expiration?.toISOString() },
          role === undefined ? 'AWS credentials loaded' : 'AWS source credentials loaded',
        );
      }
      return creds;
    } catch (err) {
      if (err instanceof CredentialError) log.error({ code: err.code, hint: err.hint }, err.message);
      return fail(err);
    }
  };
  if (role === undefined) return source;

  const assume = fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      // Stable: the SDK default is a new aws-sdk-js-<timestamp> per refresh (§4.3), which
      // makes CloudTrail sessions impossible to follow.
      RoleSessionName: role.sessionName,
      ExternalId: role.externalId,
      DurationSeconds: role.durationSeconds,
    },
    masterCredentials: source,
    clientConfig: { region: role.stsRegion, ...handler, ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }) },
  });
  // fromTemporaryCredentials is not memoised: one AssumeRole per call (§4.2).
  return memoizeCredentials(
    async () => {
      try {
        const creds = await assume();
        log.info(
          { source: 'assume-role', roleArn: role.roleArn, sessionName: role.sessionName, accessKeyId: maskKeyId(creds.accessKeyId), expiresAt: creds.expiration?.toISOString() },
          'assumed AWS role',
        );
        return creds;
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
