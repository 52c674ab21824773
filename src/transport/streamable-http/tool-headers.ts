import { headerValue } from './header-value.js';

/**
 * The `x-mcp-header` annotations of the tools the server listed (MCP 2026-07-28 Streamable
 * HTTP, "Request Metadata",
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http):
 * on tools/call the client mirrors each annotated argument into `Mcp-Param-{Name}`. The
 * relay sees the bodies only as they pass, so it keeps the schemas from the tools/list
 * results it forwards (every page) and reads them back for each call.
 */
export interface ParamHeader {
  /** Property names from the root of inputSchema to the annotated one. */
  readonly path: readonly string[];
  readonly header: string;
}

// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The spec names integer, string and boolean; "Parameters with type `number` are not permitted".
const PRIMITIVE = new Set(['string', 'integer', 'boolean', 'null']);

/**
 * The annotations of one inputSchema, or the reason they are invalid. Valid only on
 * primitive-typed properties reached through `properties` keys alone (never `items`,
 * combinators or `$ref`), each a token, case-insensitively unique within the tool.
 */
export function paramHeadersOf(schema: unknown): { headers: ParamHeader[] } | { invalid: string } {
  const headers: ParamHeader[] = [];
  const seen = new Set<string>();
  let invalid: string | undefined;
  const walk = (node: unknown, path: string[], reachable: boolean): void => {
    if (invalid !== undefined || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n, path, false);
      return;
    }
    const n = node as Record<string, unknown>;
    if ('x-mcp-header' in n) {
      const name = n['x-mcp-header'];
      if (!reachable || path.length === 0) invalid = 'x-mcp-header is only allowed on a property reached through "properties"';
      else if (typeof name !== 'string' || !TOKEN.test(name)) invalid = `x-mcp-header of "${path.join('.')}" is not an HTTP token`;
      else if (!isPrimitive(n.type)) invalid = `x-mcp-header of "${path.join('.')}" is on a property that is not a primitive type`;
      else if (seen.has(name.toLowerCase())) invalid = `x-mcp-header "${name}" is used twice`;
      else {
        seen.add(name.toLowerCase());
        headers.push({ path: [...path], header: name });
      }
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === 'properties' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [prop, sub] of Object.entries(value as Record<string, unknown>)) walk(sub, [...path, prop], reachable);
      } else {
        walk(value, path, false);
      }
    }
  };
  walk(schema, [], true);
  return invalid === undefined ? { headers } : { invalid };
}

function isPrimitive(type: unknown): boolean {
  if (typeof type === 'string') return PRIMITIVE.has(type) && type !== 'null';
  return Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string' && PRIMITIVE.has(t)) && type.some((t) => t !== 'null');
}

/** How an argument goes into its header: strings encoded as needed, numbers in decimal, booleans as words. */
export function paramValue(value: unknown): string | undefined {
  if (typeof value === 'string') return headerValue(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

export class ToolHeaders {
  readonly #tools = new Map<string, readonly ParamHeader[]>();

  /** The first page of a new listing starts afresh: tools gone from the server are forgotten. */
  reset(): void {
    this.#tools.clear();
  }

  set(tool: string, headers: readonly ParamHeader[]): void {
    if (headers.length === 0) this.#tools.delete(tool);
    else this.#tools.set(tool, headers);
  }

  get(tool: string): readonly ParamHeader[] {
    return this.#tools.get(tool) ?? [];
  }

  /** True when no listed tool has annotations: then tools/call bodies are not parsed. */
  get empty(): boolean {
    return this.#tools.size === 0;
  }

  /** The Mcp-Param-* headers of one call; an argument that is absent or null has none. */
  headersFor(tool: string, args: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.#tools.get(tool) ?? []) {
      let v: unknown = args;
      for (const key of p.path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
      const value = paramValue(v);
      if (value !== undefined) out[`mcp-param-${p.header.toLowerCase()}`] = value;
    }
    return out;
  }
}
