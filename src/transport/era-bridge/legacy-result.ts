import { parseRemote, type RemoteMessage } from '../remote-transport.js';
import { members, rebuild, valueBytes, type Member } from './json-members.js';
import { wrapOutputSchema } from './output-schema.js';
import { MODERN_VERSION, SERVER_INFO_KEY, UNSUPPORTED_PROTOCOL_VERSION } from './protocol.js';

type Json = Record<string, unknown>;

/**
 * Results that carry `ttlMs` and `cacheScope` in 2026-07-28 ("CacheableResult",
 * https://modelcontextprotocol.io/specification/2026-07-28/changelog, minor change 5).
 */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/read', 'resources/templates/list']);

/** 2026-07-28 error codes (basic/index "Error Codes") a 2025-era host has never heard of, and what they mean for it. */
const MODERN_ERRORS: Readonly<Record<number, { name: string; fix: string }>> = {
  [-32020]: { name: 'HeaderMismatch', fix: 'the proxy sent headers that do not match the request; update mcp-signing-proxy, or use --protocol passthrough (MCP_PROTOCOL=passthrough)' },
  [-32021]: { name: 'MissingRequiredClientCapability', fix: 'the server needs a client capability this MCP client did not declare (see data.requiredCapabilities); enable it in the client' },
  [UNSUPPORTED_PROTOCOL_VERSION]: { name: 'UnsupportedProtocolVersion', fix: `the server no longer speaks ${MODERN_VERSION}, which the proxy speaks for this client; restart the MCP server connection in your client, or use --protocol passthrough (MCP_PROTOCOL=passthrough)` },
};

/** Cheap checks on the bytes: most responses carry none of this and are relayed untouched. */
const MARKERS = ['"resultType"', SERVER_INFO_KEY, '"ttlMs"', '"cacheScope"', '-3202', '"outputSchema"', '"structuredContent"'];

/**
 * A 2026-07-28 response as a 2025-era host gets it, the way a 2026-07-28 server serves a
 * 2025 client itself (the TypeScript SDK v2's 2025-11-25 encoding): without the fields only
 * the new revision defines — `resultType`, `ttlMs`/`cacheScope` on cacheable results,
 * `_meta["io.modelcontextprotocol/serverInfo"]` (https://modelcontextprotocol.io/specification/2026-07-28/changelog,
 * major changes 2 and 8, minor change 5); with a tool output that is not a JSON object
 * wrapped as `{ result: … }`, its schema too, since 2025-11-25 allows only object outputs
 * (2026-07-28 changelog, minor change 10); and with the revision's own error codes explained
 * in the message (code and data kept). Anything else, and any response without them, is
 * relayed byte for byte: only the members edited are decoded (json-members.ts), so a result
 * of many megabytes costs a scan, not a parse and a re-serialisation.
 */
export class LegacyResults {
  /** Tools whose output schema the host got wrapped: their structured results are wrapped too. */
  readonly #wrapped = new Set<string>();

  /** `method` and `tool` are the request's, when known. */
  shape(msg: RemoteMessage, method: string | undefined, tool?: string): RemoteMessage {
    if (!MARKERS.some((m) => msg.bytes.includes(m))) return msg;
    const b = msg.bytes;
    const top = members(b, 0);
    const result = top.find((m) => m.key === 'result');
    if (result === undefined || b[result.valueStart] !== LBRACE) return top.some((m) => m.key === 'error') ? explained(msg) : msg;
    // Only small members are decoded; the rest, a large content included, is copied as bytes.
    const inner = members(b, result.valueStart);
    const replace = new Map<Member, Buffer | undefined>();
    for (const m of inner) {
      const value = this.#member(m.key, valueBytes(b, m), method, tool);
      if (value !== KEEP) replace.set(m, value);
    }
    if (replace.size === 0) return msg;
    return { bytes: Buffer.concat([b.subarray(0, result.valueStart), rebuild(b, inner, replace), b.subarray(result.end)]), info: msg.info };
  }

  /** A result member's new value bytes, undefined to drop it, or KEEP. */
  #member(key: string, value: Buffer, method: string | undefined, tool: string | undefined): Buffer | undefined | typeof KEEP {
    if (key === 'resultType') return undefined;
    if ((key === 'ttlMs' || key === 'cacheScope') && method !== undefined && CACHEABLE.has(method)) return undefined;
    if (key === '_meta' && value.includes(SERVER_INFO_KEY)) {
      const meta = JSON.parse(value.toString('utf8')) as unknown;
      if (!isObject(meta) || !(SERVER_INFO_KEY in meta)) return KEEP;
      delete meta[SERVER_INFO_KEY];
      return Object.keys(meta).length === 0 ? undefined : Buffer.from(JSON.stringify(meta));
    }
    if (key === 'structuredContent' && method === 'tools/call') {
      const wrap = value[0] !== LBRACE || (tool !== undefined && this.#wrapped.has(tool));
      return wrap ? Buffer.concat([Buffer.from('{"result":'), value, Buffer.from('}')]) : KEEP;
    }
    if (key === 'tools' && method === 'tools/list' && value.includes('"outputSchema"')) {
      const tools = JSON.parse(value.toString('utf8')) as unknown;
      return Array.isArray(tools) && this.#wrapSchemas(tools) ? Buffer.from(JSON.stringify(tools)) : KEEP;
    }
    return KEEP;
  }

  #wrapSchemas(tools: unknown[]): boolean {
    let changed = false;
    for (const tool of tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') continue;
      if (!isObject(tool.outputSchema) || tool.outputSchema.type === 'object') {
        this.#wrapped.delete(tool.name);
        continue;
      }
      tool.outputSchema = wrapOutputSchema(tool.outputSchema);
      this.#wrapped.add(tool.name);
      changed = true;
    }
    return changed;
  }
}

const KEEP = Symbol('keep');
const LBRACE = 0x7b;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An error response whose code only 2026-07-28 defines, with a message that says what it means. */
function explained(msg: RemoteMessage): RemoteMessage {
  const value = JSON.parse(msg.bytes.toString('utf8')) as { error?: unknown };
  const error = value.error;
  const known = isObject(error) && typeof error.code === 'number' ? MODERN_ERRORS[error.code] : undefined;
  if (!isObject(error) || known === undefined) return msg;
  const said = typeof error.message === 'string' ? error.message.slice(0, 500) : 'no message';
  error.message = `mcp-signing-proxy: the server answered with the MCP ${MODERN_VERSION} error ${known.name} (${String(error.code)}): ${said} (fix: ${known.fix})`;
  return parseRemote(JSON.stringify(value));
}
