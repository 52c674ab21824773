/**
 * Signing service and region from an AWS endpoint URL (protocol-notes §3.1). Custom
 * domains, private-API VPC endpoint DNS and other partitions cannot be inferred: the user
 * passes --service/--region.
 */
export interface AwsEndpointGuess {
  service: string;
  region: string;
}

const RULES: ReadonlyArray<{ re: RegExp; service: string | ((m: RegExpMatchArray) => string) }> = [
  // API Gateway: {api-id}.execute-api.{region}.amazonaws.com[.cn]
  { re: /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/, service: 'execute-api' },
  // Lambda function URL: {url-id}.lambda-url.{region}.on.aws
  { re: /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/, service: 'lambda' },
  // AgentCore runtime (bedrock-agentcore.{region}…) and gateway ({id}.gateway.bedrock-agentcore.{region}…)
  { re: /^(?:[a-z0-9-]+\.gateway\.)?bedrock-agentcore\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/, service: 'bedrock-agentcore' },
  // AWS-hosted services on the api.aws domain: {service}.{region}.api.aws
  { re: /^([a-z0-9-]+)\.([a-z0-9-]+)\.api\.aws$/, service: (m) => m[1] as string },
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
