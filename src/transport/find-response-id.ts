/**
 * Best-effort search for the id of a server message that cannot be relayed (not JSON, too
 * deep, over the response cap), so that the request it most likely answers gets an error
 * instead of waiting forever. Only the ends of the message are looked at: a JSON-RPC
 * response carries its id either before its result (`{"jsonrpc":"2.0","id":1,"result":…}`)
 * or after it (the MCP TypeScript SDK writes `{"result":…,"jsonrpc":"2.0","id":1}`).
 */
import { isJsonRpcId, type JsonRpcId } from '../jsonrpc.js';
import { BACKSLASH, QUOTE } from '../json-bytes.js';

/** A top-level `"id": <string or number>` closing the object, at the very end of `tail`. */
const TRAILING_ID = /[,{]\s*"id"\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\\n]|\\.)*")\s*\}\s*$/;

/**
 * The id of the response whose data starts with `head` and ends with `tail` (the same
 * buffer when the whole message is at hand). Undefined when no id is found, or when the
 * head shows a top-level `method`: a server request's id is not one of the client's.
 */
export function findResponseId(head: Buffer, tail: Buffer): JsonRpcId | undefined {
  const top = scanTopLevel(head);
  if (top.method) return undefined;
  if (top.id !== undefined) return top.id;
  const m = TRAILING_ID.exec(tail.toString('utf8'));
  return m === null ? undefined : parseId(m[1] as string);
}

/** Walks the top-level members of a (possibly cut, possibly invalid) JSON object. */
function scanTopLevel(b: Buffer): { id?: JsonRpcId; method?: boolean } {
  const out: { id?: JsonRpcId; method?: boolean } = {};
  let i = skipWs(b, 0);
  if (b[i] !== 0x7b) return out;
  let depth = 0;
  let expectKey = false;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      const end = stringEnd(b, i);
      if (end === -1) return out;
      if (depth === 1 && expectKey) {
        const key = b.subarray(i + 1, end).toString('utf8');
        const colon = skipWs(b, end + 1);
        if (b[colon] !== 0x3a) return out;
        const v = skipWs(b, colon + 1);
        if (key === 'method') out.method = true;
        if (key === 'id' && out.id === undefined) {
          const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*")/.exec(b.subarray(v, v + 512).toString('utf8'));
          const id = m === null ? undefined : parseId(m[1] as string);
          if (id !== undefined) out.id = id;
        }
        i = colon;
        expectKey = false;
        continue;
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth++;
      expectKey = depth === 1;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c) {
      expectKey = depth === 1;
    }
  }
  return out;
}

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return i;
}

/** Index of the quote closing the string opened at `start`, or -1 when it is cut off. */
function stringEnd(b: Buffer, start: number): number {
  for (let i = start + 1; i < b.length; i++) {
    if (b[i] === BACKSLASH) i++;
    else if (b[i] === QUOTE) return i;
  }
  return -1;
}

function parseId(text: string): JsonRpcId | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isJsonRpcId(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
