/** JSON-RPC 2.0 shapes, as far as the relay needs them (it never re-models MCP). */
export type JsonRpcId = string | number;

export interface ClientMessageInfo {
  readonly kind: 'request' | 'notification' | 'response';
  readonly id: JsonRpcId | undefined;
  readonly method: string | undefined;
  /**
   * tools/call and prompts/get: params.name; resources/*: params.uri; tasks/*: params.taskId
   * (Mcp-Name, 2026-07-28).
   */
  readonly name: string | undefined;
  /** params._meta["io.modelcontextprotocol/protocolVersion"]: the version a 2026-07-28 client sends per message. */
  readonly protocolVersion?: string | undefined;
  /** notifications/cancelled: the id of the request it cancels. */
  readonly cancels?: JsonRpcId | undefined;
}

export function isJsonRpcId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Map key that keeps 1 and "1" apart (they are different JSON-RPC ids). */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

export function errorResponse(id: JsonRpcId | null, error: { code: number; message: string; data?: unknown }): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

function nameOf(method: string, params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const p = params as Record<string, unknown>;
  if ((method === 'tools/call' || method === 'prompts/get') && typeof p.name === 'string') return p.name;
  if (method.startsWith('resources/') && typeof p.uri === 'string') return p.uri;
  if (method.startsWith('tasks/') && typeof p.taskId === 'string') return p.taskId;
  return undefined;
}

const VERSION_META = 'io.modelcontextprotocol/protocolVersion';

function versionOf(params: unknown): string | undefined {
  const meta = (params as { _meta?: unknown } | undefined)?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const v = (meta as Record<string, unknown>)[VERSION_META];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Classifies a parsed object. Returns undefined when it is not a JSON-RPC 2.0 message.
 * Requests need a string/number id (JSON-RPC 2.0 discourages null, https://www.jsonrpc.org/specification#request_object; MCP forbids it).
 */
export function describeMessage(value: unknown): ClientMessageInfo | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return undefined;
  if (typeof m.method === 'string') {
    // Both a method and a result/error: neither a request nor a response (https://www.jsonrpc.org/specification#request_object,
    // #response_object); taken as either, it would skip the checks of the other (a list result unfiltered).
    if ('result' in m || 'error' in m) return undefined;
    if (!('id' in m)) {
      const requestId = m.method === 'notifications/cancelled' ? (m.params as { requestId?: unknown } | undefined)?.requestId : undefined;
      return { kind: 'notification', id: undefined, method: m.method, name: nameOf(m.method, m.params), protocolVersion: versionOf(m.params), cancels: isJsonRpcId(requestId) ? requestId : undefined };
    }
    if (!isJsonRpcId(m.id)) return undefined;
    return { kind: 'request', id: m.id, method: m.method, name: nameOf(m.method, m.params), protocolVersion: versionOf(m.params) };
  }
  if (isJsonRpcId(m.id) && ('result' in m || 'error' in m)) return { kind: 'response', id: m.id, method: undefined, name: undefined };
  if (m.id === null && 'error' in m) return { kind: 'response', id: undefined, method: undefined, name: undefined };
  return undefined;
}
