import type { JsonRpcId } from '../../jsonrpc.js';
import type { HostProfile } from './host-profile.js';
import { MODERN_VERSION, SERVER_INFO_KEY } from './protocol.js';

type Json = Record<string, unknown>;

export interface DiscoverResult {
  readonly capabilities: Json;
  readonly serverInfo: Json | undefined;
  readonly instructions: string | undefined;
}

function object(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/**
 * The result of a `server/discover` response when it comes from a server that speaks the
 * revision the bridge speaks (https://modelcontextprotocol.io/specification/2026-07-28/server/discover);
 * undefined for an error or anything else.
 */
export function modernDiscoverResult(response: unknown): DiscoverResult | undefined {
  const result = object(object(response)?.result);
  if (result === undefined || !Array.isArray(result.supportedVersions) || !result.supportedVersions.includes(MODERN_VERSION)) return undefined;
  // The revision puts serverInfo in the result's _meta; SDK v2 also sends it top-level.
  const serverInfo = object(object(result._meta)?.[SERVER_INFO_KEY]) ?? object(result.serverInfo);
  return {
    capabilities: object(result.capabilities) ?? {},
    serverInfo,
    instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
  };
}

/**
 * The host's initialize answered from the discovery result: what a 2025-11-25 InitializeResult
 * holds (https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#initialization).
 */
export function initializeAnswer(id: JsonRpcId, discover: DiscoverResult, host: HostProfile): string {
  const result: Json = {
    protocolVersion: host.answerVersion(),
    capabilities: discover.capabilities,
    serverInfo: discover.serverInfo ?? { name: 'unknown', version: '0' },
  };
  if (discover.instructions !== undefined) result.instructions = discover.instructions;
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}
