import { setMaxListeners } from 'node:events';
import { ProtocolError, ProxyError } from '../../errors.js';
import { idKey, type ClientMessageInfo } from '../../jsonrpc.js';
import { sessionTag, type Logger } from '../../logging/logger.js';
import { sleep } from '../abortable-sleep.js';
import type { HttpClient } from '../http-client.js';
import { messageValue, type Deliver, type RemoteTransport } from '../remote-transport.js';
import { retryRules } from '../retry-rules.js';
import { GetStream } from './get-stream.js';
import { isModern } from './era.js';
import { SessionExpiredError } from './http-status.js';
import { holdListen, LISTEN, type ListenRetry } from './listen.js';
import { postMessage } from './post.js';
import { SessionState } from './session-state.js';
import type { ToolHeaders } from './tool-headers.js';

export interface StreamableHttpOptions {
  endpoint: URL;
  http: HttpClient;
  logger: Logger;
  /** The tools' x-mcp-header annotations (Mcp-Param-* headers), kept by the relay. */
  toolHeaders?: ToolHeaders;
  /** When a dropped subscriptions/listen is sent again (listen.ts); tests shorten it. */
  listenRetry?: ListenRetry;
}

const INITIALIZED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}');
/**
 * How long the client's messages after notifications/initialized wait for the GET stream
 * to be answered: a server that is slow to send its headers must not stall the session.
 */
const GET_OPEN_WAIT_MS = 500;

/**
 * The MCP Streamable HTTP client side (spec 2025-03-26 … 2025-11-25 "Streamable HTTP"),
 * written on our HTTP client rather than the SDK's transport, which drops unknown envelope
 * keys, never sets MCP-Protocol-Version in a relay and ignores 404 expiry.
 *
 * This class owns the session: the initialize gate, renewal after a 404, the DELETE at the
 * end. The POST exchange is in post.ts, the standalone GET stream in get-stream.ts, the
 * mapping of HTTP statuses to errors in http-status.ts.
 */
export class StreamableHttpTransport implements RemoteTransport {
  readonly #s: SessionState;
  readonly #log: Logger;
  readonly #life = new AbortController();
  readonly #getStream: GetStream;
  #deliver: Deliver = () => Promise.reject(new ProxyError('ESP_NOT_READY', 'the proxy is not connected'));

  /** The client's initialize, replayed when the server loses the session. */
  #initializeBody: Uint8Array | undefined;
  /**
   * Nothing is sent while an initialize is under way: its response brings the session id
   * and the protocol version every later request must carry.
   */
  #gate: Promise<unknown> | undefined;
  #reinit: Promise<void> | undefined;
  #reinitCount = 0;
  /**
   * Set from the moment notifications/initialized is handed over until the GET stream it
   * opens is answered: what the client sends after it waits, as the SDK client's own order
   * has it, so a request the server sends on that stream right away is not lost.
   */
  #streamOpening: Promise<void> | undefined;
  /**
   * The 2026-07-28 requests in flight, by id: closing a request's stream is how such a
   * request is cancelled (https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/cancellation).
   */
  readonly #modern = new Map<string, AbortController>();
  readonly #listenRetry: ListenRetry | undefined;

  constructor(opts: StreamableHttpOptions) {
    this.#s = new SessionState(opts.endpoint, opts.http, opts.logger, opts.toolHeaders);
    this.#log = opts.logger;
    this.#listenRetry = opts.listenRetry;
    // Every request in flight listens on this signal; dozens at once are normal.
    setMaxListeners(0, this.#life.signal);
    this.#getStream = new GetStream(this.#s, this.#life.signal);
  }

  start(deliver: Deliver): void {
    this.#deliver = deliver;
  }

  hasSession(): boolean {
    return this.#s.id !== undefined;
  }

  /**
   * Sends one client message and streams everything the server answers on that POST to the
   * client. `isAnswered` tells whether the response to this request has been delivered (for
   * SSE resumption after a dropped stream); `signal` cancels it (notifications/cancelled).
   */
  async send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    if (info.method === 'initialize') return this.#initialize(body, info, isAnswered);
    // Taken before any await: the relay calls send in the client's order.
    const opening = this.#streamOpening;
    if (info.method === 'notifications/initialized') {
      let opened!: () => void;
      const streamOpening = new Promise<void>((resolve) => (opened = resolve));
      this.#streamOpening = streamOpening;
      try {
        await this.#post(body, info, isAnswered, signal);
        await this.#openGetStream();
      } finally {
        opened();
        if (this.#streamOpening === streamOpening) this.#streamOpening = undefined;
      }
      return;
    }
    // The client's answers pass: the server may be waiting for one to finish a request.
    if (opening !== undefined && info.kind !== 'response') await opening;
    if (info.cancels !== undefined && this.#cancelModern(info)) return;
    if (info.kind === 'request' && info.id !== undefined && (info.method === LISTEN || isModern(info, this.#s.protocolVersion))) return this.#sendModern(body, info, info.id, isAnswered, signal);
    await this.#post(body, info, isAnswered, signal);
  }

  /**
   * A 2026-07-28 request (subscriptions/listen exists in no other revision): its stream can
   * be closed by the client's notifications/cancelled, and a listen is held open (listen.ts).
   */
  async #sendModern(body: Uint8Array, info: ClientMessageInfo, id: string | number, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    const key = idKey(id);
    const ctl = new AbortController();
    this.#modern.set(key, ctl);
    // The transport's end stops a listen between two attempts too.
    const sig = AbortSignal.any(signal === undefined ? [ctl.signal, this.#life.signal] : [ctl.signal, signal, this.#life.signal]);
    try {
      if (info.method !== LISTEN) return await this.#post(body, info, isAnswered, sig);
      await holdListen((deliver) => this.#post(body, info, isAnswered, sig, deliver), info, this.#deliver, isAnswered, sig, this.#log, this.#listenRetry);
    } finally {
      if (this.#modern.get(key) === ctl) this.#modern.delete(key);
    }
  }

  /**
   * The client cancels a 2026-07-28 request: its stream is closed, which is the
   * cancellation on Streamable HTTP; the notification itself is not sent, as this revision
   * defines no client notifications over HTTP
   * (https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http).
   */
  #cancelModern(info: ClientMessageInfo): boolean {
    const key = info.cancels === undefined ? undefined : idKey(info.cancels);
    const ctl = key === undefined ? undefined : this.#modern.get(key);
    if (key === undefined || ctl === undefined) return false;
    this.#modern.delete(key);
    ctl.abort();
    this.#log.debug({ id: info.cancels }, 'closed the stream of a cancelled request');
    return true;
  }

  async #post(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal, deliver = this.#deliver): Promise<void> {
    // The client's answers (a pong to a server ping sent before the InitializeResult) pass
    // once the session id is known: holding them could deadlock the initialize.
    while (this.#gate !== undefined && !(info.kind === 'response' && this.#s.id !== undefined)) {
      const gate = this.#gate;
      await gate.catch(() => undefined);
      if (this.#gate === gate) break;
    }
    const session = this.#s.id;
    const sig = signal ?? this.#life.signal;
    try {
      await postMessage(this.#s, body, info, deliver, isAnswered, sig);
    } catch (err) {
      if (!(err instanceof SessionExpiredError) || this.#initializeBody === undefined || !retryRules(info.method).has('session-expired')) throw err;
      await this.#reinitialize(session);
      await postMessage(this.#s, body, info, deliver, isAnswered, sig);
    }
  }

  /** Starts the GET stream and waits, bounded, until the server has answered it. */
  async #openGetStream(): Promise<void> {
    const bound = new AbortController();
    const answered = this.#getStream.start(this.#deliver).then(() => true);
    const late = sleep(GET_OPEN_WAIT_MS, AbortSignal.any([bound.signal, this.#life.signal])).then(() => false);
    const inTime = await Promise.race([answered, late]);
    bound.abort();
    if (!inTime) this.#log.debug({ waitedMs: GET_OPEN_WAIT_MS }, 'the server event stream is slow to open; sending on without it');
  }

  /**
   * The client's initialize. The gate opens once its result is in (session id and
   * MCP-Protocol-Version known) or the POST is over, whichever is first.
   */
  async #initialize(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean): Promise<void> {
    this.#initializeBody = body;
    this.#getStream.stop();
    // A client that initializes again starts over: the old session is closed, not orphaned.
    if (this.#s.id !== undefined) void this.#deleteSession(this.#s.id, 2000);
    this.#s.id = undefined;
    this.#s.protocolVersion = undefined;
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
      await postMessage(this.#s, body, info, deliver, isAnswered, this.#life.signal);
    } finally {
      open();
      if (this.#gate === gate) this.#gate = undefined;
    }
  }

  #observeInitializeResult(value: unknown): void {
    const version = (value as { result?: { protocolVersion?: unknown } }).result?.protocolVersion;
    if (typeof version !== 'string') return;
    this.#s.protocolVersion = version;
    this.#log.info({ protocolVersion: version, session: sessionTag(this.#s.id) }, 'session initialized');
  }

  /** DELETE the session (spec: clients SHOULD), bounded by `timeoutMs`. 404/405 count as done. */
  async terminate(timeoutMs: number): Promise<void> {
    this.#getStream.stop();
    // A renewal under way would leave its new session behind: let it finish (briefly) so
    // that session is the one closed.
    if (this.#reinit !== undefined) await Promise.race([this.#reinit.catch(() => undefined), sleep(timeoutMs / 2)]);
    this.#getStream.stop();
    const session = this.#s.id;
    if (session === undefined) return;
    this.#s.id = undefined;
    await this.#deleteSession(session, timeoutMs);
  }

  async #deleteSession(session: string, timeoutMs: number): Promise<void> {
    try {
      const res = await this.#s.http.send(this.#s.request('DELETE', this.#s.headers(undefined, session)), AbortSignal.timeout(timeoutMs), 'control');
      res.discard();
      this.#log.info({ status: res.status, session: sessionTag(session) }, 'session closed');
    } catch (err) {
      this.#log.warn({ err, session: sessionTag(session) }, 'could not close the session');
    }
  }

  close(): void {
    this.#getStream.stop();
    this.#life.abort();
  }

  async #reinitialize(failedSession: string | undefined): Promise<void> {
    // Join a renewal under way; otherwise start one unless this session was already renewed.
    if (this.#reinit === undefined) {
      if (this.#s.id !== failedSession) {
        await this.#gate?.catch(() => undefined);
        return;
      }
      const renewal = this.#startNewSession().catch((err: unknown) => {
        // Keep the dead id: the next request meets 404 again and tries another renewal,
        // instead of every later request going out with no session at all.
        if (this.#s.id === undefined) this.#s.id = failedSession;
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
   * Spec 2025-11-25, "Session Management": on 404 the client MUST start a new session.
   * Replay the client's initialize with a proxy-private id (never forwarded), take the new
   * session id, send notifications/initialized, reopen the GET stream.
   */
  async #startNewSession(): Promise<void> {
    const init = this.#initializeBody as Uint8Array;
    this.#getStream.stop();
    this.#s.id = undefined;
    const id = `mcp-signing-proxy-reinit-${++this.#reinitCount}`;
    const replay = JSON.parse(Buffer.from(init).toString('utf8')) as Record<string, unknown>;
    replay.id = id;
    let result: Record<string, unknown> | undefined;
    const capture: Deliver = async (m) => {
      if (m.info?.kind === 'response' && m.info.id === id) result = messageValue(m) as Record<string, unknown>;
    };
    this.#log.warn('the server ended the session (HTTP 404); starting a new one and retrying');
    await postMessage(this.#s, Buffer.from(JSON.stringify(replay)), { kind: 'request', id, method: 'initialize', name: undefined }, capture, () => result !== undefined, this.#life.signal);
    const version = (result?.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof version !== 'string' || this.#s.id === undefined) throw new SessionExpiredError();
    this.#s.protocolVersion = version;
    await postMessage(this.#s, INITIALIZED, { kind: 'notification', id: undefined, method: 'notifications/initialized', name: undefined }, capture, () => true, this.#life.signal);
    this.#log.info({ session: sessionTag(this.#s.id) }, 'new session started');
    await this.#openGetStream();
  }
}
