/**
 * What one audit line says (README "Audit log"): the request, who made it, what came of
 * it. Built from the relay's RequestContext and RequestEnd; serialised by AuditLog, which
 * adds the hash chain.
 */
import { createHash } from 'node:crypto';
import { PolicyError } from '../errors.js';
import { errorResponse } from '../jsonrpc.js';
import { scrubSecrets } from '../logging/safe-url.js';
import type { RequestContext, RequestEnd } from '../relay/hooks.js';

/** --audit-args: the arguments' shape (default), plus their hash, or their values. */
export type AuditArgs = 'shape' | 'hash' | 'full';

/** The requests that get a line even when they succeed; a refused request always gets one. */
export const AUDITED = new Set(['tools/call', 'resources/read', 'prompts/get']);

export interface AuditRecord {
  ts: string;
  endpoint: string;
  identity: Record<string, string>;
  method: string;
  name: string | null;
  id: string | number;
  args?: unknown;
  outcome: 'ok' | 'tool_error' | 'error' | 'denied' | 'cancelled' | 'shutdown';
  /** The JSON-RPC error code (outcome error, shutdown). */
  code?: number;
  /** The setting that refused it (outcome denied). */
  rule?: string;
  ms: number;
  /** Bytes of the answer the client got; 0 when there was none (cancelled). */
  bytes: number;
}

/** JSON types only: the keys of objects, one entry per distinct element type of arrays. */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const seen = new Map<string, unknown>();
    for (const v of value) {
      const s = shapeOf(v);
      seen.set(JSON.stringify(s), s);
    }
    return [...seen.values()];
  }
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [scrubSecrets(k), shapeOf(v)]));
  return typeof value;
}

/** JSON with object keys sorted at every level: equal arguments hash equal whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Every string (keys too) with the proxy's registered secrets masked. */
function scrubbed(value: unknown): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (Array.isArray(value)) return value.map(scrubbed);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [scrubSecrets(k), scrubbed(v)]));
  return value;
}

/** params.arguments of the request, or undefined (resources/read has none; the URI is the name). */
export function argumentsOf(body: Uint8Array): unknown {
  try {
    const params = (JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8')) as { params?: { arguments?: unknown } }).params;
    return params?.arguments;
  } catch {
    return undefined;
  }
}

export function describeArgs(args: unknown, mode: AuditArgs): unknown {
  if (args === undefined) return undefined;
  if (mode === 'full') return scrubbed(args);
  const shape = shapeOf(args);
  if (mode === 'shape') return shape;
  return { shape, sha256: createHash('sha256').update(canonicalJson(args)).digest('hex') };
}

/**
 * Results larger than this are not parsed just to read `isError`/`error.code`: the audit
 * must not cost a 50 MB JSON.parse on every large result. Above it, the bytes are searched
 * for the member instead, and parsed only when it occurs.
 */
const PARSE_LIMIT = 4 * 1024 * 1024;

/** ok, tool_error (result.isError, MCP "Error Handling" for tools) or error with its code. */
function responseOutcome(bytes: Buffer): Pick<AuditRecord, 'outcome' | 'code'> {
  if (bytes.length > PARSE_LIMIT && !bytes.includes('"isError"') && !bytes.subarray(0, 4096).includes('"error"')) return { outcome: 'ok' };
  let value: { result?: { isError?: unknown }; error?: { code?: unknown } };
  try {
    value = JSON.parse(bytes.toString('utf8')) as typeof value;
  } catch {
    return { outcome: 'ok' };
  }
  if (value.error !== undefined) return { outcome: 'error', ...(typeof value.error?.code === 'number' && { code: value.error.code }) };
  return { outcome: value.result?.isError === true ? 'tool_error' : 'ok' };
}

/** The outcome fields and the size of the answer the client received. */
export function outcomeOf(req: RequestContext, end: RequestEnd): Pick<AuditRecord, 'outcome' | 'code' | 'rule' | 'bytes'> {
  switch (end.outcome) {
    case 'response':
      return { ...responseOutcome(end.message.bytes), bytes: end.message.bytes.length };
    case 'refused': {
      const bytes = Buffer.byteLength(errorResponse(req.id, end.error));
      if (end.refusal instanceof PolicyError) return { outcome: 'denied', rule: end.refusal.rule, bytes };
      return { outcome: 'error', code: end.error.code, bytes };
    }
    case 'error':
    case 'shutdown':
      return { outcome: end.outcome, code: end.error.code, bytes: Buffer.byteLength(errorResponse(req.id, end.error)) };
    case 'cancelled':
      return { outcome: 'cancelled', bytes: 0 };
  }
}
