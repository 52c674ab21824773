import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { safeHost, safeOrigin } from '../logging/safe-url.js';
import type { ClientIdentityTls } from '../tls/client-identity.js';
import { IdentityDispatcher } from '../tls/identity-dispatcher.js';
import { createClientIdentitySource, type ClientIdentitySource } from '../tls/identity-source.js';
import { proxyFor, readProxyEnv, type ProxySettings } from '../tls/proxy-env.js';
import { loadCaBundle } from '../tls/trust.js';
import { DeferredAgent } from './deferred-agent.js';
import type { HttpAgent } from './http-agent.js';
import { MAX_RESPONSE_HEADER_BYTES } from './network-errors.js';
import { NodeHttpAgent } from './node-http-agent.js';

/**
 * The one dispatcher for all MCP traffic (docs/architecture.md, "Layers"): node:http /
 * node:https agents for direct connections, undici's EnvHttpProxyAgent (loaded only then)
 * when HTTP(S)_PROXY is set. Validates the TLS files at start-up (throws ConfigError) and
 * logs the trust, proxy and identity in use; `out.identity` receives the client identity
 * source, if there is one.
 *
 * Timeouts: connect from --connect-timeout; no headers/body timeout, because a long tool
 * call answers late in JSON mode and an SSE stream may be silent for minutes (undici's
 * 300 s defaults would kill both) — the client's own request timeout and notifications/cancelled govern those.
 */
export function createDispatcher(config: Config, logger: Logger, out?: { identity?: ClientIdentitySource }): HttpAgent {
  const { tls, network } = config;
  const ca = loadCaBundle(tls, process.env, logger);
  if (ca !== undefined) logger.info({ file: tls.caCert }, 'CA bundle added to the default trust store');
  if (tls.insecure) {
    // An escape hatch, never a default, and loud on every start.
    logger.warn(
      { host: safeHost(config.endpoint) },
      'TLS certificate verification is DISABLED for the MCP server (--insecure / MCP_INSECURE): anyone on the network path can impersonate it and receive the credentials this proxy attaches; use --ca-cert instead',
    );
  }
  const serverTls: ConnectionOptions = { ...(ca === undefined ? {} : { ca }), ...(tls.insecure ? { rejectUnauthorized: false } : {}) };
  const proxies = network.envProxy ? readProxyEnv(process.env) : undefined;
  const useProxy = proxies !== undefined && (proxies.httpProxy !== undefined || proxies.httpsProxy !== undefined);
  if (useProxy) logRoute(config.endpoint, proxies, logger);

  const build = (identity: ClientIdentityTls | undefined): HttpAgent => {
    const target = { ...serverTls, ...identity };
    // A server that closes idle sockets sooner (uvicorn: 5 s) without a Keep-Alive hint
    // would otherwise race the reuse of a socket it is closing (undici's default).
    const idleTimeoutMs = 4_000;
    if (!useProxy) {
      return new NodeHttpAgent({
        connectTimeoutMs: network.connectTimeoutMs,
        // A hard ceiling per origin; HttpClient keeps requests within it before signing.
        maxConnections: network.maxConnections,
        // Node's default is 16 KiB; gateways that set large cookies or policy headers
        // exceed it, and the server did answer.
        maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
        idleTimeoutMs,
        tls: target,
      });
    }
    const common = {
      connectTimeout: network.connectTimeoutMs,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: idleTimeoutMs,
      connections: network.maxConnections,
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      connect: target,
    };
    return new DeferredAgent(async () => new (await import('./undici.js')).EnvHttpProxyAgent({
      ...common,
      httpProxy: proxies.httpProxy?.href,
      httpsProxy: proxies.httpsProxy?.href,
      noProxy: proxies.noProxy,
      // `connect` serves direct (NO_PROXY) hosts only; through a CONNECT tunnel the target's
      // TLS options come from `requestTls`, not `connect` (verified). ProxyAgent builds both
      // connectors itself, so the connect timeout is repeated here.
      requestTls: { ...target, timeout: network.connectTimeoutMs },
      proxyTls: { ...(ca === undefined ? {} : { ca }), timeout: network.connectTimeoutMs },
    }));
  };

  const identity = createClientIdentitySource(tls, logger);
  // The audit log names the certificate in use (README "Audit log").
  if (out !== undefined) out.identity = identity;
  return identity === undefined ? build(undefined) : new IdentityDispatcher(identity, (id) => build(id.tls));
}

/** Says whether the endpoint is proxied, naming the proxy by origin only (no user:password). */
function logRoute(endpoint: URL, proxies: ProxySettings, logger: Logger): void {
  const via = proxyFor(endpoint, proxies);
  const noProxy = proxies.noProxy === '' ? undefined : proxies.noProxy;
  if (via === undefined) logger.info({ host: safeHost(endpoint), noProxy }, 'connecting directly to the MCP server (NO_PROXY)');
  else logger.info({ host: safeHost(endpoint), proxy: safeOrigin(via), proxyAuth: via.username !== '', noProxy }, 'connecting to the MCP server through the HTTP proxy from the environment');
}
