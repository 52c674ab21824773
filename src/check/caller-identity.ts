import { HttpRequest } from '@smithy/protocol-http';
import type { Config, SigV4Config } from '../config/config.js';
import { CredentialError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CredentialSource } from '../signers/signer.js';
import { createSigV4Signer, type AwsCredentials } from '../signers/sigv4.js';
import { createAwsRequestHandler } from '../tls/aws-request-handler.js';
import { stsEndpoint } from '../credentials/sts-endpoint.js';

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  /** The role name when the ARN is an assumed-role session. */
  readonly assumedRole: string | undefined;
}

/** STS fault codes that mean "these credentials are no good", as opposed to "STS is unreachable". */
const REJECTED = new Set(['ExpiredToken', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'AccessDenied', 'UnrecognizedClientException']);

/** STS answers are a few KiB; anything longer is cut (only Code, Arn and Account are read). */
const MAX_BODY = 64 * 1024;

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]{1,2048})</${name}>`).exec(xml)?.[1];

/**
 * `sts:GetCallerIdentity` (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html),
 * signed by our SigV4 signer with the credentials the proxy signs with and sent through the
 * handler the SDK's STS traffic uses (CA bundle, proxy). Needs no IAM permission: it says
 * who the credentials are, whatever they may do. Undefined when the AWS SDK chooses the STS
 * endpoint (FIPS, dual-stack or configured endpoint settings, a partition other than aws).
 */
export async function getCallerIdentity(config: Config, sigv4: SigV4Config, credentials: CredentialSource<AwsCredentials>, logger: Logger): Promise<CallerIdentity | undefined> {
  const region = sigv4.assumeRole?.stsRegion ?? sigv4.region;
  // The endpoint the proxy's own STS calls use; undefined where the AWS SDK would decide it.
  const url = stsEndpoint(region, process.env, [process.env.AWS_PROFILE || 'default', sigv4.profile ?? 'default']);
  if (url === undefined) return undefined;
  const signer = createSigV4Signer({ service: 'sts', region, credentials });
  const body = new TextEncoder().encode('Action=GetCallerIdentity&Version=2011-06-15');
  const signed = await signer.sign(
    { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
    { now: Date.now, attempt: 1, logger },
  );
  const handler = (await createAwsRequestHandler(config, logger)) ?? new (await import('@smithy/node-http-handler')).NodeHttpHandler({ connectionTimeout: config.network.connectTimeoutMs });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: url.pathname,
    headers: { ...signed.headers, host: url.host },
    body,
  });
  let response;
  try {
    ({ response } = await handler.handle(request, { requestTimeout: config.network.connectTimeoutMs * 3 }));
  } catch (err) {
    handler.destroy();
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.name : 'error');
    throw new CredentialError('ESP_AWS_CALLER_IDENTITY', `STS at ${url.host} cannot be reached (${code})`, { hint: 'check AWS_ENDPOINT_URL_STS, --sts-region and the network path to STS (HTTPS_PROXY, VPC endpoint)' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= MAX_BODY) break;
  }
  handler.destroy();
  const xml = Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
  if (response.statusCode !== 200) {
    const code = tag(xml, 'Code');
    const known = code !== undefined && /^[\w.]{1,64}$/.test(code) ? code : undefined;
    throw new CredentialError('ESP_AWS_CALLER_IDENTITY', `STS GetCallerIdentity at ${url.host} answered HTTP ${response.statusCode}${known === undefined ? '' : ` (${known})`}`, {
      httpStatus: response.statusCode,
      hint: known !== undefined && REJECTED.has(known) ? 'the credentials are not valid (expired or revoked): renew them' : 'check AWS_ENDPOINT_URL_STS and the network path to STS',
    });
  }
  const arn = tag(xml, 'Arn');
  const account = tag(xml, 'Account');
  if (arn === undefined || account === undefined) throw new CredentialError('ESP_AWS_CALLER_IDENTITY', `STS GetCallerIdentity at ${url.host} answered without an identity`, { hint: 'check AWS_ENDPOINT_URL_STS' });
  const assumed = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(arn)?.[1];
  return { account, arn, assumedRole: assumed };
}
