/**
 * The names the bridge needs from MCP 2026-07-28
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/index#meta): the revision
 * it speaks upstream, the per-request `_meta` keys, and the 2025-era versions it can answer
 * a host's initialize with.
 */
import type { ClientMessageInfo } from '../../jsonrpc.js';

export const MODERN_VERSION = '2026-07-28';

export const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
export const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const LOG_LEVEL_KEY = 'io.modelcontextprotocol/logLevel';
export const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';
export const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';

/** Initialize-based revisions a host may ask for; the newest is the answer to any other. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const DEFAULT_LEGACY_VERSION = LEGACY_VERSIONS[0];

/** 2026-07-28 "UnsupportedProtocolVersionError": `data.supported` lists what the server speaks. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/**
 * A message only a 2026-era host sends: one that names its version in `_meta`, or the
 * discovery probe (stdio "Backward Compatibility",
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/stdio).
 */
export function isModernMessage(info: ClientMessageInfo): boolean {
  return info.protocolVersion !== undefined || info.method === 'server/discover';
}
