import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stsEndpoint } from '../../src/credentials/sts-endpoint.js';

/** An environment whose shared AWS files are `config` / `credentials` (empty by default). */
function env(extra: Record<string, string> = {}, files: { config?: string; credentials?: string } = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'msp-sts-endpoint-'));
  writeFileSync(join(dir, 'config'), files.config ?? '');
  writeFileSync(join(dir, 'credentials'), files.credentials ?? '');
  return { HOME: dir, AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), ...extra };
}

describe('the STS endpoint our own AssumeRole call uses (the SDK decides otherwise)', () => {
  it('the regional endpoint of the aws partition by default', () => {
    expect(stsEndpoint('eu-west-1', env(), ['default'])?.href).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(stsEndpoint('us-east-1', env(), ['default'])?.href).toBe('https://sts.us-east-1.amazonaws.com/');
  });

  it('AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL', () => {
    expect(stsEndpoint('eu-west-1', env({ AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }), ['default'])?.href).toBe('http://127.0.0.1:4566/');
    expect(stsEndpoint('eu-west-1', env({ AWS_ENDPOINT_URL: 'https://vpce-1.sts.eu-west-1.vpce.amazonaws.com' }), ['default'])?.href).toBe('https://vpce-1.sts.eu-west-1.vpce.amazonaws.com/');
  });

  it.each([
    ['another partition (China)', 'cn-north-1', {}],
    ['GovCloud', 'us-gov-west-1', {}],
    ['the global pseudo-region', 'aws-global', {}],
    ['FIPS endpoints', 'us-east-1', { AWS_USE_FIPS_ENDPOINT: 'true' }],
    ['dual-stack endpoints', 'us-east-1', { AWS_USE_DUALSTACK_ENDPOINT: 'true' }],
    ['legacy global STS', 'us-east-1', { AWS_STS_REGIONAL_ENDPOINTS: 'legacy' }],
    ['ignored endpoint URLs', 'us-east-1', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' }],
    ['a retry setting', 'us-east-1', { AWS_MAX_ATTEMPTS: '5' }],
    ['an endpoint URL with a path', 'us-east-1', { AWS_ENDPOINT_URL_STS: 'https://sts.example.com/prefix' }],
    ['an endpoint URL that is none', 'us-east-1', { AWS_ENDPOINT_URL_STS: 'not a url' }],
  ])('left to the SDK: %s', (_what, region, extra) => {
    expect(stsEndpoint(region, env(extra), ['default'])).toBeUndefined();
  });

  it.each([
    ['endpoint_url', '[default]\nendpoint_url = https://example.com\n'],
    ['a services section', '[profile default]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:1\n'],
    ['use_fips_endpoint', '[default]\nuse_fips_endpoint = true\n'],
    ['sts_regional_endpoints', '[default]\nsts_regional_endpoints = legacy\n'],
    ['max_attempts', '[default]\nmax_attempts = 1\n'],
  ])('left to the SDK: the profile sets %s', (_what, config) => {
    expect(stsEndpoint('eu-west-1', env({}, { config }), ['default'])).toBeUndefined();
  });

  it('reads every profile it is given (the chain profile and the STS client profile)', () => {
    const e = env({}, { config: '[profile ops]\nendpoint_url = https://example.com\n' });
    expect(stsEndpoint('eu-west-1', e, ['default'])).toBeDefined();
    expect(stsEndpoint('eu-west-1', e, ['default', 'ops'])).toBeUndefined();
  });
});
