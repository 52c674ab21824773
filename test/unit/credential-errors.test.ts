import { describe, expect, it } from 'vitest';
import { AWS_CREDENTIAL_ERROR_CODES as CODES, classifyCredentialError, credentialOrigin, type CredentialErrorContext } from '../../src/credentials/credential-errors.js';
import { CredentialError, toJsonRpcError } from '../../src/errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/mcp-finance-bot';
const CANARY = 'CANARYSECRET-9f2c';

/** Shapes as the SDK throws them (observed against the fake STS and a fake ~/.aws). */
function providerError(message: string): Error {
  return Object.assign(new Error(message), { name: 'CredentialsProviderError', tryNextLink: false });
}
function stsError(name: string, message: string, status = 403): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

const plain: CredentialErrorContext = { profile: 'default', profileNamed: false };
const dev: CredentialErrorContext = { profile: 'dev', profileNamed: true, profileDefined: true };
const withRole = (hasExternalId: boolean): CredentialErrorContext => ({ ...dev, assumeRole: { roleArn: ROLE, hasExternalId } });

/** Everything the client or the log could see of the classified error. */
function visible(e: CredentialError): string {
  return `${e.message} ${e.hint ?? ''} ${JSON.stringify(toJsonRpcError(e))}`;
}

describe('classifyCredentialError', () => {
  describe('expired SSO session (every SDK wording)', () => {
    const wordings = [
      "Value not present for 'clientId' in SSO Token. Cannot refresh. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
      "Token is expired. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
      'The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login with the corresponding profile.',
      'The SSO session associated with this profile is invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
    ];
    it.each(wordings)('%s', (message) => {
      const e = classifyCredentialError(providerError(message), dev);
      expect(e.code).toBe(CODES.ssoExpired);
      expect(e.hint).toBe('run: aws sso login --profile dev');
      expect(toJsonRpcError(e).message).toContain('run: aws sso login --profile dev');
    });

    it('uses "default" when no profile was named', () => {
      expect(classifyCredentialError(providerError(wordings[1]!), plain).hint).toBe('run: aws sso login --profile default');
    });

    it('needs a provider error: the same words from elsewhere are not an SSO problem', () => {
      expect(classifyCredentialError(new Error(wordings[1]), dev).code).not.toBe(CODES.ssoExpired);
    });
  });

  describe('AccessDenied on AssumeRole', () => {
    const denied = stsError('AccessDenied', `User: arn:aws:sts::1:assumed-role/x/${CANARY} is not authorized to perform: sts:AssumeRole`);

    it('names the role and the trust-policy fix', () => {
      const e = classifyCredentialError(denied, withRole(false));
      expect(e.code).toBe(CODES.assumeRoleDenied);
      expect(e.message).toContain(ROLE);
      expect(e.hint).toContain(`trust policy must allow the caller (profile "dev") to sts:AssumeRole on ${ROLE}`);
      expect(e.hint).not.toContain('ExternalId');
    });

    it('mentions the ExternalId only when one is configured', () => {
      expect(classifyCredentialError(denied, withRole(true)).hint).toContain('sts:ExternalId condition must match');
    });

    it('from a role_arn profile (no --role-arn) points at the profile', () => {
      const e = classifyCredentialError(denied, dev);
      expect(e.code).toBe(CODES.assumeRoleDenied);
      expect(e.message).toContain('role_arn of profile "dev"');
    });

    it('does not repeat the STS message', () => {
      expect(visible(classifyCredentialError(denied, withRole(true)))).not.toContain(CANARY);
    });
  });

  describe('source credentials rejected by STS', () => {
    it.each(['ExpiredToken', 'ExpiredTokenException'])('%s → refresh / re-login', (name) => {
      const e = classifyCredentialError(stsError(name, 'The security token included in the request is expired', 400), withRole(false));
      expect(e.code).toBe(CODES.sourceExpired);
      expect(e.message).toContain(`used to assume ${ROLE}`);
      expect(e.hint).toContain('aws sso login --profile dev');
      expect(e.hint).toContain('AWS_SESSION_TOKEN');
    });

    it.each(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException'])('%s → invalid source', (name) => {
      const e = classifyCredentialError(stsError(name, 'The security token included in the request is invalid.'), withRole(false));
      expect(e.code).toBe(CODES.sourceInvalid);
      expect(e.hint).toContain('refresh them');
    });
  });

  describe('naming the source the credentials came from', () => {
    const invalid = stsError('SignatureDoesNotMatch', 'The request signature we calculated does not match');
    const fromEnv: CredentialErrorContext = { ...plain, assumeRole: { roleArn: ROLE, hasExternalId: false }, source: credentialOrigin('env', 'default') };

    it('environment keys, not profile "default"', () => {
      const e = classifyCredentialError(invalid, fromEnv);
      expect(e.message).toBe(`the source credentials (environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) used to assume ${ROLE} were rejected by STS (SignatureDoesNotMatch)`);
      expect(e.hint).not.toContain('sso');
      expect(e.hint).toContain('AWS_SECRET_ACCESS_KEY');
    });

    it.each([
      ['profile', 'static keys of profile "dev"', 'aws configure --profile dev'],
      ['sso', 'SSO session of profile "dev"', 'aws sso login --profile dev'],
      ['credential-process', 'credential_process of profile "dev"', 'credential_process command of profile "dev"'],
      ['profile-role', 'role_arn of profile "dev"', 'source_profile'],
      ['web-identity', 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_WEB_IDENTITY_TOKEN_FILE'],
      ['container', 'container credentials', 'task or pod role'],
      ['imds', 'EC2 instance metadata', 'instance profile'],
    ])('%s', (kind, label, renew) => {
      const e = classifyCredentialError(stsError('ExpiredToken', 'expired', 400), { ...withRole(false), source: credentialOrigin(kind, 'dev') });
      expect(e.message).toContain(`the source credentials (${label}`);
      expect(e.hint).toContain(renew);
    });

    it('AccessDenied on the role names the caller by source', () => {
      const e = classifyCredentialError(stsError('AccessDenied', 'no'), fromEnv);
      expect(e.hint).toContain('allow the caller (environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) to sts:AssumeRole');
    });
  });

  describe('credential_process, from what the chain reported on its way', () => {
    const none = providerError('Could not load credentials from any providers');
    const note = (m: string) => `@smithy/property-provider -> ${m}`;

    it('expired credentials', () => {
      const e = classifyCredentialError(none, { ...dev, providerNotes: [note('AWS_PROFILE is set, skipping fromEnv provider.'), note('Profile dev credential_process returned expired credentials.')] });
      expect(e.code).toBe(CODES.processExpired);
      expect(e.message).toBe('the credential_process of profile "dev" returned expired credentials (its Expiration is in the past)');
      expect(e.message.length + (e.hint ?? '').length).toBeLessThan(400);
    });

    it.each(['did not return Version 1.', 'returned invalid JSON.', 'returned invalid credentials.'])('unusable output: %s', (tail) => {
      const e = classifyCredentialError(none, { ...dev, providerNotes: [note(`Profile dev credential_process ${tail}`)] });
      expect(e.code).toBe(CODES.processFailed);
      expect(e.message).toContain('printed no usable credentials');
    });

    it('a failing command, without repeating its output', () => {
      const e = classifyCredentialError(none, { ...dev, providerNotes: [note(`Command failed: get-creds --token ${CANARY}\n${CANARY} on stderr`)] });
      expect(e.code).toBe(CODES.processFailed);
      expect(visible(e)).not.toContain(CANARY);
    });

    it('no such note: still "no credentials"', () => {
      expect(classifyCredentialError(none, { ...dev, providerNotes: [note('Profile dev did not contain credential_process.')] }).code).toBe(CODES.noCredentials);
    });
  });

  describe('MFA', () => {
    it('fromIni mfa_serial wording', () => {
      const e = classifyCredentialError(providerError('Profile dev requires multi-factor authentication, but no MFA code callback was provided.'), dev);
      expect(e.code).toBe(CODES.mfaRequired);
      expect(e.message).toContain('profile "dev"');
      expect(e.hint).toMatch(/not supported non-interactively/);
      expect(e.hint).toContain('credential_process');
    });

    it('fromTemporaryCredentials SerialNumber wording names the role', () => {
      const e = classifyCredentialError(providerError('Temporary credential requires multi-factor authentication, but no MFA code callback was provided.'), withRole(false));
      expect(e.code).toBe(CODES.mfaRequired);
      expect(e.message).toContain(ROLE);
    });
  });

  describe('nothing found by the chain', () => {
    const none = providerError('Could not load credentials from any providers');

    it('lists every source tried and the fix', () => {
      const e = classifyCredentialError(none, plain);
      expect(e.code).toBe(CODES.noCredentials);
      for (const s of ['AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', '~/.aws/config', 'SSO', 'credential_process', 'web identity', 'container', 'IMDS']) {
        expect(e.message).toContain(s);
      }
      expect(e.message).not.toContain('skipped');
      expect(e.hint).toContain('aws sso login --profile default');
      expect(e.hint).toContain('"env" block');
    });

    it('says the env keys were skipped when a profile is named', () => {
      expect(classifyCredentialError(none, dev).message).toContain('(skipped: profile "dev" is set)');
    });

    it('a named profile missing from both files is an unknown profile', () => {
      const e = classifyCredentialError(none, { ...dev, profileDefined: false });
      expect(e.code).toBe(CODES.unknownProfile);
      expect(e.message).toContain('"dev"');
      expect(e.hint).toContain('AWS_CONFIG_FILE');
    });

    it('"default" missing is no credentials, not an unknown profile', () => {
      expect(classifyCredentialError(none, { ...plain, profileDefined: false }).code).toBe(CODES.noCredentials);
    });

    it('an unchecked profile (profileDefined undefined) is no credentials', () => {
      expect(classifyCredentialError(none, { ...dev, profileDefined: undefined }).code).toBe(CODES.noCredentials);
    });
  });

  it('network failures name the errno only', () => {
    const err = Object.assign(new Error(`connect ECONNREFUSED 10.0.0.1:443 ${CANARY}`), { code: 'ECONNREFUSED' });
    const e = classifyCredentialError(err, withRole(false));
    expect(e.code).toBe(CODES.unreachable);
    expect(e.message).toContain('ECONNREFUSED');
    expect(visible(e)).not.toContain(CANARY);
  });

  describe('anything else', () => {
    it('keeps only a safe error name and points at a way to see the details', () => {
      const e = classifyCredentialError(stsError('RegionDisabledException', `account ${CANARY}`), withRole(false));
      expect(e.code).toBe(CODES.other);
      expect(e.message).toContain('(RegionDisabledException)');
      expect(e.message).toContain(ROLE);
      expect(e.hint).toContain('aws sts get-caller-identity --profile dev');
      expect(visible(e)).not.toContain(CANARY);
    });

    it('drops a name that is not identifier-like', () => {
      const err = Object.assign(new Error('x'), { name: `secret ${CANARY}` });
      const e = classifyCredentialError(err, plain);
      expect(e.message).toContain('(error)');
      expect(visible(e)).not.toContain(CANARY);
    });

    it('credential_process output inside an SDK message never reaches ours', () => {
      const e = classifyCredentialError(providerError(`Command failed: get-creds --token ${CANARY}\n${CANARY} on stderr`), dev);
      expect(visible(e)).not.toContain(CANARY);
    });

    it.each([undefined, null, 'a string', 42])('non-Error value %s', (v) => {
      expect(classifyCredentialError(v, plain).code).toBe(CODES.other);
    });
  });

  it('passes our own CredentialError through unchanged', () => {
    const ours = new CredentialError('ESP_CREDENTIALS_EXPIRED', 'already expired');
    expect(classifyCredentialError(ours, plain)).toBe(ours);
  });

  it('codes are distinct', () => {
    expect(new Set(Object.values(CODES)).size).toBe(Object.values(CODES).length);
  });
});
