import { InvalidMessageError, JSONRPC_INVALID_REQUEST, JSONRPC_PARSE_ERROR, toJsonRpcError } from '../errors.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../json-depth.js';
import { duplicateMemberKey } from '../transport/envelope-scan.js';
import { describeMessage, errorResponse, isJsonRpcId, type ClientMessageInfo } from '../jsonrpc.js';

export type LineResult =
  | { readonly kind: 'skip' }
  | { readonly kind: 'invalid'; readonly reply: string; readonly reason: string }
  | { readonly kind: 'message'; readonly info: ClientMessageInfo; readonly body: Buffer };

// Strict decoding: invalid bytes are a parse error, not U+FFFD (a replacement would forward bytes the client never sent).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(code: number, id: unknown, message: string, reason: string): LineResult {
  const error = toJsonRpcError(new InvalidMessageError(`ESP_BAD_LINE_${reason.toUpperCase().replace(/-/g, '_')}`, message, { jsonRpcCode: code }));
  return { kind: 'invalid', reason, reply: errorResponse(isJsonRpcId(id) ? id : null, error) };
}

/**
 * Turns one stdin line into a message to forward, or the error to answer. The body that is
 * forwarded is the client's own bytes (minus a BOM and a trailing CR): the relay parses to
 * learn id/method, never to rewrite (so fields it does not know survive).
 */
export function classifyLine(raw: Buffer): LineResult {
  let line = raw;
  if (line.length >= 3 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) line = line.subarray(3);
  if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
  // Before any decoding or parsing: JSON.parse of a line of deeply nested brackets costs
  // far more memory and time than the line itself.
  if (exceedsJsonDepth(line)) {
    return invalid(JSONRPC_INVALID_REQUEST, null, `invalid request: the message nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels, over the proxy's limit`, 'too-deep');
  }
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    return invalid(JSONRPC_PARSE_ERROR, null, 'parse error: the line is not valid UTF-8', 'invalid-utf8');
  }
  if (text.trim() === '') return { kind: 'skip' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(JSONRPC_PARSE_ERROR, null, 'parse error: the line is not JSON', 'not-json');
  }
  if (Array.isArray(value)) {
    return invalid(JSONRPC_INVALID_REQUEST, null, 'invalid request: JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per line', 'batch');
  }
  // The proxy reads the last of duplicate keys (JSON.parse) and forwards the client's bytes;
  // a server that reads the first would see another method or tool than the one checked.
  const duplicate = duplicateMemberKey(line);
  if (duplicate !== undefined) {
    const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
    return invalid(JSONRPC_INVALID_REQUEST, id, `invalid request: the key "${duplicate.slice(0, 64)}" occurs twice`, 'duplicate-key');
  }
  const info = describeMessage(value);
  if (info === undefined) {
    const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
    return invalid(JSONRPC_INVALID_REQUEST, id, 'invalid request: not a JSON-RPC 2.0 request, notification or response', 'not-jsonrpc');
  }
  return { kind: 'message', info, body: line };
}
