import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { Config } from '../config/config.js';

/**
 * The one undici dispatcher for all MCP traffic (protocol-notes §5). Explicit timeouts:
 * connect 10 s by default; no headers/body timeout, because a long tool call answers late
 * in JSON mode and an SSE stream may be silent for minutes (§5.4) — the client's own
 * request timeout and notifications/cancelled govern those.
 */
export function createDispatcher(config: Config): Dispatcher {
  const common = {
    connectTimeout: config.network.connectTimeoutMs,
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
  };
  return config.network.envProxy ? new EnvHttpProxyAgent(common) : new Agent(common);
}
