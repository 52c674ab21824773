import { describeMessage, type ClientMessageInfo, type JsonRpcId } from '../../jsonrpc.js';
import type { HostProfile } from './host-profile.js';

type Json = Record<string, unknown>;

export interface ModernRequest {
  readonly body: Buffer;
  readonly info: ClientMessageInfo;
}

/** What a retry of a multi round-trip request adds (2026-07-28 "Multi Round-Trip Requests"). */
export interface RetryInput {
  readonly inputResponses: Json;
  /** Echoed exactly when the server sent one; never invented. */
  readonly requestState: string | undefined;
}

/**
 * A host request as a 2026-07-28 request: the same method and params, the `_meta` the
 * revision requires on every request (its keys win over the host's, the host's own keys such
 * as progressToken stay), the id given, and on a retry the host's answers.
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/index#meta
 */
export function modernRequest(hostMessage: Json, id: JsonRpcId, host: HostProfile, retry?: RetryInput): ModernRequest {
  const params: Json = { ...((hostMessage.params as Json | undefined) ?? {}) };
  params._meta = { ...((params._meta as Json | undefined) ?? {}), ...host.meta() };
  if (retry !== undefined) {
    params.inputResponses = retry.inputResponses;
    if (retry.requestState === undefined) delete params.requestState;
    else params.requestState = retry.requestState;
  }
  const value = { jsonrpc: '2.0', id, method: hostMessage.method, params };
  return { body: Buffer.from(JSON.stringify(value)), info: describeMessage(value) as ClientMessageInfo };
}

/** A request the bridge makes itself (discovery, the listen stream), with the host's `_meta`. */
export function ownRequest(id: string, method: string, host: HostProfile, params: Json = {}): ModernRequest {
  return modernRequest({ method, params }, id, host);
}
