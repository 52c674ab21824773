import type { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { safeOrigin } from '../logging/safe-url.js';
import { proxyFor, readProxyEnv } from './proxy-env.js';
import { loadCaBundle } from './trust.js';
import { TunnelAgent } from './tunnel-agent.js';

/**
 * The request handler for the AWS SDK's own traffic (STS, SSO), which uses node:https and
 * not undici (so undici's proxy and CA settings do not reach it): same CA bundle as the MCP traffic, and CONNECT
 * tunnelling when HTTPS_PROXY (or HTTP_PROXY) applies to the host, honouring NO_PROXY and
 * --no-env-proxy. No client certificate: that identity is for the MCP server, not AWS; and
 * --insecure is not applied either — it exists for one misconfigured MCP server only.
 *
 * Returns undefined when neither a CA bundle nor a proxy is configured, so the SDK keeps its
 * defaults (which already honour NODE_EXTRA_CA_CERTS). http:// endpoints (local fakes) are
 * always reached directly. Loaded lazily: only SigV4 set-ups pay for the import.
 */
export async function createAwsRequestHandler(config: Config, logger: Logger): Promise<NodeHttpHandler | undefined> {
  const httpsAgent = createAwsHttpsAgent(config, logger);
  return httpsAgent === undefined ? undefined : awsRequestHandlerFor(httpsAgent, config.network.connectTimeoutMs);
}

/** The SDK's handler over an agent from createAwsHttpsAgent; loads @smithy/node-http-handler. */
export async function awsRequestHandlerFor(httpsAgent: HttpsAgent, connectTimeoutMs: number): Promise<NodeHttpHandler> {
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  return new NodeHttpHandler({ httpsAgent, connectionTimeout: connectTimeoutMs });
}

/**
 * The https.Agent behind that handler, for our own STS requests (src/credentials/sts-http.ts)
 * as much as for the SDK's: undefined when neither a CA bundle nor a proxy is configured,
 * so Node's global agent is used (which honours NODE_EXTRA_CA_CERTS).
 */
export function createAwsHttpsAgent(config: Config, logger: Logger): HttpsAgent | undefined {
  const ca = loadCaBundle(config.tls, process.env, logger);
  const proxies = config.network.envProxy ? readProxyEnv(process.env) : undefined;
  const httpsProxy = proxies?.httpsProxy ?? proxies?.httpProxy;
  if (ca === undefined && httpsProxy === undefined) return undefined;
  const httpsAgent = new TunnelAgent({
    keepAlive: true,
    ...(ca === undefined ? {} : { ca }),
    connectTimeoutMs: config.network.connectTimeoutMs,
    proxyFor: (host, port) => (proxies === undefined ? undefined : proxyFor(new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`), proxies)),
  });
  logger.debug({ caBundle: ca !== undefined, proxy: httpsProxy && safeOrigin(httpsProxy) }, 'AWS SDK requests use the configured CA bundle / proxy');
  return httpsAgent;
}
