type Json = Record<string, unknown>;

/** Keywords whose values are data, not subschemas: a `$ref` inside one is a literal. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);
/** Keywords whose values map names to subschemas: the names may look like keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);

/** A `$id` that sets a new base URI: same-document pointers below it do not point at our root. A `#name` one is an anchor. */
function newBase(id: unknown): boolean {
  return id !== undefined && !(typeof id === 'string' && id.startsWith('#'));
}

/**
 * A tool output schema whose root is not an object, as a 2025-11-25 host can take it:
 * `{ type: "object", properties: { result: <schema> }, required: ["result"] }`, the way a
 * 2026-07-28 server built on the TypeScript SDK v2 serves it to a 2025 client (2026-07-28
 * changelog, minor change 10, https://modelcontextprotocol.io/specification/2026-07-28/changelog).
 * Same-document `$ref` / `$dynamicRef` pointers move under `#/properties/result`; data
 * keywords and subtrees with their own `$id` base are left alone.
 */
export function wrapOutputSchema(schema: Json): Json {
  const $schema = typeof schema.$schema === 'string' ? { $schema: schema.$schema } : {};
  const inner = newBase(schema.$id) ? schema : (moveRefs(schema, false) as Json);
  return { ...$schema, type: 'object', properties: { result: inner }, required: ['result'] };
}

function moveRefs(node: unknown, namesHere: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => moveRefs(item, false));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  if (!namesHere && newBase(obj.$id)) return obj;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (namesHere) out[k] = moveRefs(v, false);
    else if ((k === '$ref' || k === '$dynamicRef') && typeof v === 'string') out[k] = v === '#' ? '#/properties/result' : v.startsWith('#/') ? `#/properties/result${v.slice(1)}` : v;
    else if (DATA_KEYWORDS.has(k)) out[k] = v;
    else out[k] = moveRefs(v, NAME_MAPS.has(k));
  }
  return out;
}
