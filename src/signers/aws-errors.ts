import { CredentialError, ProxyError, UpstreamHttpError } from '../errors.js';

/**
 * What an AWS front door (API Gateway, Lambda function URL, AgentCore) meant by a 401/403,
 * as far as the SigV4 signer can act on it (README "Reading the error messages").
 */
export type AwsAuthErrorKind =
  | 'clock-skew'
  | 'expired-token'
  | 'invalid-token'
  | 'signature-mismatch'
  | 'missing-auth'
  | 'access-denied';

export interface AwsErrorResponse {
  readonly status: number;
  /** Lower-cased names, as the attempt loop records them. */
  readonly headers: Readonly<Record<string, string>>;
  /** Start of the body: read for classification only, never copied into a message. */
  readonly bodyText: string;
}

interface Rule {
  readonly kind: AwsAuthErrorKind;
  /** Error codes as sent in `x-amzn-ErrorType`, a JSON `__type`/`code` or an XML `<Code>`. */
  readonly types: readonly string[];
  readonly message: RegExp;
}

/**
 * Messages are matched before types because one type can mean two things: API Gateway
 * reports both clock skew ("Signature expired: … is now earlier than …") and a wrong
 * signature as `InvalidSignatureException`.
 */
const RULES: readonly Rule[] = [
  {
    kind: 'clock-skew',
    types: ['RequestTimeTooSkewed', 'RequestExpired', 'RequestInTheFuture'],
    message: /signature expired|signature not yet current|difference between the request time and the current time is too large/i,
  },
  {
    kind: 'expired-token',
    types: ['ExpiredToken', 'ExpiredTokenException'],
    message: /security token included in the request is expired|\btoken has expired/i,
  },
  {
    kind: 'invalid-token',
    types: ['UnrecognizedClientException', 'InvalidClientTokenId'],
    message: /security token included in the request is invalid|access key id you provided does not exist/i,
  },
  {
    kind: 'signature-mismatch',
    // IncompleteSignatureException: the Authorization header was malformed (a signing bug,
    // or a non-SigV4 Authorization reached an IAM route).
    types: ['SignatureDoesNotMatch', 'InvalidSignatureException', 'IncompleteSignatureException'],
    message: /signature we calculated does not match/i,
  },
  {
    kind: 'missing-auth',
    types: ['MissingAuthenticationTokenException', 'MissingAuthenticationToken'],
    message: /missing authentication token/i,
  },
  {
    kind: 'access-denied',
    types: ['AccessDeniedException', 'AccessDenied'],
    message: /is not authorized to perform|explicit deny/i,
  },
];

/** Classifies an AWS auth failure; undefined when nothing marks it as one. */
export function classifyAwsAuthError(res: AwsErrorResponse): AwsAuthErrorKind | undefined {
  const { type, message } = describe(res);
  if (message !== undefined) {
    const byMessage = RULES.find((rule) => rule.message.test(message));
    if (byMessage) return byMessage.kind;
  }
  if (type !== undefined) return RULES.find((rule) => rule.types.includes(type))?.kind;
  return undefined;
}

/**
 * Server time minus local time from the response `Date` header, as the AWS SDKs compute
 * it (`getUpdatedSystemClockOffset`). Undefined without a usable Date, or when an `Age`
 * header says a cache answered and the Date is not the server's "now".
 */
export function serverClockOffset(headers: Readonly<Record<string, string>>, now: number): number | undefined {
  if (headers.age !== undefined || headers.date === undefined) return undefined;
  const serverTime = Date.parse(headers.date);
  return Number.isNaN(serverTime) ? undefined : serverTime - now;
}

function describe(res: AwsErrorResponse): { type: string | undefined; message: string | undefined } {
  // "UnrecognizedClientException:http://internal.amazon.com/coral/…" → the part before ':'.
  let type = res.headers['x-amzn-errortype']?.split(':')[0]?.trim() || undefined;
  let message: string | undefined;
  const body = res.bodyText.trim();
  if (body.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(body);
      if (json !== null && typeof json === 'object') {
        const fields = json as Record<string, unknown>;
        message = firstString(fields.message, fields.Message, fields.errorMessage);
        // AWS JSON protocols: "__type": "com.amazon.coral.service#UnrecognizedClientException".
        type ??= firstString(fields.__type, fields.code, fields.Code)?.split('#').pop();
      }
    } catch {
      // A truncated or non-JSON body: classify by the header alone.
    }
  } else if (body.startsWith('<')) {
    // Query/REST-XML protocols (STS, S3): <Error><Code>…</Code><Message>…</Message></Error>.
    message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
    type ??= /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  }
  return { type, message };
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string');
}

export interface AwsAuthErrorContext {
  readonly status: number;
  readonly service: string;
  readonly region: string;
  /** Where the rejected credentials came from (env keys, a profile, SSO …), when known. */
  readonly credentials?: { readonly label: string; readonly renew: string } | undefined;
  /** The correction learned from the server's Date header, when one was. */
  readonly clockOffsetMs?: number;
}

/** IAM actions that allow invoking each endpoint type, by signing name. */
const INVOKE_ACTIONS: Readonly<Record<string, string>> = {
  'execute-api': 'execute-api:Invoke',
  lambda: 'lambda:InvokeFunctionUrl',
  'bedrock-agentcore': 'bedrock-agentcore:InvokeAgentRuntime',
};

/**
 * The client-visible error for a classified failure. Only our own settings and the
 * status go into the text: never the response body (API Gateway echoes the canonical
 * request there), header values or credentials: the client's errors end up in the model's context.
 */
export function awsAuthError(kind: AwsAuthErrorKind, ctx: AwsAuthErrorContext): ProxyError {
  const httpStatus = ctx.status;
  const from = ctx.credentials === undefined ? '' : ` from the ${ctx.credentials.label}`;
  switch (kind) {
    case 'missing-auth':
      return new UpstreamHttpError('ESP_AWS_MISSING_AUTH', `the AWS endpoint answered HTTP ${httpStatus} "Missing Authentication Token": it accepted no SigV4 signature for this route`, {
        httpStatus,
        hint: 'check the URL path and stage (API Gateway gives this answer for unknown routes and methods too) and that the route uses IAM (AWS_IAM) authorization',
      });
    case 'expired-token':
      return new CredentialError('ESP_AWS_EXPIRED_TOKEN', `AWS rejected the session token${from} as expired (HTTP ${httpStatus}), also after refreshing the credentials`, {
        httpStatus,
        hint: ctx.credentials?.renew ?? 'renew the credentials (for SSO: aws sso login --profile <profile>) or whatever supplies AWS_SESSION_TOKEN',
      });
    case 'invalid-token':
      return new CredentialError('ESP_AWS_INVALID_TOKEN', `AWS did not recognise the access key or session token${from} (HTTP ${httpStatus})`, {
        httpStatus,
        hint: `check that the credentials are current and complete (temporary ASIA… keys need their session token) and belong to the partition of the endpoint${ctx.credentials === undefined ? '' : `; to renew them: ${ctx.credentials.renew}`}`,
      });
    case 'signature-mismatch':
      return new UpstreamHttpError('ESP_AWS_SIGNATURE_MISMATCH', `AWS computed a different SigV4 signature (HTTP ${httpStatus}) for service "${ctx.service}" in region "${ctx.region}"${ctx.credentials === undefined ? '' : `, signed with credentials from the ${ctx.credentials.label}`}`, {
        httpStatus,
        hint: 'check that --service and --region match the endpoint (execute-api, lambda, bedrock-agentcore …), that the secret key belongs to the access key, and that the system clock is right',
      });
    case 'access-denied': {
      const action = INVOKE_ACTIONS[ctx.service] ?? 'execute-api:Invoke, lambda:InvokeFunctionUrl or bedrock-agentcore:InvokeAgentRuntime';
      return new CredentialError('ESP_AWS_ACCESS_DENIED', `the AWS principal${ctx.credentials === undefined ? '' : ` behind the ${ctx.credentials.label}`} is not allowed to invoke this endpoint (HTTP ${httpStatus})`, {
        httpStatus,
        hint: `attach an IAM policy allowing ${action} on the resource to the role or user behind the credentials`,
      });
    }
    case 'clock-skew': {
      const offset = ctx.clockOffsetMs === undefined ? '' : `; the server clock is ${formatOffset(ctx.clockOffsetMs)} this machine's`;
      return new UpstreamHttpError('ESP_AWS_CLOCK_SKEW', `AWS rejected the request time as outside its allowed window (HTTP ${httpStatus})${offset}`, {
        httpStatus,
        hint: 'synchronise the system clock (NTP); API Gateway allows 5 minutes of skew, most AWS services 15',
      });
    }
  }
}

function formatOffset(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  return `${seconds} s ${ms < 0 ? 'behind' : 'ahead of'}`;
}
