/**
 * The real AWS SDK credential chain and STS client against a loopback fake STS, in a
 * hermetic environment. The SDK reads process.env and the AWS
 * files at call time (HOME included), so each test sets its own env and temp files and
 * restores the environment afterwards; the SDK's file cache is keyed by path, and every
 * test gets fresh paths.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AssumeRoleConfig, SigV4Config } from '../../src/config/config.js';
import { createAwsCredentialSource } from '../../src/credentials/aws-credentials.js';
import { CredentialError, toJsonRpcError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { startFakeSts, type FakeSts } from '../helpers/fake-sts.js';

const REGION = 'eu-west-1';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/mcp-finance-bot';
// Canaries: no secret may show up in an error or a log line, no key id in full.
const SOURCE_KEY = 'AKIAFAKESOURCE00A1B2';
const SOURCE_SECRET = 'CANARYSECRETSOURCE0000000000000000000000';
const SOURCE_TOKEN = 'CANARYSECRETSOURCETOKEN';
const CANARY = 'CANARYSECRET';

const ENV_KEYS_TO_CLEAR = /^(AWS_|HTTPS?_PROXY$|https?_proxy$|NO_PROXY$|no_proxy$|ALL_PROXY$)/;

let tmp: string;
let logFile: string;
let logger: Logger;
let savedEnv: NodeJS.ProcessEnv;
let sts: FakeSts | undefined;

beforeEach(() => {
  savedEnv = { ...process.env };
  for (const k of Object.keys(process.env)) if (ENV_KEYS_TO_CLEAR.test(k)) delete process.env[k];
  tmp = mkdtempSync(join(tmpdir(), 'msp-awscred-'));
  Object.assign(process.env, {
    HOME: tmp,
    AWS_CONFIG_FILE: join(tmp, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_PROXY: '127.0.0.1,localhost',
  });
  logFile = join(tmp, 'proxy.log');
  logger = createLogger('trace', logFile);
});

afterEach(async () => {
  await sts?.close();
  sts = undefined;
  // Every test doubles as a canary check on everything logged.
  const logged = readLog();
  expect(logged).not.toContain(CANARY);
  expect(logged).not.toContain(SOURCE_KEY);
  expect(logged).not.toMatch(/ASIAFAKE\d{12}/);
  process.env = savedEnv;
  rmSync(tmp, { recursive: true, force: true });
});

function readLog(): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function logEntries(): Array<Record<string, unknown>> {
  return readLog().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sigv4(over: Partial<SigV4Config> = {}): SigV4Config {
  return { service: 'execute-api', region: REGION, profile: undefined, assumeRole: undefined, ...over };
}

function assumeRole(over: Partial<AssumeRoleConfig> = {}): AssumeRoleConfig {
  return { roleArn: ROLE_ARN, sessionName: 'mcp-signing-proxy-test', externalId: undefined, durationSeconds: 900, stsRegion: REGION, ...over };
}

function useSourceKeysFromEnv(): void {
  process.env.AWS_ACCESS_KEY_ID = SOURCE_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = SOURCE_SECRET;
  process.env.AWS_SESSION_TOKEN = SOURCE_TOKEN;
}

async function startSts(opts: { lifetimeSeconds?: number; now?: () => number } = {}): Promise<FakeSts> {
  sts = await startFakeSts({
    region: REGION,
    credentials: { [SOURCE_KEY]: { secretAccessKey: SOURCE_SECRET, sessionToken: SOURCE_TOKEN } },
    secretPrefix: `${CANARY}STS`,
    ...opts,
  });
  // Not passed to the provider: the SDK must pick the endpoint up by itself (AWS_ENDPOINT_URL_STS).
  process.env.AWS_ENDPOINT_URL_STS = sts.url;
  return sts;
}

/** The error the source threw, checked to be client-safe in every form it leaves us. */
async function failure(p: Promise<unknown>): Promise<CredentialError> {
  const err = await p.then(
    () => expect.unreachable('expected the credential source to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CredentialError);
  const e = err as CredentialError;
  const visible = JSON.stringify(toJsonRpcError(e)) + JSON.stringify(e) + e.message;
  expect(visible).not.toContain(CANARY);
  expect(visible).not.toContain(SOURCE_KEY);
  return e;
}

/** Builds a source with `cfg` and returns the error its first call fails with (see failure()). */
async function sourceFailure(cfg: SigV4Config, opts?: Parameters<typeof createAwsCredentialSource>[2]): Promise<CredentialError> {
  return failure((await createAwsCredentialSource(cfg, logger, opts))());
}

/** The common assume-role failure: the default source chain, one attempt. */
function assumeRoleFailure(): Promise<CredentialError> {
  return sourceFailure(sigv4({ assumeRole: assumeRole() }), { maxAttempts: 1 });
}

function writeIni(path: string, text: string): void {
  writeFileSync(path, text.replace(/^\s+/gm, ''));
}

/** A shared-credentials profile holding the source key and secret (and, unless told not to, the session token). */
function writeSourceProfile(name: string, { sessionToken = true } = {}): void {
  writeIni(process.env.AWS_SHARED_CREDENTIALS_FILE!, `
    [${name}]
    aws_access_key_id = ${SOURCE_KEY}
    aws_secret_access_key = ${SOURCE_SECRET}
    ${sessionToken ? `aws_session_token = ${SOURCE_TOKEN}` : ''}
  `);
}

/** A config-file profile that assumes `roleArn` from the "base" source profile. */
function writeRoleProfile(name: string, roleArn: string, extra = ''): void {
  writeIni(process.env.AWS_CONFIG_FILE!, `
    [profile ${name}]
    role_arn = ${roleArn}
    source_profile = base
    ${extra}
  `);
}

describe('source credentials (default chain)', () => {
  it('static env keys', async () => {
    process.env.AWS_ACCESS_KEY_ID = SOURCE_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = SOURCE_SECRET;
    const source = await createAwsCredentialSource(sigv4(), logger);
    const creds = await source();
    expect(creds).toMatchObject({ accessKeyId: SOURCE_KEY, secretAccessKey: SOURCE_SECRET });
    expect(creds.sessionToken).toBeUndefined();
    expect(await source()).toBe(creds);
    const loaded = logEntries().filter((e) => e.msg === 'AWS credentials loaded');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ source: 'env', accessKeyId: `****${SOURCE_KEY.slice(-4)}` });
  });

  it('env keys with a session token', async () => {
    useSourceKeysFromEnv();
    const creds = await (await createAwsCredentialSource(sigv4(), logger))();
    expect(creds).toMatchObject({ accessKeyId: SOURCE_KEY, sessionToken: SOURCE_TOKEN });
  });

  it('AWS_PROFILE and env keys both set: one warning line of ours, not the SDK\'s console text', async () => {
    writeSourceProfile('dev');
    process.env.AWS_ACCESS_KEY_ID = 'AKIAOTHER00000000000';
    process.env.AWS_SECRET_ACCESS_KEY = `${CANARY}OTHER`;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const creds = await (await createAwsCredentialSource(sigv4({ profile: 'dev' }), logger))();
      expect(creds.accessKeyId).toBe(SOURCE_KEY);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    const warned = logEntries().filter((e) => e.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toMatch(/AWS_PROFILE .* AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY are both set; the profile is used/);
  });

  it('a named profile from the shared credentials file', async () => {
    writeIni(process.env.AWS_SHARED_CREDENTIALS_FILE!, `
      [default]
      aws_access_key_id = AKIADEFAULT000000000
      aws_secret_access_key = ${CANARY}DEFAULT
      [dev]
      aws_access_key_id = ${SOURCE_KEY}
      aws_secret_access_key = ${SOURCE_SECRET}
    `);
    const creds = await (await createAwsCredentialSource(sigv4({ profile: 'dev' }), logger))();
    expect(creds.accessKeyId).toBe(SOURCE_KEY);
    expect(logEntries().find((e) => e.msg === 'AWS credentials loaded')).toMatchObject({ source: 'profile', profile: 'dev' });
  });

  it('a role_arn profile in the config file reaches STS through AWS_ENDPOINT_URL_STS', async () => {
    const fake = await startSts();
    writeSourceProfile('base');
    writeRoleProfile('ops', ROLE_ARN);
    const source = await createAwsCredentialSource(sigv4({ profile: 'ops' }), logger);
    const creds = await source();
    expect(creds.accessKeyId).toBe(fake.issued[0]?.accessKeyId);
    await source();
    expect(fake.calls).toHaveLength(1); // the SDK chain memoises
    expect(fake.calls[0]?.signedBy).toBe(SOURCE_KEY);
    expect(logEntries().find((e) => e.msg === 'AWS credentials loaded')).toMatchObject({ source: 'profile-role' });
  });

  it('credential_process: used, and the child does not share our stdin/stdout', async () => {
    const record = join(tmp, 'fds.json');
    const script = join(tmp, 'cred.mjs');
    writeFileSync(script, `
      import { readlinkSync, writeFileSync } from 'node:fs';
      writeFileSync(${JSON.stringify(record)}, JSON.stringify({ stdin: readlinkSync('/proc/self/fd/0'), stdout: readlinkSync('/proc/self/fd/1') }));
      process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(SOURCE_KEY)}, SecretAccessKey: ${JSON.stringify(SOURCE_SECRET)} }));
    `);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile proc]
      credential_process = ${process.execPath} ${script}
    `);
    const creds = await (await createAwsCredentialSource(sigv4({ profile: 'proc' }), logger))();
    expect(creds.accessKeyId).toBe(SOURCE_KEY);
    expect(logEntries().find((e) => e.msg === 'AWS credentials loaded')).toMatchObject({ source: 'credential-process' });
    if (process.platform === 'linux') {
      const child = JSON.parse(readFileSync(record, 'utf8')) as { stdin: string; stdout: string };
      expect(child.stdin).not.toBe(readlinkSync('/proc/self/fd/0'));
      expect(child.stdout).not.toBe(readlinkSync('/proc/self/fd/1'));
      expect(child.stdin).toMatch(/^(pipe|socket):\[/); // a fresh pipe, not a file or tty
    }
  });

  it('a failing credential_process: its output never reaches the message or the log', async () => {
    const script = join(tmp, 'fail.mjs');
    writeFileSync(script, `process.stderr.write('token ${CANARY}PROCESS leaked'); process.stdout.write('${CANARY}STDOUT'); process.exit(3);`);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile proc]
      credential_process = ${process.execPath} ${script} ${CANARY}ARGV
    `);
    const e = await sourceFailure(sigv4({ profile: 'proc' }));
    expect(e.code).toBe('ESP_AWS_PROCESS_FAILED');
    expect(e.message).toBe('the credential_process for profile "proc" failed (exited with an error)');
    expect(e.hint).toContain('credential_process');
  });

  it('a credential_process that returns expired credentials says so, naming the profile', async () => {
    const script = join(tmp, 'expired.mjs');
    const past = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(script, `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(SOURCE_KEY)}, SecretAccessKey: ${JSON.stringify(SOURCE_SECRET)}, SessionToken: '${CANARY}TOKEN', Expiration: '${past}' }));`);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile proc]
      credential_process = ${process.execPath} ${script}
    `);
    const e = await sourceFailure(sigv4({ profile: 'proc' }));
    expect(e.code).toBe('ESP_AWS_PROCESS_EXPIRED');
    expect(e.message).toBe('the credential_process of profile "proc" returned expired credentials (its Expiration is in the past)');
    expect(e.hint).toContain('Expiration');
  });

  it('a credential_process that prints something other than credentials', async () => {
    const script = join(tmp, 'junk.mjs');
    writeFileSync(script, `process.stdout.write('{"Version": 2, "AccessKeyId": "${CANARY}JUNK"}');`);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile proc]
      credential_process = ${process.execPath} ${script}
    `);
    const e = await sourceFailure(sigv4({ profile: 'proc' }));
    expect(e.code).toBe('ESP_AWS_PROCESS_FAILED');
    expect(e.message).toContain('credential_process of profile "proc" printed no usable credentials');
    expect(e.hint).toContain('"Version": 1');
  });

  it('a fresh pass forgets what an earlier failing pass reported', async () => {
    const script = join(tmp, 'expired.mjs');
    writeFileSync(script, `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'AKIAX', SecretAccessKey: '${CANARY}X', Expiration: '${new Date(Date.now() - 60_000).toISOString()}' }));`);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile proc]
      credential_process = ${process.execPath} ${script}
    `);
    const source = await createAwsCredentialSource(sigv4({ profile: 'proc' }), logger);
    expect((await failure(source())).code).toBe('ESP_AWS_PROCESS_EXPIRED');
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile other]
      region = ${REGION}
    `);
    writeFileSync(script, 'process.exit(0)');
    expect((await failure(source({ forceRefresh: true }))).code).not.toBe('ESP_AWS_PROCESS_EXPIRED');
  });

  it('a credential_process that never answers (waits on stdin) times out with a clear error', async () => {
    const script = join(tmp, 'hang.mjs');
    writeFileSync(script, `process.stdin.resume(); setTimeout(() => {}, 60_000);`);
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile stuck]
      credential_process = ${process.execPath} ${script}
    `);
    const t0 = Date.now();
    const e = await sourceFailure(sigv4({ profile: 'stuck' }), { chainTimeoutMs: 500 });
    expect(e.code).toBe('ESP_AWS_CREDENTIALS_TIMEOUT');
    expect(e.hint).toContain('credential_process');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('no credentials at all: lists the sources tried and the fix', async () => {
    const e = await sourceFailure(sigv4());
    expect(e.code).toBe('ESP_AWS_NO_CREDENTIALS');
    for (const s of ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'SSO', 'credential_process', 'web identity', 'container', 'IMDS']) expect(e.message).toContain(s);
    expect(e.hint).toContain('aws sso login --profile default');
    expect(toJsonRpcError(e).message).toMatch(/^mcp-signing-proxy: no AWS credentials found/);
    expect(logEntries().find((l) => l.code === 'ESP_AWS_NO_CREDENTIALS')).toMatchObject({ level: 50 });
  });

  it('an unknown profile is named as such', async () => {
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile other]
      region = ${REGION}
    `);
    const e = await sourceFailure(sigv4({ profile: 'typo' }));
    expect(e.code).toBe('ESP_AWS_UNKNOWN_PROFILE');
    expect(e.message).toContain('"typo"');
  });

  it('a defined profile without credentials is "no credentials", not "unknown"', async () => {
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile empty]
      region = ${REGION}
    `);
    const e = await sourceFailure(sigv4({ profile: 'empty' }));
    expect(e.code).toBe('ESP_AWS_NO_CREDENTIALS');
    expect(e.message).toContain('skipped: profile "empty" is set');
  });

  it('an mfa_serial role profile explains that MFA cannot be prompted for', async () => {
    writeSourceProfile('base', { sessionToken: false });
    writeRoleProfile('mfa', ROLE_ARN, 'mfa_serial = arn:aws:iam::123456789012:mfa/someone');
    const e = await sourceFailure(sigv4({ profile: 'mfa' }));
    expect(e.code).toBe('ESP_AWS_MFA_REQUIRED');
    expect(e.hint).toContain('credential_process');
  });
});

describe('expired SSO session', () => {
  function writeSsoCache(key: string, token: Record<string, unknown>): void {
    const dir = join(tmp, '.aws', 'sso', 'cache');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${createHash('sha1').update(key).digest('hex')}.json`), JSON.stringify(token));
  }
  const expired = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

  it('sso-session profile with an expired token and no refresh data', async () => {
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile sso-dev]
      sso_session = corp
      sso_account_id = 123456789012
      sso_role_name = Developer
      region = ${REGION}
      [sso-session corp]
      sso_start_url = https://corp.awsapps.com/start
      sso_region = ${REGION}
      sso_registration_scopes = sso:account:access
    `);
    writeSsoCache('corp', { accessToken: `${CANARY}SSOTOKEN`, expiresAt: expired, region: REGION, startUrl: 'https://corp.awsapps.com/start' });
    const e = await sourceFailure(sigv4({ profile: 'sso-dev' }));
    expect(e.code).toBe('ESP_AWS_SSO_EXPIRED');
    expect(toJsonRpcError(e).message).toContain('run: aws sso login --profile sso-dev');
    expect(readLog()).toContain('aws sso login --profile sso-dev'); // stderr carries the fix too
  });

  it('legacy sso_start_url profile with an expired token', async () => {
    const startUrl = 'https://legacy.awsapps.com/start';
    writeIni(process.env.AWS_CONFIG_FILE!, `
      [profile legacy]
      sso_start_url = ${startUrl}
      sso_region = ${REGION}
      sso_account_id = 123456789012
      sso_role_name = Developer
    `);
    writeSsoCache(startUrl, { accessToken: `${CANARY}SSOLEGACY`, expiresAt: expired, region: REGION, startUrl });
    const e = await sourceFailure(sigv4({ profile: 'legacy' }));
    expect(e.code).toBe('ESP_AWS_SSO_EXPIRED');
    expect(e.hint).toBe('run: aws sso login --profile legacy');
  });
});

describe('assume role (fromTemporaryCredentials + memoiser)', () => {
  it('end to end: parameters, signature, stable session name, memoised, forceRefresh', async () => {
    const fake = await startSts();
    useSourceKeysFromEnv();
    const cfg = sigv4({ assumeRole: assumeRole({ externalId: 'ext-4711', durationSeconds: 1800 }) });
    const source = await createAwsCredentialSource(cfg, logger, { maxAttempts: 1 });

    const first = await source();
    expect(first.accessKeyId).toBe('ASIAFAKE000000000001');
    expect(first.sessionToken).toBe(fake.issued[0]?.sessionToken);
    expect(first.expiration).toBeInstanceOf(Date);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      signedBy: SOURCE_KEY,
      status: 200,
      params: { Action: 'AssumeRole', RoleArn: ROLE_ARN, RoleSessionName: 'mcp-signing-proxy-test', ExternalId: 'ext-4711', DurationSeconds: '1800' },
    });

    await Promise.all(Array.from({ length: 20 }, () => source()));
    expect(fake.calls).toHaveLength(1); // not one AssumeRole per signature

    const forced = await source({ forceRefresh: true });
    expect(forced.accessKeyId).toBe('ASIAFAKE000000000002');
    expect(fake.calls.map((c) => c.params.RoleSessionName)).toEqual(['mcp-signing-proxy-test', 'mcp-signing-proxy-test']);

    const assumed = logEntries().filter((e) => e.msg === 'assumed AWS role');
    expect(assumed[0]).toMatchObject({ roleArn: ROLE_ARN, accessKeyId: '****0001', source: 'assume-role' });
    expect(assumed[0]?.expiresAt).toBe(first.expiration?.toISOString());
    expect(logEntries().find((e) => e.msg === 'AWS source credentials loaded')).toMatchObject({ source: 'env', accessKeyId: `****${SOURCE_KEY.slice(-4)}` });
  });

  it('ExternalId is omitted when not configured', async () => {
    const fake = await startSts();
    useSourceKeysFromEnv();
    await (await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { maxAttempts: 1 }))();
    expect(fake.calls[0]?.params).not.toHaveProperty('ExternalId');
  });

  it('short-lived credentials are refreshed ahead of expiry, one STS call per refresh (fake clock)', async () => {
    let clock = Date.now();
    const fake = await startSts({ lifetimeSeconds: 60, now: () => clock });
    useSourceKeysFromEnv();
    const source = await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { maxAttempts: 1, now: () => clock });
    const start = clock;

    const first = await source();
    clock = start + 20_000;
    for (let i = 0; i < 20; i++) expect(await source()).toBe(first);
    expect(fake.calls).toHaveLength(1);

    // 60 s lifetime → 30 s window: past half-life the current value is still served while
    // exactly one refresh runs in the background.
    clock = start + 31_000;
    const during = await Promise.all(Array.from({ length: 20 }, () => source()));
    expect(during.every((c) => c === first)).toBe(true);
    await vi.waitFor(() => expect(fake.calls).toHaveLength(2));
    await vi.waitFor(async () => expect((await source()).accessKeyId).toBe('ASIAFAKE000000000002'));
    expect(fake.calls).toHaveLength(2);

    // Long idle: the next call is past expiry and must wait for fresh credentials.
    clock = start + 10 * 60_000;
    const late = await source();
    expect(late.accessKeyId).toBe('ASIAFAKE000000000003');
    expect(late.expiration!.getTime()).toBeGreaterThan(clock);
    expect(fake.calls.every((c) => c.params.RoleSessionName === 'mcp-signing-proxy-test')).toBe(true);
  });

  it('measurement: 6 simulated hours at one request per second with a 15-minute role', async () => {
    let clock = Date.now();
    const fake = await startSts({ lifetimeSeconds: 900, now: () => clock });
    useSourceKeysFromEnv();
    const source = await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { maxAttempts: 1, now: () => clock });
    let tooClose = 0;
    for (let second = 0; second < 6 * 3600; second++) {
      clock += 1000;
      const c = await source();
      if (c.expiration!.getTime() - clock < 30_000) tooClose += 1;
      // One event-loop turn per simulated second lets a background refresh reach the fake STS.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    console.info(`[measurement] real SDK + fake STS, 6 h at 1 req/s, 15-min role: ${fake.calls.length} AssumeRole calls`);
    expect(tooClose).toBe(0);
    expect(fake.calls).toHaveLength(36);
  });

  it('AccessDenied: says the trust policy must allow sts:AssumeRole on the role, and the ExternalId must match', async () => {
    const fake = await startSts();
    // STS's text is not ours to repeat (it names principals): a canary proves it is dropped.
    fake.failNext('AccessDenied', { message: `User: arn:aws:sts::123456789012:assumed-role/x/${CANARY}STSMESSAGE is not authorized` });
    const cfg = sigv4({ profile: 'dev', assumeRole: assumeRole({ externalId: 'ext-4711' }) });
    writeSourceProfile('dev');
    const e = await sourceFailure(cfg, { maxAttempts: 1 });
    expect(e.code).toBe('ESP_AWS_ASSUME_ROLE_DENIED');
    const text = toJsonRpcError(e).message;
    expect(text).toContain(`sts:AssumeRole on ${ROLE_ARN}`);
    expect(text).toContain('trust policy');
    expect(text).toContain('ExternalId');
    expect(text).not.toContain('ext-4711');
    expect(fake.calls[0]).toMatchObject({ status: 403, errorCode: 'AccessDenied' });
  });

  it('expired source token: says to refresh the source credentials', async () => {
    const fake = await startSts();
    useSourceKeysFromEnv();
    fake.expireSource(SOURCE_KEY);
    const e = await assumeRoleFailure();
    expect(e.code).toBe('ESP_AWS_SOURCE_EXPIRED');
    expect(e.message).toContain(ROLE_ARN);
    expect(e.message).toContain('environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
    // The keys came from the environment: an SSO login for profile "default" would not help.
    expect(e.hint).not.toContain('aws sso login');
    expect(e.hint).toContain('AWS_SESSION_TOKEN');
  });

  it('rejected source keys from the environment are named as such, not as profile "default"', async () => {
    await startSts();
    process.env.AWS_ACCESS_KEY_ID = SOURCE_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = `${CANARY}WRONG`;
    const e = await assumeRoleFailure();
    expect(e.code).toBe('ESP_AWS_SOURCE_INVALID');
    expect(e.message).toMatch(/^the source credentials \(environment keys AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY\) used to assume \S+ were rejected by STS \(\w+\)$/);
    expect(e.message).toContain(ROLE_ARN);
    expect(e.hint).toContain('AWS_SECRET_ACCESS_KEY');
    expect(e.hint).not.toContain('aws sso login');
  });

  it('rejected source keys from a profile name that profile', async () => {
    await startSts();
    writeIni(process.env.AWS_SHARED_CREDENTIALS_FILE!, `
      [dev]
      aws_access_key_id = ${SOURCE_KEY}
      aws_secret_access_key = ${CANARY}WRONG
    `);
    const e = await sourceFailure(sigv4({ profile: 'dev', assumeRole: assumeRole() }), { maxAttempts: 1 });
    expect(e.message).toContain('the source credentials (static keys of profile "dev") used to assume');
    expect(e.hint).toContain('aws configure --profile dev');
  });

  it('the credentials handed out name their origin, the assumed ones their source too', async () => {
    await startSts();
    useSourceKeysFromEnv();
    const creds = await (await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { maxAttempts: 1 }))();
    expect(creds.origin?.label).toBe(`role ${ROLE_ARN} (assumed with the environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`);
  });

  it('source keys STS does not know: InvalidClientTokenId', async () => {
    await startSts();
    process.env.AWS_ACCESS_KEY_ID = 'AKIAUNKNOWN000000000';
    process.env.AWS_SECRET_ACCESS_KEY = SOURCE_SECRET;
    const e = await assumeRoleFailure();
    expect(e.code).toBe('ESP_AWS_SOURCE_INVALID');
  });

  it('a failure recovers on the next call (no restart needed)', async () => {
    const fake = await startSts();
    useSourceKeysFromEnv();
    fake.failNext('AccessDenied');
    const source = await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { maxAttempts: 1 });
    await failure(source());
    expect((await source()).accessKeyId).toBe('ASIAFAKE000000000001');
  });

  it('no source credentials: the chain failure is reported once, as ours', async () => {
    const fake = await startSts();
    const e = await assumeRoleFailure();
    expect(e.code).toBe('ESP_AWS_NO_CREDENTIALS');
    expect(fake.calls).toHaveLength(0);
    expect(logEntries().filter((l) => l.code === 'ESP_AWS_NO_CREDENTIALS')).toHaveLength(1);
  });

  it('opts.requestHandler carries the STS traffic, for --role-arn and for role_arn profiles', async () => {
    const fake = await startSts();
    let handled = 0;
    // What the TLS/proxy layer will hand in: a node-http-handler configured with agents.
    class CountingHandler extends NodeHttpHandler {
      override handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
        handled += 1;
        return super.handle(...args);
      }
    }
    const requestHandler = new CountingHandler();
    writeSourceProfile('base');
    writeRoleProfile('ops', 'arn:aws:iam::123456789012:role/source-role');
    // The chain's own STS client (role_arn profile) gets it through clientConfig …
    const source = await createAwsCredentialSource(sigv4({ profile: 'ops' }), logger, { requestHandler });
    await source();
    expect(fake.calls).toHaveLength(1);
    expect(handled).toBe(1);
    // … and so does fromTemporaryCredentials' STS client.
    useSourceKeysFromEnv();
    const assumed = await createAwsCredentialSource(sigv4({ assumeRole: assumeRole() }), logger, { requestHandler, maxAttempts: 1 });
    await assumed();
    expect(fake.calls).toHaveLength(2);
    expect(handled).toBe(2);
  });

  it('STS unreachable', async () => {
    const fake = await startSts();
    await fake.close();
    sts = undefined;
    useSourceKeysFromEnv();
    const e = await assumeRoleFailure();
    expect(e.code).toBe('ESP_AWS_CREDENTIALS_UNREACHABLE');
  });
});
