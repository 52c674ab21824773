import { describe, expect, it } from 'vitest';
import { classifyCredentialError } from '../../src/credentials/credential-errors.js';
import { assumeRole, type AssumeRoleOptions } from '../../src/credentials/sts-assume-role.js';
import type { StsResponse } from '../../src/credentials/sts-http.js';
import { CredentialError } from '../../src/errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/r';
const PARAMS = { RoleArn: ROLE, RoleSessionName: 'session', DurationSeconds: 900 };
const OK = `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s&amp;cret&#43;1</SecretAccessKey>` +
  `<SessionToken>tok&#x2F;en</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`;
const error = (code: string, message: string): string => `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`;

function options(answers: Array<StsResponse | Error>, over: Partial<AssumeRoleOptions> = {}): AssumeRoleOptions & { sent: Array<{ headers: Record<string, string>; body: string }> } {
  const sent: Array<{ headers: Record<string, string>; body: string }> = [];
  return {
    sent,
    endpoint: new URL('https://sts.eu-west-1.amazonaws.com/'),
    region: 'eu-west-1',
    credentials: async () => ({ accessKeyId: 'AKIDSOURCE', secretAccessKey: 'secret', sessionToken: 'source-token' }),
    post: async (_url, headers, body) => {
      sent.push({ headers: { ...headers }, body });
      const next = answers.shift();
      if (next === undefined) throw new Error('no more answers');
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async () => undefined,
    ...over,
  };
}

const network = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

describe('STS AssumeRole as a signed Query API call', () => {
  it('sends the form and the SigV4 headers for service sts, and reads the credentials (XML entities decoded)', async () => {
    const o = options([{ status: 200, body: OK }]);
    const creds = await assumeRole({ ...PARAMS, ExternalId: 'ext/1' }, o);
    expect(creds).toEqual({ accessKeyId: 'ASIAX', secretAccessKey: 's&cret+1', sessionToken: 'tok/en', expiration: new Date('2030-01-01T00:00:00Z') });
    const [req] = o.sent;
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 'session', DurationSeconds: '900', ExternalId: 'ext/1' });
    expect(req!.headers).toMatchObject({ host: 'sts.eu-west-1.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded', 'x-amz-security-token': 'source-token' });
    expect(req!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSOURCE\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  });

  it('no ExternalId parameter when none is configured', async () => {
    const o = options([{ status: 200, body: OK }]);
    await assumeRole(PARAMS, o);
    expect(o.sent[0]!.body).not.toContain('ExternalId');
  });

  it.each([
    ['AccessDenied', 403, 'ESP_AWS_ASSUME_ROLE_DENIED'],
    ['ExpiredToken', 400, 'ESP_AWS_SOURCE_EXPIRED'],
    ['InvalidClientTokenId', 403, 'ESP_AWS_SOURCE_INVALID'],
    ['SignatureDoesNotMatch', 403, 'ESP_AWS_SOURCE_INVALID'],
    ['RegionDisabledException', 403, 'ESP_AWS_CREDENTIALS'],
  ])('an STS %s error is raised as the SDK raises it (name = Code), classified as before', async (code, status, ours) => {
    const err = await assumeRole(PARAMS, options([{ status, body: error(code, 'User: arn:aws:iam::1:user/x is not authorized') }])).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: code, message: 'User: arn:aws:iam::1:user/x is not authorized' });
    const classified = classifyCredentialError(err, { profile: 'default', profileNamed: false, assumeRole: { roleArn: ROLE, hasExternalId: false } });
    expect(classified.code).toBe(ours);
  });

  it('throttling and 5xx are retried with backoff, up to 3 attempts', async () => {
    const o = options([{ status: 400, body: error('Throttling', 'Rate exceeded') }, { status: 503, body: '' }, { status: 200, body: OK }]);
    expect((await assumeRole(PARAMS, o)).accessKeyId).toBe('ASIAX');
    expect(o.sent).toHaveLength(3);
    const exhausted = options([{ status: 500, body: '' }, { status: 500, body: '' }, { status: 500, body: '' }, { status: 200, body: OK }]);
    await expect(assumeRole(PARAMS, exhausted)).rejects.toMatchObject({ name: 'UnknownError' });
    expect(exhausted.sent).toHaveLength(3);
  });

  it('network errors are retried, then raised with their code (ECONNREFUSED → unreachable)', async () => {
    const o = options([network('ECONNRESET'), { status: 200, body: OK }]);
    expect((await assumeRole(PARAMS, o)).accessKeyId).toBe('ASIAX');
    const err = await assumeRole(PARAMS, options([network('ECONNREFUSED')], { maxAttempts: 1 })).catch((e: unknown) => e);
    expect(classifyCredentialError(err, { profile: 'default', profileNamed: false }).code).toBe('ESP_AWS_CREDENTIALS_UNREACHABLE');
  });

  it('a denial is final, and so is a failure of the source credentials', async () => {
    const o = options([{ status: 403, body: error('AccessDenied', 'no') }, { status: 200, body: OK }]);
    await expect(assumeRole(PARAMS, o)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(o.sent).toHaveLength(1);
    const sourceFailure = new CredentialError('ESP_AWS_NO_CREDENTIALS', 'no AWS credentials found');
    await expect(assumeRole(PARAMS, options([], { credentials: async () => Promise.reject(sourceFailure) }))).rejects.toBe(sourceFailure);
  });

  it('an answer of unclosed <Credentials> openings is an invalid response; the first closed block is read', async () => {
    const unclosed = `<AssumeRoleResponse>${'<Credentials>'.repeat(10_000)}`;
    await expect(assumeRole(PARAMS, options([{ status: 200, body: unclosed }]))).rejects.toMatchObject({ name: 'CredentialsProviderError' });
    const junkFirst = `<AssumeRoleResponse><Credentials><Credentials>${OK.slice(OK.indexOf('<AccessKeyId>'))}<Credentials>`;
    await expect(assumeRole(PARAMS, options([{ status: 200, body: junkFirst }]))).resolves.toMatchObject({ accessKeyId: 'ASIAX', secretAccessKey: 's&cret+1', sessionToken: 'tok/en' });
  });

  it('a 200 without credentials is an invalid response', async () => {
    await expect(assumeRole(PARAMS, options([{ status: 200, body: '<AssumeRoleResponse/>' }]))).rejects.toMatchObject({ name: 'CredentialsProviderError', message: `Invalid response from STS.assumeRole call with role ${ROLE}` });
  });
});
