import { CredentialError } from '../errors.js';

/**
 * Turns whatever the AWS SDK threw while getting credentials into a CredentialError the
 * client may see. The SDK's own text is only pattern-matched, never copied: it can carry
 * credential_process output, file contents or STS messages. The
 * result says what failed and the fix, in our words plus profile and role names.
 */
export const AWS_CREDENTIAL_ERROR_CODES = {
  ssoExpired: 'ESP_AWS_SSO_EXPIRED',
  assumeRoleDenied: 'ESP_AWS_ASSUME_ROLE_DENIED',
  sourceExpired: 'ESP_AWS_SOURCE_EXPIRED',
  sourceInvalid: 'ESP_AWS_SOURCE_INVALID',
  mfaRequired: 'ESP_AWS_MFA_REQUIRED',
  processExpired: 'ESP_AWS_PROCESS_EXPIRED',
  processFailed: 'ESP_AWS_PROCESS_FAILED',
  unknownProfile: 'ESP_AWS_UNKNOWN_PROFILE',
  noCredentials: 'ESP_AWS_NO_CREDENTIALS',
  unreachable: 'ESP_AWS_CREDENTIALS_UNREACHABLE',
  other: 'ESP_AWS_CREDENTIALS',
} as const;

export interface CredentialErrorContext {
  /** The profile in effect: `--profile`/`AWS_PROFILE`, else `default`. */
  readonly profile: string;
  /** A profile was named explicitly; the SDK then skips the env keys. */
  readonly profileNamed: boolean;
  /** `false` when the named profile is in neither AWS file; `undefined` when not checked. */
  readonly profileDefined?: boolean | undefined;
  /** Set when the proxy itself assumes a role (--role-arn / ASSUME_ROLE_ARN). */
  readonly assumeRole?: { readonly roleArn: string; readonly hasExternalId: boolean } | undefined;
  /** Where the (source) credentials in use came from, once the chain has delivered some. */
  readonly source?: CredentialOrigin | undefined;
  /**
   * What the chain's providers reported while failing (the SDK's own lines, seen by the
   * chain logger): pattern-matched to tell, e.g., an expired credential_process from
   * "nothing found", never copied.
   */
  readonly providerNotes?: readonly string[] | undefined;
}

/** A credential source in words, and how to renew what it supplies. */
export interface CredentialOrigin {
  /** e.g. `environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`, `SSO session of profile "dev"`. */
  readonly label: string;
  readonly renew: string;
}

/**
 * The origin for a kind of source as the credential chain reports it (see SOURCE_KINDS in
 * aws-credentials.ts), for profile `profile`.
 */
export function credentialOrigin(kind: string, profile: string): CredentialOrigin {
  const p = `profile "${profile}"`;
  switch (kind) {
    case 'env':
      return {
        label: 'environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
        renew: 'update AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) where this MCP server\'s environment is set (its "env" block)',
      };
    case 'profile':
      return { label: `static keys of ${p}`, renew: `update aws_access_key_id / aws_secret_access_key of ${p} (aws configure --profile ${profile})` };
    case 'sso':
      return { label: `SSO session of ${p}`, renew: `run aws sso login --profile ${profile}` };
    case 'aws-login':
      return { label: `aws login session of ${p}`, renew: `run aws login --profile ${profile}` };
    case 'credential-process':
      return { label: `credential_process of ${p}`, renew: `run the credential_process command of ${p} yourself and renew whatever it reads` };
    case 'profile-role':
      return { label: `role_arn of ${p}`, renew: `renew the source_profile / credential_source credentials of ${p}` };
    case 'web-identity':
      return { label: 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)', renew: 'check that the file AWS_WEB_IDENTITY_TOKEN_FILE is being refreshed and that AWS_ROLE_ARN trusts its issuer' };
    case 'container':
      return { label: 'container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)', renew: 'check the task or pod role that supplies them' };
    case 'imds':
      return { label: 'EC2 instance metadata (the instance profile)', renew: 'check the instance profile role of this machine' };
    default:
      return { label: `default credential chain (${p})`, renew: `run aws sts get-caller-identity --profile ${profile} to see which credentials it picks` };
  }
}

const C = AWS_CREDENTIAL_ERROR_CODES;

/** STS error codes meaning the caller's own credentials are expired / not valid. */
const EXPIRED_SOURCE = new Set(['ExpiredToken', 'ExpiredTokenException']);
const INVALID_SOURCE = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'IncompleteSignature']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

const NO_PROVIDERS = /could not load credentials from any providers/i;
// @aws-sdk/credential-provider-process wordings, with the profile the command belongs to.
const PROCESS_EXPIRED = /Profile ([\w\-@+.%:/]{1,64}) credential_process returned expired credentials/;
const PROCESS_BAD_OUTPUT = /Profile ([\w\-@+.%:/]{1,64}) credential_process (?:did not return Version 1|returned invalid JSON|returned invalid credentials)/;
// child_process.exec's wording for a command that exited non-zero (only credential_process runs one).
const PROCESS_EXIT = /-> Command failed: /;
// All three SDK wordings of an expired/invalid SSO session end in "aws sso login".
const SSO_LOGIN = /aws sso login/i;
// fromTemporaryCredentials and fromIni (mfa_serial) both say this.
const MFA = /requires multi-factor authentication/i;

function field(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/** An identifier-like name or code (`AccessDenied`, `ECONNREFUSED`) is safe to repeat. */
function safeName(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(value) ? value : undefined;
}

function text(err: unknown): string {
  const m = field(err, 'message');
  return typeof m === 'string' ? m : '';
}

/** The credentials in use, named by where they came from when that is known. */
function callerLabel(ctx: CredentialErrorContext): string {
  return ctx.source?.label ?? `profile "${ctx.profile}"`;
}

function sourceOf(ctx: CredentialErrorContext): string {
  if (ctx.assumeRole === undefined) {
    return ctx.source === undefined ? `the AWS credentials of profile "${ctx.profile}"` : `the AWS credentials from the ${ctx.source.label}`;
  }
  return `the source credentials (${callerLabel(ctx)}) used to assume ${ctx.assumeRole.roleArn}`;
}

function refreshSourceHint(ctx: CredentialErrorContext): string {
  if (ctx.source !== undefined) return ctx.source.renew;
  return `refresh them: run aws sso login --profile ${ctx.profile} for an SSO profile, or update AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (or the profile's keys)`;
}

/** A credential_process that ran but gave nothing usable, from the chain's notes. */
function processFailure(ctx: CredentialErrorContext): CredentialError | undefined {
  const notes = ctx.providerNotes ?? [];
  const expired = notes.map((n) => PROCESS_EXPIRED.exec(n)).find((m) => m !== null);
  if (expired) {
    const p = `profile "${expired[1]}"`;
    return new CredentialError(C.processExpired, `the credential_process of ${p} returned expired credentials (its Expiration is in the past)`, {
      hint: `renew what the command reads (log in again with the tool it runs), then run the credential_process of ${p} yourself and check that its Expiration lies in the future; also check the system clock`,
    });
  }
  const bad = notes.map((n) => PROCESS_BAD_OUTPUT.exec(n)).find((m) => m !== null);
  if (bad) {
    return new CredentialError(C.processFailed, `the credential_process of profile "${bad[1]}" printed no usable credentials`, {
      hint: 'it must print JSON with "Version": 1, "AccessKeyId" and "SecretAccessKey" (and "SessionToken", "Expiration" for temporary keys); run it yourself to see its output',
    });
  }
  if (notes.some((n) => PROCESS_EXIT.test(n))) {
    return new CredentialError(C.processFailed, `the credential_process for profile "${ctx.profile}" failed (exited with an error)`, {
      hint: 'run the credential_process command yourself to see why it fails (its output is not shown here: it may carry secrets)',
    });
  }
  return undefined;
}

function noCredentials(ctx: CredentialErrorContext): CredentialError {
  const env = ctx.profileNamed
    ? `environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (skipped: profile "${ctx.profile}" is set)`
    : 'environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
  const tried = [
    env,
    `profile "${ctx.profile}" (--profile / AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials: static keys, SSO, credential_process, role_arn`,
    'web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)',
    'container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)',
    'EC2 instance metadata (IMDS)',
  ];
  return new CredentialError(C.noCredentials, `no AWS credentials found; tried ${tried.join('; ')}`, {
    hint:
      `run aws sso login --profile ${ctx.profile} or aws configure --profile ${ctx.profile}, or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ` +
      'in the "env" block of this MCP server\'s configuration (hosts do not pass the shell environment); ' +
      'if the profile uses credential_process, run that command yourself to see why it fails',
  });
}

export function classifyCredentialError(err: unknown, ctx: CredentialErrorContext): CredentialError {
  if (err instanceof CredentialError) return err;
  const message = text(err);
  const name = safeName(field(err, 'name'));
  const code = safeName(field(err, 'code')) ?? name;
  const role = ctx.assumeRole?.roleArn;

  if (MFA.test(message)) {
    return new CredentialError(
      C.mfaRequired,
      `${role === undefined ? `profile "${ctx.profile}"` : `role ${role}`} requires multi-factor authentication, which the proxy cannot prompt for (stdin is the MCP connection)`,
      { hint: 'MFA-protected roles are not supported non-interactively: use a profile whose credential_process handles MFA, or assume the role beforehand and pass the temporary credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)' },
    );
  }
  if (name !== undefined && name.endsWith('ProviderError') && SSO_LOGIN.test(message)) {
    return new CredentialError(C.ssoExpired, `the AWS SSO session for profile "${ctx.profile}" has expired or is invalid`, {
      hint: `run: aws sso login --profile ${ctx.profile}`,
    });
  }
  if (name !== undefined && DENIED.has(name)) {
    if (role === undefined) {
      return new CredentialError(C.assumeRoleDenied, `STS denied AssumeRole for the role_arn of profile "${ctx.profile}" (${name})`, {
        hint: `the role's trust policy must allow the source_profile/credential_source identity of profile "${ctx.profile}" to sts:AssumeRole`,
      });
    }
    const externalId = ctx.assumeRole?.hasExternalId
      ? '; its sts:ExternalId condition must match the ExternalId given (--external-id / ASSUME_ROLE_EXTERNAL_ID)'
      : '';
    return new CredentialError(C.assumeRoleDenied, `STS denied AssumeRole on ${role} (${name})`, {
      hint: `the role's trust policy must allow the caller (${callerLabel(ctx)}) to sts:AssumeRole on ${role}${externalId}, and the caller's IAM policy must allow sts:AssumeRole on it`,
    });
  }
  if (name !== undefined && EXPIRED_SOURCE.has(name)) {
    return new CredentialError(C.sourceExpired, `${sourceOf(ctx)} have expired (${name})`, { hint: refreshSourceHint(ctx) });
  }
  if (name !== undefined && INVALID_SOURCE.has(name)) {
    return new CredentialError(C.sourceInvalid, `${sourceOf(ctx)} were rejected by STS (${name})`, { hint: refreshSourceHint(ctx) });
  }
  if (NO_PROVIDERS.test(message)) {
    const processError = processFailure(ctx);
    if (processError !== undefined) return processError;
    if (ctx.profileNamed && ctx.profileDefined === false) {
      return new CredentialError(C.unknownProfile, `AWS profile "${ctx.profile}" is not defined in the AWS config or credentials file`, {
        hint: `check --profile / AWS_PROFILE, or create the profile (aws configure --profile ${ctx.profile}, or aws configure sso --profile ${ctx.profile}); the files are AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)`,
      });
    }
    return noCredentials(ctx);
  }
  if (code !== undefined && NETWORK.has(code)) {
    return new CredentialError(C.unreachable, `could not reach the AWS credentials endpoint (${code})`, {
      hint: 'check network access to STS (or AWS_ENDPOINT_URL_STS), proxy settings and NODE_EXTRA_CA_CERTS',
    });
  }
  const what = role === undefined ? `for profile "${ctx.profile}"` : `to assume ${role} (${callerLabel(ctx)})`;
  return new CredentialError(C.other, `could not get AWS credentials ${what} (${name ?? 'error'})`, {
    hint: `run aws sts get-caller-identity --profile ${ctx.profile} to see the underlying error`,
  });
}
