import type { Logger } from '../logging/logger.js';
import { paramHeadersOf, type ToolHeaders } from '../transport/streamable-http/tool-headers.js';
import type { RelayHook } from './hooks.js';

/**
 * Keeps the `x-mcp-header` annotations of every tools/list page that passes (the transport
 * reads them back for Mcp-Param-* on tools/call) and removes the tools whose annotations
 * are invalid, as MCP 2026-07-28 requires of a Streamable HTTP client
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http,
 * "Request Metadata"). Only tools/list responses are parsed.
 */
export function toolHeadersHook(registry: ToolHeaders, log: Logger): RelayHook {
  return {
    name: 'tool headers',
    onServerMessage(msg, req) {
      if (req?.method !== 'tools/list' || msg.info?.kind !== 'response') return undefined;
      const value = JSON.parse(msg.bytes.toString('utf8')) as { result?: { tools?: unknown } };
      const tools = value.result?.tools;
      if (!Array.isArray(tools)) return undefined;
      const cursor = (JSON.parse(Buffer.from(req.body).toString('utf8')) as { params?: { cursor?: unknown } }).params?.cursor;
      if (cursor === undefined) registry.reset();
      const removed: string[] = [];
      const kept = tools.filter((t: unknown) => {
        const tool = t as { name?: unknown; inputSchema?: unknown } | null;
        if (typeof tool?.name !== 'string') return true;
        const found = paramHeadersOf(tool.inputSchema);
        if ('invalid' in found) {
          removed.push(tool.name);
          log.warn({ tool: tool.name, reason: found.invalid }, 'the tool has invalid x-mcp-header annotations; it is removed from tools/list (the server must fix its inputSchema)');
          registry.set(tool.name, []);
          return false;
        }
        registry.set(tool.name, found.headers);
        return true;
      });
      if (removed.length === 0) return undefined;
      (value.result as { tools: unknown[] }).tools = kept;
      return { rewrite: Buffer.from(JSON.stringify(value)) };
    },
  };
}
