/**
 * The profile's `region` as the last fallback of the signing region, read from real temp
 * AWS files with the AWS SDK's own section and comment rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { profileRegion } from '../../src/config/aws-profile-region.js';
import { normalizeConfig, signerOf } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

let home: string;
let env: Record<string, string>;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'msp-region-'));
  env = { HOME: home, AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const writeConfig = (text: string) => writeFileSync(env.AWS_CONFIG_FILE!, text);
const writeCredentials = (text: string) => writeFileSync(env.AWS_SHARED_CREDENTIALS_FILE!, text);
const region = (profile: string) => profileRegion(profile, env).region;

/** The signing region a custom-domain endpoint gets (nothing in the URL). */
function signingRegion(argv: string[] = [], extra: Record<string, string> = {}): string | undefined {
  return signerOf(normalizeConfig(parseCliArgs(['https://mcp.corp.example/mcp', '--service', 'execute-api', ...argv]), { ...env, ...extra }), 'sigv4')?.region;
}

describe('profile region in the signing-region order', () => {
  beforeEach(() => writeConfig('[default]\nregion = us-west-2\n[profile dev]\nregion = eu-west-1\n'));

  it('AWS_PROFILE selects the profile whose region is used', () => {
    expect(signingRegion([], { AWS_PROFILE: 'dev' })).toBe('eu-west-1');
  });
  it('--profile beats AWS_PROFILE; without either it is the default profile', () => {
    expect(signingRegion(['--profile', 'default'], { AWS_PROFILE: 'dev' })).toBe('us-west-2');
    expect(signingRegion()).toBe('us-west-2');
  });
  it('comes after --region, the URL, AWS_REGION and AWS_DEFAULT_REGION', () => {
    const p = { AWS_PROFILE: 'dev' };
    expect(signingRegion(['--region', 'ap-south-1'], p)).toBe('ap-south-1');
    expect(signingRegion([], { ...p, AWS_REGION: 'ca-central-1' })).toBe('ca-central-1');
    expect(signingRegion([], { ...p, AWS_DEFAULT_REGION: 'sa-east-1' })).toBe('sa-east-1');
    const url = normalizeConfig(parseCliArgs(['https://abc.execute-api.us-east-2.amazonaws.com/prod/mcp']), { ...env, ...p });
    expect(signerOf(url, 'sigv4')?.region).toBe('us-east-2');
  });
  it('~/.aws/config under HOME when AWS_CONFIG_FILE is not set, and "~/" in it is expanded', () => {
    const { AWS_CONFIG_FILE: file, ...rest } = env;
    writeFileSync(join(home, 'alt'), '[profile dev]\nregion = eu-north-1\n');
    expect(profileRegion('dev', { ...rest, AWS_CONFIG_FILE: '~/alt' }).region).toBe('eu-north-1');
    expect(profileRegion('dev', rest).region).toBeUndefined(); // no ~/.aws/config in this HOME
    expect(file).toBeDefined();
  });
  it('no region anywhere: the error names the profile, the file and every way to set it', () => {
    let err: unknown;
    try {
      signingRegion([], { AWS_PROFILE: 'other' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toContain(`cannot tell the AWS region for mcp.corp.example`);
    expect(e.message).toContain(`profile "other" of ${env.AWS_CONFIG_FILE}`);
    expect(e.hint).toMatch(/--region REGION or set AWS_REGION/);
    expect(e.hint).toContain('--profile other');
  });
});

describe('reading the shared files the way the AWS SDK does', () => {
  it('sso_region is the SSO portal, never the signing region', () => {
    writeConfig('[profile sso]\nsso_session = corp\nsso_region = us-east-1\n[sso-session corp]\nsso_region = us-east-1\nregion = us-east-1\n');
    expect(region('sso')).toBeUndefined();
  });
  it('in the config file a bare [NAME] is not a profile; [default] is', () => {
    writeConfig('[dev]\nregion = eu-west-1\n[default]\nregion = us-west-2\n');
    expect(region('dev')).toBeUndefined();
    expect(region('default')).toBe('us-west-2');
  });
  it('[profile default] replaces [default]', () => {
    writeConfig('[profile default]\noutput = json\n[default]\nregion = us-west-2\n');
    expect(region('default')).toBeUndefined();
    writeConfig('[default]\nregion = us-west-2\n[profile default]\nregion = eu-west-3\n');
    expect(region('default')).toBe('eu-west-3');
  });
  it('comments, blank lines, surrounding whitespace, quoted names, CRLF and repeated sections', () => {
    writeConfig([
      '# a comment',
      '; another',
      '  [profile "dev"]  ',
      '',
      '   region   =   eu-west-1   # trailing comment',
      '[profile other] ; comment after the section',
      'region=ap-northeast-1',
      '[profile dev]',
      'output = json',
    ].join('\r\n'));
    expect(region('dev')).toBe('eu-west-1');
    expect(region('other')).toBe('ap-northeast-1');
  });
  it('a commented-out region is no region; a later one wins', () => {
    writeConfig('[profile dev]\n# region = eu-west-1\n;region = eu-west-2\nregion = eu-west-3\nregion = eu-central-1\n');
    expect(region('dev')).toBe('eu-central-1');
  });
  it('keys and profile names are case-sensitive', () => {
    writeConfig('[profile Dev]\nregion = eu-west-1\n[profile dev]\nRegion = eu-west-2\n');
    expect(region('Dev')).toBe('eu-west-1');
    expect(region('dev')).toBeUndefined();
  });
  it('a region inside a nested sub-section (s3 =, indented) is not the profile region', () => {
    writeConfig('[profile dev]\ns3 =\n  region = us-east-1\n  addressing_style = path\n');
    expect(region('dev')).toBeUndefined();
    writeConfig('[profile dev]\ns3 =\n  region = us-east-1\nregion = eu-west-1\n');
    expect(region('dev')).toBe('eu-west-1');
  });
  it('the credentials file ([NAME] there) is read too and, as in the JS SDK clients, wins', () => {
    writeCredentials('[dev]\nregion = ap-southeast-2\n[profile ops]\nregion = ap-southeast-1\n');
    writeConfig('[profile dev]\nregion = eu-west-1\n[profile ops]\nregion = eu-west-2\n[profile qa]\nregion = eu-west-3\n');
    expect(region('dev')).toBe('ap-southeast-2');
    expect(region('ops')).toBe('eu-west-2'); // "profile ops" is no profile name in the credentials file
    expect(region('qa')).toBe('eu-west-3');
  });
  it('missing or unreadable files count as empty', () => {
    expect(region('default')).toBeUndefined();
    expect(profileRegion('default', { ...env, AWS_CONFIG_FILE: home }).region).toBeUndefined(); // a directory
  });
});
