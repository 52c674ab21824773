import { profileSettings } from '../config/aws-profile-region.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Settings that change how the AWS SDK reaches or retries STS in ways our own AssumeRole
 * call does not reproduce (FIPS/dual-stack endpoints, the global endpoint, endpoint URLs
 * in the config file, retry modes); when any is set, the SDK's STS client is used.
 */
const SDK_ONLY_ENV = [
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_DEFAULTS_MODE',
] as const;
const SDK_ONLY_PROFILE_KEYS = [
  'use_fips_endpoint',
  'use_dualstack_endpoint',
  'sts_regional_endpoints',
  'ignore_configured_endpoint_urls',
  'max_attempts',
  'retry_mode',
  'defaults_mode',
  'services',
] as const;

/** Regions of the standard `aws` partition, whose STS endpoint is sts.{region}.amazonaws.com. */
const AWS_PARTITION_REGION = /^(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d{1,2}$/;

/**
 * The STS endpoint the AWS SDK's STS client would call for `region`, when we can tell it
 * for certain: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint
 * of the `aws` partition (the SDK's default: regional, not the global sts.amazonaws.com).
 * Undefined when something else decides (see above, or another partition): the caller
 * then leaves the call to the SDK. `profiles` are those whose settings count: the one the
 * SDK's STS client reads (the AWS_PROFILE in effect, else `default`) and the chain's.
 */
export function stsEndpoint(region: string, env: Env, profiles: readonly string[]): URL | undefined {
  if (SDK_ONLY_ENV.some((name) => (env[name] ?? '') !== '')) return undefined;
  for (const profile of new Set(profiles)) {
    for (const key of profileSettings(profile, env).keys()) {
      if (key.includes('endpoint_url') || SDK_ONLY_PROFILE_KEYS.some((k) => key === k || key.startsWith(`${k}.`))) return undefined;
    }
  }
  const configured = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (configured) {
    let url: URL;
    try {
      url = new URL(configured);
    } catch {
      return undefined;
    }
    const plain = (url.protocol === 'https:' || url.protocol === 'http:') && url.pathname === '/' && url.search === '' && url.username === '' && url.password === '';
    return plain ? url : undefined;
  }
  return AWS_PARTITION_REGION.test(region) ? new URL(`https://sts.${region}.amazonaws.com/`) : undefined;
}
