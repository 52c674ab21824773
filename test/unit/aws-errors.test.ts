import { describe, expect, it } from 'vitest';
import { CredentialError, ProxyError, toJsonRpcError, UpstreamHttpError } from '../../src/errors.js';
import { awsAuthError, classifyAwsAuthError, serverClockOffset, type AwsAuthErrorKind, type AwsErrorResponse } from '../../src/signers/aws-errors.js';

function json(type: string | undefined, message: string, status = 403): AwsErrorResponse {
  return { status, headers: type === undefined ? {} : { 'x-amzn-errortype': type }, bodyText: JSON.stringify({ message }) };
}

describe('classifyAwsAuthError', () => {
  // Bodies as AWS front doors send them.
  const cases: Array<[string, AwsErrorResponse, AwsAuthErrorKind | undefined]> = [
    ['API Gateway, signature expired', json('InvalidSignatureException', 'Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T002000Z - 5 min.)'), 'clock-skew'],
    ['API Gateway, signature not yet current', json('InvalidSignatureException', 'Signature not yet current: 20240101T003000Z is still later than 20240101T002500Z (20240101T002000Z + 5 min.)'), 'clock-skew'],
    ['RequestTimeTooSkewed (XML)', { status: 403, headers: {}, bodyText: '<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>' }, 'clock-skew'],
    ['RequestExpired by type', json('RequestExpired', 'Request has expired.'), 'clock-skew'],
    ['RequestInTheFuture by type', json('RequestInTheFuture', 'Request is in the future.'), 'clock-skew'],
    ['API Gateway, expired token', json('ExpiredTokenException', 'The security token included in the request is expired'), 'expired-token'],
    ['expired token by message only', json(undefined, 'The security token included in the request is expired'), 'expired-token'],
    ['STS-style ExpiredToken (XML)', { status: 403, headers: {}, bodyText: '<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error></ErrorResponse>' }, 'expired-token'],
    ['invalid token with the coral suffix', json('UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/', 'The security token included in the request is invalid.'), 'invalid-token'],
    ['invalid token as a JSON __type', { status: 403, headers: {}, bodyText: '{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"x"}' }, 'invalid-token'],
    ['InvalidClientTokenId by type', json('InvalidClientTokenId', 'x'), 'invalid-token'],
    ['signature mismatch, API Gateway', json('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.'), 'signature-mismatch'],
    ['signature mismatch inside AccessDeniedException (Neptune)', json('AccessDeniedException', 'The request signature we calculated does not match the signature you provided.'), 'signature-mismatch'],
    ['SignatureDoesNotMatch (XML)', { status: 403, headers: {}, bodyText: '<Error><Code>SignatureDoesNotMatch</Code><Message>…</Message></Error>' }, 'signature-mismatch'],
    ['IncompleteSignatureException', json('IncompleteSignatureException', "Authorization header requires 'Credential' parameter."), 'signature-mismatch'],
    ['missing authentication token', json('MissingAuthenticationTokenException', 'Missing Authentication Token'), 'missing-auth'],
    ['missing authentication token by message only', json(undefined, 'Missing Authentication Token'), 'missing-auth'],
    ['not authorized to invoke', json('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/mcp'), 'access-denied'],
    ['explicit deny', json(undefined, 'User: x is not authorized to access this resource with an explicit deny'), 'access-denied'],
    ['Lambda function URL "Forbidden"', { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, bodyText: '{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}' }, 'access-denied'],
    ['a non-AWS 401', { status: 401, headers: { 'www-authenticate': 'Bearer' }, bodyText: 'Unauthorized' }, undefined],
    ['a truncated JSON body', { status: 403, headers: {}, bodyText: '{"message":"Missing Authen' }, undefined],
    ['an unknown error type', json('SomethingElseException', 'nope'), undefined],
  ];

  it.each(cases)('%s', (_name, response, kind) => {
    expect(classifyAwsAuthError(response)).toBe(kind);
  });
});

describe('serverClockOffset', () => {
  const now = Date.parse('2024-01-01T00:20:00Z');

  it('is server time minus local time', () => {
    expect(serverClockOffset({ date: 'Mon, 01 Jan 2024 00:00:00 GMT' }, now)).toBe(-20 * 60_000);
  });

  it('ignores cached answers, missing and unparsable dates', () => {
    expect(serverClockOffset({ date: 'Mon, 01 Jan 2024 00:00:00 GMT', age: '30' }, now)).toBeUndefined();
    expect(serverClockOffset({}, now)).toBeUndefined();
    expect(serverClockOffset({ date: 'yesterday' }, now)).toBeUndefined();
  });
});

describe('awsAuthError', () => {
  const ctx = { status: 403, service: 'execute-api', region: 'eu-west-1' };
  const expectations: Array<[AwsAuthErrorKind, string, typeof ProxyError, RegExp]> = [
    ['missing-auth', 'ESP_AWS_MISSING_AUTH', UpstreamHttpError, /path and stage.*IAM/],
    ['expired-token', 'ESP_AWS_EXPIRED_TOKEN', CredentialError, /aws sso login/],
    ['invalid-token', 'ESP_AWS_INVALID_TOKEN', CredentialError, /session token/],
    ['signature-mismatch', 'ESP_AWS_SIGNATURE_MISMATCH', UpstreamHttpError, /--service and --region.*clock/],
    ['access-denied', 'ESP_AWS_ACCESS_DENIED', CredentialError, /execute-api:Invoke/],
    ['clock-skew', 'ESP_AWS_CLOCK_SKEW', UpstreamHttpError, /clock/],
  ];

  it.each(expectations)('%s → %s', (kind, code, type, hint) => {
    const err = awsAuthError(kind, ctx);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ code, httpStatus: 403 });
    expect(err.hint).toMatch(hint);
  });

  it('gives every kind its own code', () => {
    const codes = expectations.map(([kind]) => awsAuthError(kind, ctx).code);
    expect(new Set(codes).size).toBe(expectations.length);
  });

  it('names the configured service and region on a signature mismatch', () => {
    expect(awsAuthError('signature-mismatch', ctx).message).toContain('"execute-api" in region "eu-west-1"');
  });

  it.each([
    ['lambda', 'lambda:InvokeFunctionUrl'],
    ['bedrock-agentcore', 'bedrock-agentcore:InvokeAgentRuntime'],
    ['aws-mcp', 'execute-api:Invoke, lambda:InvokeFunctionUrl or bedrock-agentcore:InvokeAgentRuntime'],
  ])('access denied on %s names %s', (service, action) => {
    expect(awsAuthError('access-denied', { ...ctx, service }).hint).toContain(action);
  });

  describe('with the origin of the rejected credentials', () => {
    const env = { label: 'environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY', renew: 'update AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY' };
    const named = { ...ctx, credentials: env };
    it.each([
      ['expired-token', `session token from the ${env.label} as expired`],
      ['invalid-token', `session token from the ${env.label} (HTTP 403)`],
      ['signature-mismatch', `signed with credentials from the ${env.label}`],
      ['access-denied', `the AWS principal behind the ${env.label} is not allowed`],
    ] as const)('%s names it', (kind, text) => {
      expect(awsAuthError(kind, named).message).toContain(text);
    });
    it('an expired token gets the renewal step of its source', () => {
      expect(awsAuthError('expired-token', named).hint).toBe(env.renew);
      expect(awsAuthError('invalid-token', named).hint).toContain(`to renew them: ${env.renew}`);
    });
  });

  it('states the measured clock offset', () => {
    expect(awsAuthError('clock-skew', { ...ctx, clockOffsetMs: -1_200_400 }).message).toMatch(/1200 s behind this machine's/);
  });

  it('carries nothing of the response into what the client sees', () => {
    // The classifier reads the body; the error is built from our own settings only.
    const canary = 'CANARY-canonical-request-AKIDEXAMPLE';
    const response = json('InvalidSignatureException', `The request signature we calculated does not match the signature you provided. ${canary}`);
    const kind = classifyAwsAuthError(response);
    expect(kind).toBe('signature-mismatch');
    const visible = JSON.stringify(toJsonRpcError(awsAuthError(kind as AwsAuthErrorKind, ctx)));
    expect(visible).not.toContain('CANARY');
    expect(visible).not.toContain('AKIDEXAMPLE');
  });
});
