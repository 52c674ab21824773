import { isUtf8 } from 'node:buffer';
import { setMaxListeners } from 'node:events';
import { ProtocolError, ProxyError, UpstreamHttpError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../json-depth.js';
import { describeMessage, type ClientMessageInfo } from '../jsonrpc.js';
import { sessionTag, type Logger } from '../logging/logger.js';
import { safeUrl } from '../logging/safe-url.js';
import type { OutgoingRequest } from '../signers/signer.js';
import type { HttpClient, UpstreamResponse } from './http-client.js';
import { sleep } from './abortable-sleep.js';
import { compactJson, JsonDepthError, scanEnvelope } from './envelope-scan.js';
import { describeNetworkError } from './network-errors.js';
import { SseParser, type SseEvent } from './sse-parser.js';

/**
 * A message from the remote, ready for stdout: `bytes` is one line of valid JSON (UTF-8,
 * no newline). Bytes, not a string: a 50 MB result then exists once in memory, from the
 * socket to the stdout pipe.
 */
export interface RemoteMessage {
  readonly bytes: Buffer;
  readonly info: ClientMessageInfo | undefined;
}

/** The whole value of a message (parsed on demand: messages are only scanned). */
function messageValue(msg: RemoteMessage): unknown {
  return JSON.parse(msg.bytes.toString('utf8'));
}

/** Hands a message to the client; resolves when stdout can take more (backpressure). */
export type Deliver = (msg: RemoteMessage) => Promise<void>;

/** How reading an event stream ended: the error that broke it, an event not relayed. */
interface SseOutcome {
  broken?: unknown;
  rejected?: ProtocolError;
}

/** The server answered 404 to a request that carried our session id (spec: session expired). */
class SessionExpiredError extends ProtocolError {
  constructor() {
    super('ESP_SESSION_EXPIRED', 'the server ended the MCP session (HTTP 404) and a new session could not be started', {
      httpStatus: 404,
      hint: 'restart the MCP server connection in your client',
    });
  }
}

export interface StreamableHttpOptions {
  endpoint: URL;
  http: HttpClient;
  logger: Logger;
  deliver: Deliver;
}

// MCP transports: the session id is visible ASCII (0x21–0x7E).
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;
// Header values we mirror (Mcp-Name) must be plain visible ASCII to be sent and signed as-is.
const HEADER_SAFE = /^[\x20-\x7e]{1,1024}$/;
const INITIALIZED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}');
const RESUME_ATTEMPTS = 3;
const GET_MAX_FAILURES = 10;
/** A GET stream that ends sooner than this without a message counts as a failed attempt. */
const GET_MIN_HEALTHY_MS = 5000;

/** The server's `retry:` is honoured within sane bounds (0 would spin, > 2^31 ms wraps). */
function clampRetry(ms: number | undefined, fallback: number): number {
  return ms === undefined ? fallback : Math.min(60_000, Math.max(500, ms));
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
function parseRemote(raw: string | Uint8Array): RemoteMessage {
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

/** The error for a server body that cannot be relayed (the request it answers gets it). */
function unrelayable(err: unknown, what: string): ProtocolError {
  if (err instanceof JsonDepthError) {
    return new ProtocolError('ESP_JSON_TOO_DEEP', `the server sent ${what} nested deeper than ${MAX_JSON_DEPTH} levels; the proxy does not relay it`, { hint: 'check the server logs' });
  }
  return new ProtocolError('ESP_BAD_JSON', `the server sent ${what} that is not JSON`, { hint: 'check the server logs' });
}

function hintForStatus(status: number): string {
  if (status === 400) return 'the server rejected the message; check that it supports this MCP protocol version and see its logs';
  if (status === 404) return 'check the path in MCP_ENDPOINT (it should be the MCP endpoint itself, often ending in /mcp)';
  if (status === 405) return 'the URL does not accept POST: point MCP_ENDPOINT at a Streamable HTTP MCP endpoint (legacy SSE-only servers are not supported)';
  if (status === 406 || status === 415) return 'the server does not speak MCP Streamable HTTP at this URL';
  if (status === 413) return 'the message is larger than the server accepts';
  if (status === 429) return 'the server is rate limiting; wait and try again';
  if (status >= 500) return 'the server failed; try again, and check the server logs if it persists';
  return 'check the server logs';
}

/**
 * The MCP Streamable HTTP client side (spec 2025-03-26 … 2025-11-25 "Streamable HTTP"),
 * written on our HTTP client rather than the SDK's transport, which drops unknown envelope
 * keys, never sets MCP-Protocol-Version in a relay and ignores 404 expiry
 * (protocol-notes §2.2, §2.3, §2.6).
 */
export class StreamableHttpTransport {
  readonly #endpoint: URL;
  readonly #http: HttpClient;
  readonly #log: Logger;
  readonly #deliver: Deliver;
  readonly #life = new AbortController();

  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The client's initialize, replayed when the server loses the session. */
  #initializeBody: Uint8Array | undefined;
  /**
   * Nothing is sent while an initialize is under way: its response brings the session id
   * and the protocol version every later request must carry.
   */
  #gate: Promise<unknown> | undefined;
  #reinit: Promise<void> | undefined;
  #reinitCount = 0;
  #getStream: AbortController | undefined;

  constructor(opts: StreamableHttpOptions) {
    this.#endpoint = opts.endpoint;
    this.#http = opts.http;
    this.#log = opts.logger;
    this.#deliver = opts.deliver;
    // Every request in flight listens on this signal; dozens at once are normal.
    setMaxListeners(0, this.#life.signal);
  }

  /**
   * Sends one client message and streams everything the server answers on that POST to the
   * client. Resolves when the server is done with the POST; rejects with a ProxyError.
   * `isAnswered` tells whether the response to this request has been delivered (for SSE
   * resumption after a dropped stream); `signal` cancels it (notifications/cancelled).
   */
  async send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    if (info.method === 'initialize') return this.#initialize(body, info, isAnswered);
    // The client's answers (a pong to a server ping sent before the InitializeResult) pass
    // once the session id is known: holding them could deadlock the initialize.
    while (this.#gate !== undefined && !(info.kind === 'response' && this.#sessionId !== undefined)) {
      const gate = this.#gate;
      await gate.catch(() => undefined);
      if (this.#gate === gate) break;
    }
    const session = this.#sessionId;
    const sig = signal ?? this.#life.signal;
    try {
      await this.#post(body, info, this.#deliver, isAnswered, sig);
    } catch (err) {
      if (!(err instanceof SessionExpiredError) || this.#initializeBody === undefined) throw err;
      // A 404 means the server never processed the message, so one retry is safe even for
      // tools/call (DESIGN.md retry rules).
      await this.#reinitialize(session);
      await this.#post(body, info, this.#deliver, isAnswered, sig);
    }
    if (info.method === 'notifications/initialized') this.#startGetStream();
  }

  /**
   * The client's initialize. The gate opens once its result is in (session id and
   * MCP-Protocol-Version known: protocol-notes §2.2) or the POST is over, whichever is first.
   */
  async #initialize(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean): Promise<void> {
    this.#initializeBody = body;
    this.#stopGetStream();
    // A client that initializes again starts over: the old session is closed, not orphaned.
    if (this.#sessionId !== undefined) void this.#deleteSession(this.#sessionId, 2000);
    this.#sessionId = undefined;
    this.#protocolVersion = undefined;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.#gate = gate;
    const deliver: Deliver = async (m) => {
      const isResult = m.info?.kind === 'response' && m.info.id === info.id;
      if (isResult) this.#observeInitializeResult(messageValue(m));
      await this.#deliver(m);
      if (isResult) open();
    };
    try {
      await this.#post(body, info, deliver, isAnswered, this.#life.signal);
    } finally {
      open();
      if (this.#gate === gate) this.#gate = undefined;
    }
  }

  #observeInitializeResult(value: unknown): void {
    const version = (value as { result?: { protocolVersion?: unknown } }).result?.protocolVersion;
    if (typeof version !== 'string') return;
    this.#protocolVersion = version;
    this.#log.info({ protocolVersion: version, session: sessionTag(this.#sessionId) }, 'session initialized');
  }

  /** DELETE the session (spec: clients SHOULD), bounded by `timeoutMs`. 404/405 count as done. */
  async terminate(timeoutMs: number): Promise<void> {
    this.#stopGetStream();
    // A renewal under way would leave its new session behind: let it finish (briefly) so
    // that session is the one closed.
    if (this.#reinit !== undefined) await Promise.race([this.#reinit.catch(() => undefined), sleep(timeoutMs / 2)]);
    this.#stopGetStream();
    const session = this.#sessionId;
    if (session === undefined) return;
    this.#sessionId = undefined;
    await this.#deleteSession(session, timeoutMs);
  }

  async #deleteSession(session: string, timeoutMs: number): Promise<void> {
    try {
      const res = await this.#http.send(this.#request('DELETE', this.#headers(undefined, session)), AbortSignal.timeout(timeoutMs), 'control');
      res.discard();
      this.#log.info({ status: res.status, session: sessionTag(session) }, 'session closed');
    } catch (err) {
      this.#log.warn({ err, session: sessionTag(session) }, 'could not close the session');
    }
  }

  /** Aborts every stream and request still open. */
  close(): void {
    this.#stopGetStream();
    this.#life.abort();
  }

  #request(method: OutgoingRequest['method'], headers: Record<string, string>, body?: Uint8Array): OutgoingRequest {
    return { method, url: this.#endpoint, headers, body };
  }

  #headers(info: ClientMessageInfo | undefined, session = this.#sessionId): Record<string, string> {
    const h: Record<string, string> = {};
    if (session !== undefined) h['mcp-session-id'] = session;
    if (this.#protocolVersion !== undefined) h['mcp-protocol-version'] = this.#protocolVersion;
    // Mcp-Method / Mcp-Name mirror the body (MCP 2026-07-28 Streamable HTTP); older
    // servers ignore them.
    if (info?.method !== undefined && HEADER_SAFE.test(info.method)) h['mcp-method'] = info.method;
    if (info?.name !== undefined && HEADER_SAFE.test(info.name)) h['mcp-name'] = info.name;
    return h;
  }

  #captureSession(res: UpstreamResponse): void {
    const id = res.header('mcp-session-id') ?? null;
    if (id === null || id === this.#sessionId) return;
    if (!SESSION_ID.test(id)) {
      this.#log.warn('ignoring a malformed Mcp-Session-Id from the server');
      return;
    }
    this.#sessionId = id;
    this.#log.debug({ session: sessionTag(id) }, 'session id assigned');
  }

  async #post(body: Uint8Array, info: ClientMessageInfo, deliver: Deliver, isAnswered: () => boolean, signal: AbortSignal): Promise<void> {
    const headers = this.#headers(info);
    headers['content-type'] = 'application/json';
    headers.accept = 'application/json, text/event-stream';
    // Only requests are calls: notifications and the client's answers must never wait
    // behind them (a call may be waiting for that very answer).
    const res = await this.#http.send(this.#request('POST', headers, body), signal, info.kind === 'request' ? 'call' : 'control');
    // The session id comes with the InitializeResult (spec, "Session Management"); a late
    // answer from an old session must not replace the current one.
    if (info.method === 'initialize') this.#captureSession(res);
    if (res.status === 404 && headers['mcp-session-id'] !== undefined) {
      res.discard();
      throw new SessionExpiredError();
    }
    if (res.status === 202 || res.status === 204) {
      res.discard();
      return;
    }
    if (!res.ok) throw await this.#httpError(res, info, deliver);
    const type = (res.header('content-type') ?? '').toLowerCase();
    if (type.startsWith('text/event-stream')) {
      const parser = new SseParser();
      // A request's stream is done once its response is in, whether or not the server ends it
      // (spec: it SHOULD); otherwise each answered call would pin a socket for good.
      const done = info.kind === 'request' ? isAnswered : undefined;
      let { broken, rejected } = await this.#readSse(res, parser, deliver, signal, done);
      if (!isAnswered()) {
        const resumed = await this.#resume(parser, deliver, isAnswered, signal);
        broken = resumed.broken ?? broken;
        rejected = resumed.rejected ?? rejected;
      }
      if (isAnswered() || signal.aborted) return;
      // An event that could not be relayed was most likely the answer: say so, as for a
      // JSON body. A stream that broke before the answer and could not be resumed: say
      // that, not "the server did not answer" (the relay's fallback).
      if (rejected !== undefined) throw rejected;
      if (broken !== undefined) throw describeNetworkError(broken, this.#endpoint);
      return;
    }
    if (type.startsWith('application/json')) {
      let body: Buffer;
      try {
        body = await res.bytes();
      } catch (err) {
        throw describeNetworkError(err, this.#endpoint);
      }
      await this.#deliverJson(body, deliver);
      return;
    }
    const rest = await res.textCapped(1).catch(() => '');
    if (rest === '' && info.kind !== 'request') return; // 200 with no body to a notification
    throw new ProtocolError('ESP_BAD_CONTENT_TYPE', `the server answered ${info.method ?? 'a message'} with content type "${type.slice(0, 60) || 'none'}" instead of JSON or an event stream`, {
      httpStatus: res.status,
      hint: 'check that MCP_ENDPOINT is the MCP endpoint and not a web page or login redirect',
    });
  }

  async #deliverJson(raw: Buffer, deliver: Deliver): Promise<void> {
    // A UTF-8 BOM before the JSON is dropped, as a text decoder drops it.
    const body = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
    let messages: RemoteMessage[];
    try {
      const single = parseRemote(body);
      if (single.info === undefined && single.bytes[0] === 0x5b) {
        // A batch (2025-03-26 allowed them), checked by the scan: one line per message.
        messages = (JSON.parse(single.bytes.toString('utf8')) as unknown[]).map((m) => ({ bytes: Buffer.from(JSON.stringify(m)), info: describeMessage(m) }));
      } else {
        messages = [single];
      }
    } catch (err) {
      throw unrelayable(err, 'a response body');
    }
    for (const m of messages) await deliver(m);
  }

  /**
   * Streams SSE events to `deliver` one at a time; never accumulates the stream. Reports the
   * error that broke the stream, if one did (not when `signal` aborted it), and the last
   * event that could not be relayed.
   */
  async #readSse(res: UpstreamResponse, parser: SseParser, deliver: Deliver, signal: AbortSignal, done?: () => boolean): Promise<SseOutcome> {
    const outcome: SseOutcome = {};
    const relay = async (events: SseEvent[]) => {
      for (const ev of events) outcome.rejected = (await this.#deliverEvent(ev.event, ev.data, deliver)) ?? outcome.rejected;
    };
    try {
      for await (const chunk of res.chunks()) {
        await relay(parser.push(chunk));
        if (done?.()) {
          res.discard();
          return outcome;
        }
      }
      await relay(parser.end());
    } catch (err) {
      if (signal.aborted) return outcome;
      this.#log.warn({ code: (err as { code?: string }).code, resumable: parser.sawId }, 'event stream from the server broke off');
      outcome.broken = err;
    }
    return outcome;
  }

  /** Relays one event; returns the error when its data cannot be relayed (it is dropped). */
  async #deliverEvent(event: string, data: Buffer, deliver: Deliver): Promise<ProtocolError | undefined> {
    if (event !== 'message' || data.length === 0) return undefined; // priming and keep-alive events carry no message
    let msg: RemoteMessage;
    try {
      msg = parseRemote(data);
    } catch (err) {
      const rejected = unrelayable(err, 'an event');
      this.#log.warn({ bytes: data.length, code: rejected.code }, 'dropped an event that cannot be relayed');
      return rejected;
    }
    await deliver(msg);
    return undefined;
  }

  /**
   * A POST stream that ended before the response, after events with ids: resume with GET +
   * Last-Event-ID (MCP 2025-11-25 "Resumability and Redelivery"; servers may close after
   * priming and expect the client to poll).
   */
  async #resume(parser: SseParser, deliver: Deliver, isAnswered: () => boolean, signal: AbortSignal): Promise<SseOutcome> {
    const outcome: SseOutcome = {};
    for (let attempt = 0; attempt < RESUME_ATTEMPTS && !isAnswered() && parser.sawId && parser.lastEventId !== undefined; attempt++) {
      await sleep(clampRetry(parser.retryMs, 500), signal);
      if (signal.aborted) return {};
      const headers = this.#headers(undefined);
      headers.accept = 'text/event-stream';
      headers['last-event-id'] = parser.lastEventId;
      const res = await this.#http.send(this.#request('GET', headers), signal);
      if (!res.ok || !(res.header('content-type') ?? '').startsWith('text/event-stream')) {
        res.discard();
        this.#log.warn({ status: res.status }, 'the server refused to resume a broken stream');
        return outcome;
      }
      const cursor = parser.lastEventId;
      const next = await this.#readSse(res, parser, deliver, signal, isAnswered);
      outcome.broken = next.broken;
      outcome.rejected = next.rejected ?? outcome.rejected;
      // A clean end that moved the cursor is a server polling us along (2025-11-25 servers
      // behind gateways with short limits), not a failure: keep following it. The client's
      // notifications/cancelled still ends this loop through `signal`.
      if (next.broken === undefined && parser.lastEventId !== cursor) attempt = -1;
    }
    return outcome;
  }

  async #httpError(res: UpstreamResponse, info: ClientMessageInfo, deliver: Deliver): Promise<ProxyError> {
    const text = await res.textCapped(64 * 1024);
    // A JSON-RPC error answering this very request is a real MCP answer: forward it.
    if (info.kind === 'request' && text !== '') {
      try {
        const msg = parseRemote(text.trim());
        if (msg.info?.kind === 'response' && msg.info.id === info.id && typeof (messageValue(msg) as { error?: unknown }).error === 'object') {
          await deliver(msg);
        }
      } catch {
        // Not JSON: summarised below.
      }
    }
    this.#log.warn({ status: res.status, method: info.method, bytes: text.length }, 'the server answered with an HTTP error');
    return new UpstreamHttpError(`ESP_HTTP_${res.status}`, `the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} to ${info.method ?? 'a response'} at ${safeUrl(this.#endpoint)}`, {
      httpStatus: res.status,
      hint: hintForStatus(res.status),
      retryable: res.status === 429 || res.status === 503,
    });
  }

  async #reinitialize(failedSession: string | undefined): Promise<void> {
    // Join a renewal under way; otherwise start one unless this session was already renewed.
    if (this.#reinit === undefined) {
      if (this.#sessionId !== failedSession) {
        await this.#gate?.catch(() => undefined);
        return;
      }
      const renewal = this.#startNewSession().catch((err: unknown) => {
        // Keep the dead id: the next request meets 404 again and tries another renewal,
        // instead of every later request going out with no session at all.
        if (this.#sessionId === undefined) this.#sessionId = failedSession;
        throw new ProtocolError('ESP_SESSION_RENEWAL_FAILED', `the server ended the MCP session (HTTP 404) and starting a new one failed: ${err instanceof ProxyError ? err.message : 'unexpected error'}`, {
          hint: 'the next request tries again; if it keeps failing, restart the MCP server connection in your client',
        });
      });
      this.#reinit = renewal;
      this.#gate = renewal;
      void renewal.catch(() => undefined).finally(() => {
        if (this.#reinit === renewal) this.#reinit = undefined;
        if (this.#gate === renewal) this.#gate = undefined;
      });
    }
    await this.#reinit;
  }

  /**
   * Protocol-notes §2.3 recipe: replay the client's initialize with a proxy-private id
   * (never forwarded), take the new session id, send notifications/initialized, reopen the
   * GET stream.
   */
  async #startNewSession(): Promise<void> {
    const init = this.#initializeBody as Uint8Array;
    this.#stopGetStream();
    this.#sessionId = undefined;
    const id = `mcp-signing-proxy-reinit-${++this.#reinitCount}`;
    const replay = JSON.parse(Buffer.from(init).toString('utf8')) as Record<string, unknown>;
    replay.id = id;
    let result: Record<string, unknown> | undefined;
    const capture: Deliver = async (m) => {
      if (m.info?.kind === 'response' && m.info.id === id) result = messageValue(m) as Record<string, unknown>;
    };
    this.#log.warn('the server ended the session (HTTP 404); starting a new one and retrying');
    await this.#post(Buffer.from(JSON.stringify(replay)), { kind: 'request', id, method: 'initialize', name: undefined }, capture, () => result !== undefined, this.#life.signal);
    const version = (result?.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof version !== 'string' || this.#sessionId === undefined) throw new SessionExpiredError();
    this.#protocolVersion = version;
    await this.#post(INITIALIZED, { kind: 'notification', id: undefined, method: 'notifications/initialized', name: undefined }, capture, () => true, this.#life.signal);
    this.#log.info({ session: sessionTag(this.#sessionId) }, 'new session started');
    this.#startGetStream();
  }

  #startGetStream(): void {
    this.#stopGetStream();
    const ctl = new AbortController();
    this.#getStream = ctl;
    const signal = AbortSignal.any([ctl.signal, this.#life.signal]);
    this.#runGetStream(signal).catch((err) => this.#log.warn({ err }, 'server event stream stopped'));
  }

  #stopGetStream(): void {
    this.#getStream?.abort();
    this.#getStream = undefined;
  }

  /**
   * The standalone GET stream for server-initiated messages (list_changed, requests not tied
   * to a POST). 405 means the server offers none. Reconnects with backoff (or the server's
   * retry:) and Last-Event-ID, indefinitely while it keeps working: idle-killing proxies
   * would otherwise silently end notifications (protocol-notes §2.4).
   */
  async #runGetStream(signal: AbortSignal): Promise<void> {
    const parser = new SseParser();
    let failures = 0;
    while (!signal.aborted) {
      const headers = this.#headers(undefined);
      headers.accept = 'text/event-stream';
      if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
      try {
        const res = await this.#http.send(this.#request('GET', headers), signal, 'stream');
        const type = res.header('content-type') ?? '';
        if (res.status === 405 || (res.ok && !type.startsWith('text/event-stream'))) {
          res.discard();
          this.#log.debug({ status: res.status }, 'the server offers no standalone event stream');
          return;
        }
        if (!res.ok) {
          res.discard();
          failures++;
          this.#log.warn({ status: res.status, failures }, 'could not open the server event stream');
          if (res.status === 409 || failures >= GET_MAX_FAILURES) return this.#giveUpGetStream(failures);
        } else {
          this.#log.debug('server event stream open');
          const opened = Date.now();
          const cursor = parser.lastEventId;
          let delivered = 0;
          await this.#readSse(res, parser, (m) => (delivered++, this.#deliver(m)), signal);
          // A stream that lived a while, carried messages or moved its event cursor (a server
          // that polls) was healthy; one that ends at once, empty, counts against the limit
          // (no reconnect loop against a bad gateway).
          if (delivered > 0 || parser.lastEventId !== cursor || Date.now() - opened >= GET_MIN_HEALTHY_MS) failures = 0;
          else if (++failures >= GET_MAX_FAILURES) return this.#giveUpGetStream(failures);
        }
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        this.#log.warn({ code: (err as ProxyError).code, failures }, 'server event stream failed');
        if (failures >= GET_MAX_FAILURES) return this.#giveUpGetStream(failures);
      }
      await sleep(clampRetry(parser.retryMs, Math.min(30_000, 1000 * 1.5 ** failures)), signal);
    }
  }

  #giveUpGetStream(failures: number): void {
    this.#log.warn({ failures }, 'gave up on the server event stream: server-initiated messages (list_changed, requests outside a call) will not arrive until the session is renewed');
  }
}
