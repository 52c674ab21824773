import type { ClientMessageInfo } from '../../jsonrpc.js';
import { messageValue, type Deliver } from '../remote-transport.js';
import { postMessage } from './post.js';
import type { SessionState } from './session-state.js';
import { paramHeadersOf } from './tool-headers.js';

/** -32020 HeaderMismatch (MCP 2026-07-28 Streamable HTTP). */
export const HEADER_MISMATCH = -32020;
/** Bounds the private re-listing: a server paging without end must not hold the call. */
const MAX_PAGES = 20;
let relists = 0;

/**
 * On HeaderMismatch to a tools/call the client SHOULD re-list tools and retry
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http,
 * "Request Metadata"). The relay does it for its client with a proxy-private tools/list,
 * carrying the call's own `_meta`, whose answers never reach the client. Returns whether
 * the tool's annotations changed, so a retry can succeed.
 */
export async function refreshToolSchema(s: SessionState, tool: string, meta: unknown, protocolVersion: string | undefined, signal: AbortSignal): Promise<boolean> {
  if (s.toolHeaders === undefined) return false;
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    const id = `mcp-signing-proxy-relist-${++relists}`;
    const params: Record<string, unknown> = {};
    if (meta !== undefined) params._meta = meta;
    if (cursor !== undefined) params.cursor = cursor;
    let answer: { result?: { tools?: unknown; nextCursor?: unknown } } | undefined;
    const capture: Deliver = async (m) => {
      if (m.info?.kind === 'response' && m.info.id === id) answer = messageValue(m) as typeof answer;
    };
    const info: ClientMessageInfo = { kind: 'request', id, method: 'tools/list', name: undefined, protocolVersion };
    await postMessage(s, Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params })), info, capture, () => answer !== undefined, signal);
    const tools = answer?.result?.tools;
    if (!Array.isArray(tools)) return false;
    const entry = tools.find((t: unknown) => (t as { name?: unknown } | null)?.name === tool) as { inputSchema?: unknown } | undefined;
    if (entry !== undefined) {
      const found = paramHeadersOf(entry.inputSchema);
      const before = JSON.stringify(s.toolHeaders.get(tool));
      s.toolHeaders.set(tool, 'headers' in found ? found.headers : []);
      return 'headers' in found && JSON.stringify(found.headers) !== before;
    }
    cursor = answer?.result?.nextCursor;
    if (typeof cursor !== 'string') return false;
  }
  return false;
}
