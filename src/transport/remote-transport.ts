/**
 * The remote side's contract: what the relay needs from a transport, the message type
 * every transport hands back, and the one parse that turns a message received from the
 * server into a stdout line. The relay imports only this module, never a concrete
 * transport (docs/architecture.md, "Adding a transport").
 */
import { isUtf8 } from 'node:buffer';
import { ProtocolError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../json-depth.js';
import { describeMessage, type ClientMessageInfo } from '../jsonrpc.js';
import { compactJson, JsonDepthError, scanEnvelope } from './envelope-scan.js';

/**
 * A message from the remote, ready for stdout: `bytes` is one line of valid JSON (UTF-8,
 * no newline). Bytes, not a string: a 50 MB result then exists once in memory, from the
 * socket to the stdout pipe. `info` is undefined when the JSON is not a JSON-RPC message.
 */
export interface RemoteMessage {
  readonly bytes: Buffer;
  readonly info: ClientMessageInfo | undefined;
}

/** Hands a message to the client; resolves when stdout can take more (backpressure). */
export type Deliver = (msg: RemoteMessage) => Promise<void>;

/** What the relay needs from the remote side, whatever the wire protocol. */
export interface RemoteTransport {
  /** From now on every message the server sends, on any stream, goes to `deliver`. */
  start(deliver: Deliver): void;
  /**
   * Sends one client message and relays what the server answers to it. Resolves when the
   * server is done with it; rejects with a ProxyError. `isAnswered` tells whether the
   * response to this request has been delivered; `signal` cancels it.
   */
  send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void>;
  /** Ends the session on the server (spec: clients SHOULD), bounded by `timeoutMs`. */
  terminate(timeoutMs: number): Promise<void>;
  /** Aborts every stream and request still open. */
  close(): void;
  /** The wire protocol in use once known (`streamable-http`, `sse`), for `--check` and logs. */
  transportName?(): string | undefined;
  /**
   * Whether the server gave this client a session (Streamable HTTP `Mcp-Session-Id`);
   * undefined where the wire protocol has no such choice (legacy HTTP+SSE).
   */
  hasSession?(): boolean | undefined;
}

const LF = 0x0a;
const CR = 0x0d;

function isJsonWs(c: number | undefined): boolean {
  return c === 0x20 || c === LF || c === CR || c === 0x09;
}

/** The bytes of a message as UTF-8: invalid sequences become U+FFFD, as a text decoder makes them. */
function utf8(raw: string | Uint8Array): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  return isUtf8(b) ? b : Buffer.from(b.toString('utf8'), 'utf8');
}

/**
 * One message as received → a stdout line and its routing info. Throws a SyntaxError when
 * it is not JSON and a JsonDepthError when it nests too deep: every line on stdout must be
 * valid JSON-RPC (MCP stdio transport), so nothing unchecked is forwarded. A server may
 * pretty-print, but stdio messages must be single lines: text with raw newlines is
 * compacted (in valid JSON they can only be whitespace between tokens); other text is
 * forwarded byte for byte. May rewrite `raw` in place (it is the caller's received copy).
 */
export function parseRemote(raw: string | Uint8Array): RemoteMessage {
  let bytes = utf8(raw);
  let start = 0;
  let end = bytes.length;
  while (start < end && isJsonWs(bytes[start])) start++;
  while (end > start && isJsonWs(bytes[end - 1])) end--;
  bytes = bytes.subarray(start, end);
  const envelope = scanEnvelope(bytes);
  if (bytes.includes(LF) || bytes.includes(CR)) bytes = compactJson(bytes);
  return { bytes, info: envelope === undefined ? undefined : describeMessage(envelope) };
}

/** The whole value of a message (parsed on demand: messages are only scanned). */
export function messageValue(msg: RemoteMessage): unknown {
  return JSON.parse(msg.bytes.toString('utf8'));
}

/** The error for a server body that cannot be relayed (the request it answers gets it). */
export function unrelayable(err: unknown, what: string): ProtocolError {
  if (err instanceof JsonDepthError) {
    return new ProtocolError('ESP_JSON_TOO_DEEP', `the server sent ${what} nested deeper than ${MAX_JSON_DEPTH} levels; the proxy does not relay it`, { hint: 'check the server logs' });
  }
  return new ProtocolError('ESP_BAD_JSON', `the server sent ${what} that is not JSON`, { hint: 'check the server logs' });
}
