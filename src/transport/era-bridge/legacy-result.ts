import { parseRemote, type RemoteMessage } from '../remote-transport.js';
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
 * relayed byte for byte.
 */
export class LegacyResults {
  /** Tools whose output schema the host got wrapped: their structured results are wrapped too. */
  readonly #wrapped = new Set<string>();

  /** `method` and `tool` are the request's, when known. */
  shape(msg: RemoteMessage, method: string | undefined, tool?: string): RemoteMessage {
    if (!MARKERS.some((m) => msg.bytes.includes(m))) return msg;
    const value = JSON.parse(msg.bytes.toString('utf8')) as { result?: unknown; error?: unknown };
    let changed = false;
    if (isObject(value.result)) {
      changed = stripResult(value.result, method);
      if (method === 'tools/list') changed = this.#wrapSchemas(value.result) || changed;
      if (method === 'tools/call') changed = this.#wrapOutput(value.result, tool) || changed;
    } else if (isObject(value.error)) {
      changed = explainError(value.error);
    }
    return changed ? parseRemote(JSON.stringify(value)) : msg;
  }

  #wrapSchemas(result: Json): boolean {
    if (!Array.isArray(result.tools)) return false;
    let changed = false;
    for (const tool of result.tools as unknown[]) {
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

  #wrapOutput(result: Json, tool: string | undefined): boolean {
    if (!('structuredContent' in result)) return false;
    const sc = result.structuredContent;
    if (isObject(sc) && !(tool !== undefined && this.#wrapped.has(tool))) return false;
    result.structuredContent = { result: sc };
    return true;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripResult(result: Json, method: string | undefined): boolean {
  let changed = false;
  const drop = (obj: Json, key: string) => {
    if (!(key in obj)) return;
    delete obj[key];
    changed = true;
  };
  drop(result, 'resultType');
  if (method !== undefined && CACHEABLE.has(method)) {
    drop(result, 'ttlMs');
    drop(result, 'cacheScope');
  }
  const meta = result._meta;
  if (isObject(meta)) {
    drop(meta, SERVER_INFO_KEY);
    if (Object.keys(meta).length === 0) delete result._meta;
  }
  return changed;
}

function explainError(error: Json): boolean {
  const known = typeof error.code === 'number' ? MODERN_ERRORS[error.code] : undefined;
  if (known === undefined) return false;
  const said = typeof error.message === 'string' ? error.message.slice(0, 500) : 'no message';
  error.message = `mcp-signing-proxy: the server answered with the MCP ${MODERN_VERSION} error ${known.name} (${String(error.code)}): ${said} (fix: ${known.fix})`;
  return true;
}
