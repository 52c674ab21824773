import { userInfo } from 'node:os';
import type { AssumeRoleConfig, SigV4Config } from '../../config/config.js';
import { positiveInt } from '../../config/values.js';
import { profileRegion } from '../../config/aws-profile-region.js';
import { ConfigError } from '../../errors.js';
import { inferAwsEndpoint, looksLikeAwsHost } from '../aws-endpoint.js';
import { defineSignerKind, type SignerInput } from '../kind.js';

export type SigV4SignerConfig = SigV4Config & { readonly kind: 'sigv4' };

/** Stable, valid default: [\w+=,.@-], 2–64 chars (STS AssumeRole RoleSessionName). */
export function defaultRoleSessionName(user: string | undefined): string {
  const clean = (user ?? 'user').replace(/[^\w+=,.@-]/g, '-');
  return `mcp-signing-proxy-${clean}`.slice(0, 64);
}

function currentUser(input: SignerInput): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return input.env('USER') ?? input.env('USERNAME');
  }
}

function sigv4Config(input: SignerInput): SigV4SignerConfig {
  const { endpoint } = input;
  const roleArn = input.flag('role-arn') ?? input.env('ASSUME_ROLE_ARN');
  const guess = inferAwsEndpoint(endpoint);
  const service = input.flag('service') ?? input.env('MCP_SIGV4_SERVICE') ?? guess?.service;
  if (service === undefined) {
    const aws = looksLikeAwsHost(endpoint);
    throw new ConfigError(
      `cannot tell the SigV4 service for ${endpoint.hostname}${aws ? '' : ' (custom domain)'}`,
      'add --service NAME or MCP_SIGV4_SERVICE (execute-api for API Gateway, lambda for function URLs, bedrock-agentcore for AgentCore)',
    );
  }
  if (!/^[a-z0-9-]+$/.test(service)) throw new ConfigError(`--service / MCP_SIGV4_SERVICE "${service}" is not a service name`, 'use a lower-case name such as execute-api');
  const profile = input.flag('profile') ?? input.env('AWS_PROFILE');
  // Region precedence (README, configuration table): --region › URL › AWS_REGION ›
  // AWS_DEFAULT_REGION (the JS SDK ignores it, so we read it ourselves) › the profile's
  // `region`, the fallback of the AWS CLI and SDKs.
  let region = input.flag('region') ?? guess?.region ?? input.env('AWS_REGION') ?? input.env('AWS_DEFAULT_REGION');
  if (region === undefined) {
    const lookup = profileRegion(profile ?? 'default', input.rawEnv);
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
    const sessionName = input.flag('role-session-name') ?? input.env('ASSUME_ROLE_SESSION_NAME') ?? defaultRoleSessionName(currentUser(input));
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new ConfigError('--role-session-name / ASSUME_ROLE_SESSION_NAME must be 2–64 characters of letters, digits and +=,.@_-', 'pick a shorter name without spaces');
    }
    const durationRaw = input.flag('role-duration') ?? input.env('ASSUME_ROLE_DURATION_SECONDS');
    const durationSeconds = durationRaw === undefined ? 3600 : positiveInt(durationRaw, '--role-duration / ASSUME_ROLE_DURATION_SECONDS', 900, 43200);
    const externalId = input.flag('external-id') ?? input.env('ASSUME_ROLE_EXTERNAL_ID');
    if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
      throw new ConfigError('--external-id / ASSUME_ROLE_EXTERNAL_ID has characters STS does not accept', 'use letters, digits and +=,.@:/-');
    }
    const stsRegion = input.flag('sts-region') ?? input.env('ASSUME_ROLE_STS_REGION') ?? region;
    // It becomes the STS host name (sts.<region>.amazonaws.com): nothing but a region name.
    if (!/^[a-z0-9-]+$/.test(stsRegion)) throw new ConfigError(`--sts-region / ASSUME_ROLE_STS_REGION "${stsRegion.slice(0, 64)}" is not a region name`, 'use a name such as us-east-1');
    assumeRole = { roleArn, sessionName, externalId, durationSeconds, stsRegion };
  }
  return { kind: 'sigv4', service, region, profile, assumeRole };
}

/** AWS Signature Version 4 (README "AWS"): runs last, so it covers every header before it. */
export const sigv4Kind = defineSignerKind({
  kind: 'sigv4',
  settings: [
    { name: 'service', type: 'string', value: 'NAME', env: ['MCP_SIGV4_SERVICE'], help: 'SigV4 signing service; inferred for API Gateway (execute-api), Lambda URLs (lambda), AgentCore (bedrock-agentcore) and *.api.aws', group: 'AWS SigV4' },
    { name: 'region', type: 'string', value: 'REGION', env: ['AWS_REGION', 'AWS_DEFAULT_REGION'], help: 'signing region; order: this flag, the URL, AWS_REGION, AWS_DEFAULT_REGION, the AWS profile region', group: 'AWS SigV4' },
    { name: 'profile', type: 'string', value: 'NAME', env: ['AWS_PROFILE'], help: 'AWS profile for the default credential chain', group: 'AWS SigV4' },
    { name: 'role-arn', type: 'string', value: 'ARN', env: ['ASSUME_ROLE_ARN'], help: 'role to assume with STS', group: 'AWS SigV4' },
    { name: 'role-session-name', type: 'string', value: 'NAME', env: ['ASSUME_ROLE_SESSION_NAME'], default: 'mcp-signing-proxy-<user>', help: 'STS session name', group: 'AWS SigV4' },
    { name: 'external-id', type: 'string', value: 'ID', env: ['ASSUME_ROLE_EXTERNAL_ID'], help: "External ID the role's trust policy asks for", group: 'AWS SigV4' },
    { name: 'role-duration', type: 'string', value: 'SECONDS', env: ['ASSUME_ROLE_DURATION_SECONDS'], default: '3600', help: 'session length, 900..43200', group: 'AWS SigV4' },
    { name: 'sts-region', type: 'string', value: 'REGION', env: ['ASSUME_ROLE_STS_REGION'], default: 'the signing region', help: 'region of the STS endpoint (AWS_ENDPOINT_URL_STS overrides the URL)', group: 'AWS SigV4' },
  ],
  refusedFlags: { '--aws-secret-access-key': 'use a profile (--profile) or the AWS_* env variables' },
  envOnly: [{ env: 'AWS_ENDPOINT_URL_STS', help: 'STS endpoint URL (VPC endpoints)', group: 'AWS SigV4' }],
  ownsAuthorization: true,
  // Auto-selection (README "Configuration"): sigv4 if a role ARN or a service is set, or the URL is an AWS endpoint
  // (unless a token says bearer).
  detect(input) {
    if ((input.flag('role-arn') ?? input.env('ASSUME_ROLE_ARN') ?? input.flag('service') ?? input.env('MCP_SIGV4_SERVICE')) !== undefined) return 'strong';
    return inferAwsEndpoint(input.endpoint) === undefined ? undefined : 'weak';
  },
  configure: sigv4Config,
  unused(input, chosen) {
    if ((input.flag('role-arn') ?? input.env('ASSUME_ROLE_ARN')) === undefined) return undefined;
    return new ConfigError(`ASSUME_ROLE_ARN / --role-arn only works with --signer sigv4 (signer is ${chosen.kind})`, 'remove --signer, or unset ASSUME_ROLE_ARN');
  },
  headerProblem(name) {
    if (name === 'authorization') return { message: 'an "authorization" header conflicts with the sigv4 signer', hint: 'remove the authorization header: SigV4 writes it' };
    if (name.startsWith('x-amz-') && name !== 'x-amz-target') return { message: `header "${name}" is written by the SigV4 signer`, hint: `remove the "${name}" header` };
    return undefined;
  },
  describe: (c) => ({
    sigv4: { service: c.service, region: c.region, profile: c.profile, roleArn: c.assumeRole?.roleArn, roleSessionName: c.assumeRole?.sessionName },
  }),
  async create(c, { config, logger }) {
    const [{ createSigV4Signer }, { createAwsCredentialSource }, { awsRequestHandlerFor, createAwsHttpsAgent }, { prewarmCredentials }] = await Promise.all([
      import('../sigv4.js'),
      import('../../credentials/aws-credentials.js'),
      import('../../tls/aws-request-handler.js'),
      import('../../credentials/prewarm-credentials.js'),
    ]);
    // AWS's own traffic (STS, SSO) gets the same CA bundle and proxy as ours: our AssumeRole
    // call through this agent, the SDK's clients through a handler built on it when needed.
    const agent = createAwsHttpsAgent(config, logger);
    const connectTimeoutMs = config.network.connectTimeoutMs;
    const sdkRequestHandler = async (): Promise<unknown> => agent && awsRequestHandlerFor(agent, connectTimeoutMs);
    const credentials = prewarmCredentials(await createAwsCredentialSource(c, logger, { sdkRequestHandler, sts: { agent, connectTimeoutMs } }));
    return createSigV4Signer({ service: c.service, region: c.region, credentials });
  },
});
