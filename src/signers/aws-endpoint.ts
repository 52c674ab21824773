/**
 * Signing service and region from an AWS endpoint URL (README, "AWS"). Custom domains and
 * hosts of other forms cannot be inferred: the user passes --service/--region.
 */
export interface AwsEndpointGuess {
  service: string;
  region: string;
}

/** One DNS label, as AWS resource ids use them (API ids, URL ids, gateway ids, vpce ids). */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** us-east-1, ap-southeast-1, us-gov-west-1, cn-north-1, eu-isoe-west-1 … */
const REGION = '([a-z]{2}(?:-[a-z]+)+-\\d{1,2})';
const AMAZONAWS = '\\.amazonaws\\.com(?:\\.cn)?';

const RULES: ReadonlyArray<{ re: RegExp; service: string | ((m: RegExpMatchArray) => string) }> = [
  // API Gateway: {api-id}.execute-api.{region}.amazonaws.com; a private API through a VPC
  // endpoint: {api-id}-{vpce-id}.execute-api.{region}.amazonaws.com; dualstack: ….api.aws
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-test-invoke-url.html)
  { re: new RegExp(`^${LABEL}\\.execute-api\\.${REGION}(?:${AMAZONAWS}|\\.api\\.aws)$`), service: 'execute-api' },
  // Lambda function URL: {url-id}.lambda-url.{region}.on.aws
  { re: new RegExp(`^${LABEL}\\.lambda-url\\.${REGION}\\.on\\.aws$`), service: 'lambda' },
  // AgentCore runtime (bedrock-agentcore.{region}…) and gateway ({id}.gateway.bedrock-agentcore.{region}…)
  { re: new RegExp(`^(?:${LABEL}\\.gateway\\.)?bedrock-agentcore\\.${REGION}${AMAZONAWS}$`), service: 'bedrock-agentcore' },
  // An interface VPC endpoint's own DNS name: vpce-{id}[-{zone}].{service}.{region}.vpce.amazonaws.com
  // (execute-api for private APIs, bedrock-agentcore …)
  { re: new RegExp(`^vpce-${LABEL}\\.(${LABEL})\\.${REGION}\\.vpce${AMAZONAWS}$`), service: (m) => m[1] as string },
  // AWS-hosted services on the api.aws domain: {service}.{region}.api.aws
  { re: new RegExp(`^(${LABEL})\\.${REGION}\\.api\\.aws$`), service: (m) => m[1] as string },
];

export function inferAwsEndpoint(url: URL): AwsEndpointGuess | undefined {
  const host = url.hostname.toLowerCase();
  for (const rule of RULES) {
    const m = host.match(rule.re);
    if (!m) continue;
    if (typeof rule.service === 'string') return { service: rule.service, region: m[1] as string };
    return { service: rule.service(m), region: m[2] as string };
  }
  return undefined;
}

/** True when the host is inside an AWS domain, even one we cannot parse. */
export function looksLikeAwsHost(url: URL): boolean {
  return /(\.amazonaws\.com(\.cn)?|\.on\.aws|\.api\.aws)$/.test(url.hostname.toLowerCase());
}
