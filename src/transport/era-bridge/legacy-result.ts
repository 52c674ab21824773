import { parseRemote, type RemoteMessage } from '../remote-transport.js';
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
const MARKERS = ['"resultType"', SERVER_INFO_KEY, '"ttlMs"', '"cacheScope"', '-3202'];

/**
 * A 2026-07-28 response as a 2025-era host gets it, the way a 2026-07-28 server serves a
 * 2025 client itself (the TypeScript SDK v2's 2025-11-25 encoding): without the fields only
 * the new revision defines — `resultType`, `ttlMs`/`cacheScope` on cacheable results,
 * `_meta["io.modelcontextprotocol/serverInfo"]` (https://modelcontextprotocol.io/specification/2026-07-28/changelog,
 * major changes 2 and 8, minor change 5) — and with the revision's own error codes explained
 * in the message (code and data kept). Anything else, and any response without them, is
 * relayed byte for byte. `method` is the request's, when known.
 */
export function forLegacyHost(msg: RemoteMessage, method: string | undefined): RemoteMessage {
  if (!MARKERS.some((m) => msg.bytes.includes(m))) return msg;
  const value = JSON.parse(msg.bytes.toString('utf8')) as { result?: unknown; error?: unknown };
  const changed = isObject(value.result) ? stripResult(value.result, method) : isObject(value.error) && explainError(value.error);
  return changed ? parseRemote(JSON.stringify(value)) : msg;
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
