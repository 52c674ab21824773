import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ssoSessionExpiry } from '../../src/check/sso-session.js';
import { jwtClaims } from '../../src/signers/jwt-claims.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('jwtClaims', () => {
  it('reads iss, aud, sub, scope and exp of a JWT', () => {
    const c = jwtClaims(`${b64({ alg: 'RS256' })}.${b64({ iss: 'https://as.example', aud: ['a', 'b'], sub: 'svc', scp: 'x y', exp: 1_900_000_000 })}.sig`);
    expect(c).toEqual({ iss: 'https://as.example', aud: ['a', 'b'], sub: 'svc', scope: 'x y', exp: new Date(1_900_000_000_000) });
  });

  it('an opaque token, a broken payload or an array payload is not a JWT', () => {
    expect(jwtClaims('opaque-token-value')).toBeUndefined();
    expect(jwtClaims('a.!!!.c')).toBeUndefined();
    expect(jwtClaims(`x.${b64([1])}.y`)).toBeUndefined();
  });

  it('keeps only short printable strings from the payload', () => {
    const c = jwtClaims(`x.${b64({ iss: 'line\nbreak', aud: 'z'.repeat(400), exp: 'soon' })}.y`);
    expect(c).toEqual({ iss: undefined, aud: undefined, sub: undefined, scope: undefined, exp: undefined });
  });
});

describe('ssoSessionExpiry', () => {
  function home(config: string, cacheKey?: string, cache?: object): NodeJS.ProcessEnv {
    const dir = mkdtempSync(join(tmpdir(), 'msp-sso-'));
    writeFileSync(join(dir, 'config'), config);
    if (cacheKey !== undefined) {
      mkdirSync(join(dir, '.aws', 'sso', 'cache'), { recursive: true });
      writeFileSync(join(dir, '.aws', 'sso', 'cache', `${createHash('sha1').update(cacheKey).digest('hex')}.json`), JSON.stringify(cache));
    }
    return { HOME: dir, AWS_CONFIG_FILE: join(dir, 'config') };
  }

  it('an sso-session profile: the cache file named by the session name', async () => {
    const env = home('[profile dev]\nsso_session = corp\nsso_account_id = 1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n', 'corp', { accessToken: 'CANARY', expiresAt: '2026-12-02T10:00:00Z' });
    expect(await ssoSessionExpiry('dev', env)).toEqual(new Date('2026-12-02T10:00:00Z'));
  });

  it('a legacy profile: the cache file named by the start URL', async () => {
    const env = home('[default]\nsso_start_url = https://legacy.awsapps.com/start\n', 'https://legacy.awsapps.com/start', { expiresAt: '2026-12-03T00:00:00Z' });
    expect(await ssoSessionExpiry('default', env)).toEqual(new Date('2026-12-03T00:00:00Z'));
  });

  it('no SSO settings, or no cache: unknown', async () => {
    expect(await ssoSessionExpiry('dev', home('[profile dev]\nregion = eu-west-1\n'))).toBeUndefined();
    expect(await ssoSessionExpiry('dev', home('[profile dev]\nsso_session = corp\n'))).toBeUndefined();
  });
});
