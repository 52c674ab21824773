import { setMaxListeners } from 'node:events';
import { ProtocolError, ProxyError } from '../../errors.js';
import { idKey, type ClientMessageInfo, type JsonRpcId } from '../../jsonrpc.js';
import type { Logger } from '../../logging/logger.js';
import { safeUrl } from '../../logging/safe-url.js';
import { sleep } from '../abortable-sleep.js';
import type { HttpClient } from '../http-client.js';
import { describeNetworkError } from '../network-errors.js';
import { type Deliver, type RemoteMessage, type RemoteTransport } from '../remote-transport.js';
import { httpError } from '../streamable-http/http-status.js';
import { openLegacyStream } from './stream.js';

export interface LegacySseOptions {
  endpoint: URL;
  http: HttpClient;
  logger: Logger;
  /** Longest wait for the HTTP answer (202) to one POST; the JSON-RPC answer is not bounded. */
  postTimeoutMs?: number;
  /** Longest wait for the `endpoint` event after the GET is answered. */
  endpointTimeoutMs?: number;
  /** Pause before the first reconnect after the stream drops; doubles per failed try. */
  reconnectDelayMs?: number;
}

const INITIALIZED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}');
/** Reconnects in a row that fail, or sessions that drop at once, before the proxy gives up. */
const MAX_RECONNECTS = 5;
/** A session that lived this long was healthy: the count of failures starts over. */
const HEALTHY_MS = 10_000;
/** Errors for unrelayable answers kept, per session, until their request looks for them. */
const MAX_REJECTED = 256;

interface Session {
  readonly postUrl: URL;
  /** Aborted when the session ends, for whatever reason; `endReason` says why. */
  readonly ctl: AbortController;
  readonly openedAt: number;
  /** Requests waiting for their answer: checked after every message relayed. */
  readonly waiters: Set<() => void>;
  /** Answers that came but could not be relayed, by idKey: the request with that id gets the error. */
  readonly rejected: Map<string, ProxyError>;
  endReason?: ProxyError;
}

/**
 * The client side of the 2024-11-05 HTTP+SSE transport
 * (https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse):
 * one GET event stream per session, whose first event names the URI every client message
 * is POSTed to; every server message, answers included, arrives on that stream.
 *
 * The stream is the session: when it drops, the server has forgotten the session. The
 * proxy then opens a new one and replays the client's initialize under a private id (as
 * after a Streamable HTTP 404), so the client keeps working; requests in flight lose their
 * answer and are answered with an error that says so.
 */
export class LegacySseTransport implements RemoteTransport {
  readonly #endpoint: URL;
  readonly #http: HttpClient;
  readonly #log: Logger;
  readonly #postTimeoutMs: number;
  readonly #endpointTimeoutMs: number;
  readonly #reconnectDelayMs: number;
  readonly #life = new AbortController();
  #deliver: Deliver = () => Promise.reject(new ProxyError('ESP_NOT_READY', 'the proxy is not connected'));

  /** The session ready for messages, or being opened (a reconnect). */
  #session: Promise<Session> | undefined;
  /** The client's initialize, replayed on a new session; notifications/initialized sent too once the client sent it. */
  #initializeBody: Uint8Array | undefined;
  #initialized = false;
  #reinitCount = 0;
  /** Sessions in a row that dropped at once or could not be opened. */
  #strikes = 0;
  /** Set once the server kept dropping: every later message gets it, until the client initializes again. */
  #failed: ProxyError | undefined;

  constructor(opts: LegacySseOptions) {
    this.#endpoint = opts.endpoint;
    this.#http = opts.http;
    this.#log = opts.logger;
    this.#postTimeoutMs = opts.postTimeoutMs ?? 30_000;
    this.#endpointTimeoutMs = opts.endpointTimeoutMs ?? 30_000;
    this.#reconnectDelayMs = opts.reconnectDelayMs ?? 500;
    setMaxListeners(0, this.#life.signal);
  }

  transportName(): string {
    return 'sse';
  }

  start(deliver: Deliver): void {
    this.#deliver = deliver;
  }

  async send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    const sig = signal ?? this.#life.signal;
    if (info.method === 'initialize') {
      // A client that initializes again starts over on a session of its own.
      this.#initializeBody = body;
      this.#initialized = false;
      this.#failed = undefined;
      this.#strikes = 0;
      this.#endSession();
      this.#session = this.#open(undefined);
    }
    if (this.#failed !== undefined) throw this.#failed;
    const opening = (this.#session ??= this.#open(undefined));
    let session: Session;
    try {
      session = await opening;
    } catch (err) {
      // The next message tries again (a renewal that gave up has set #failed instead).
      if (this.#session === opening) this.#session = undefined;
      throw err;
    }
    // An error left for an earlier request with this id is not this one's.
    if (info.kind === 'request' && info.id !== undefined) session.rejected.delete(idKey(info.id));
    let status = await this.#post(session, body, info, sig);
    if (status === 404 && info.method !== 'initialize') {
      // The server no longer knows the session and did not process the message: one retry
      // on a new session is safe, as after a Streamable HTTP 404 (docs/architecture.md).
      session = await this.#renew(session, 'the server answered HTTP 404 to a message (the session is gone)');
      status = await this.#post(session, body, info, sig);
    }
    if (status === 404) throw this.#postError(404, info);
    if (info.method === 'notifications/initialized') this.#initialized = true;
    if (info.kind === 'request') await this.#answered(session, info, isAnswered, sig);
  }

  /** Legacy HTTP+SSE has no DELETE: closing the event stream ends the session. */
  async terminate(): Promise<void> {
    this.#endSession();
  }

  close(): void {
    this.#endSession();
    this.#life.abort();
  }

  #endSession(): void {
    const current = this.#session;
    this.#session = undefined;
    void current?.then((s) => s.ctl.abort(), () => undefined);
  }

  /** POSTs one message to the session's URI; returns the status (404 is the caller's). */
  async #post(session: Session, body: Uint8Array, info: ClientMessageInfo, signal: AbortSignal): Promise<number> {
    // A server that lost the session may never answer the POST (the SDK's sample servers
    // leave it hanging): the HTTP answer is bounded, the JSON-RPC answer is not.
    const timeout = AbortSignal.timeout(this.#postTimeoutMs);
    const sig = AbortSignal.any([signal, timeout, session.ctl.signal]);
    const req = { method: 'POST' as const, url: session.postUrl, headers: { 'content-type': 'application/json' }, body };
    let res;
    try {
      res = await this.#http.send(req, sig, info.kind === 'request' ? 'call' : 'control');
    } catch (err) {
      if (timeout.aborted && !signal.aborted) {
        // The wait for a free connection (--max-connections) happens inside send and counts too.
        throw new ProtocolError('ESP_POST_TIMEOUT', `the legacy SSE server did not answer the POST of ${info.method ?? 'a response'} within ${Math.round(this.#postTimeoutMs / 1000)} s (including the wait for a free connection)`, {
          hint: 'the server may have lost the session; restart the MCP server connection in your client, and check the server logs',
        });
      }
      if (session.ctl.signal.aborted && !signal.aborted) throw this.#lost(session, info);
      throw err instanceof ProxyError ? err : describeNetworkError(err, session.postUrl);
    }
    if (res.status === 404) {
      res.discard();
      return 404;
    }
    if (!res.ok) throw await httpError(res, info, this.#deliver, session.postUrl, this.#log);
    res.discard();
    return res.status;
  }

  #postError(status: number, info: ClientMessageInfo): ProxyError {
    return new ProtocolError(`ESP_HTTP_${status}`, `the legacy SSE server answered HTTP ${status} to ${info.method ?? 'a response'} at its message endpoint`, {
      httpStatus: status,
      hint: 'restart the MCP server connection in your client, and check the server logs',
    });
  }

  /** Resolves once the request is answered or cancelled; rejects when the session ends first. */
  #answered(session: Session, info: ClientMessageInfo, isAnswered: () => boolean, signal: AbortSignal): Promise<void> {
    const ended = session.ctl.signal;
    const key = info.id === undefined ? undefined : idKey(info.id);
    if (isAnswered() || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        const rejected = key === undefined ? undefined : session.rejected.get(key);
        if (!isAnswered() && !signal.aborted && !ended.aborted && rejected === undefined) return;
        session.waiters.delete(check);
        signal.removeEventListener('abort', check);
        ended.removeEventListener('abort', check);
        if (isAnswered() || signal.aborted) return resolve();
        if (rejected !== undefined) {
          session.rejected.delete(key as string);
          return reject(rejected);
        }
        reject(this.#lost(session, info));
      };
      signal.addEventListener('abort', check);
      ended.addEventListener('abort', check);
      session.waiters.add(check);
      // The error may have come on the stream before the POST was answered.
      check();
    });
  }

  /** The error for a message whose session ended under it: its answer, if any, is lost. */
  #lost(session: Session, info: ClientMessageInfo): ProxyError {
    const why = session.endReason?.message ?? 'the session was closed';
    return new ProtocolError('ESP_STREAM_LOST', `the legacy SSE session ended while ${info.method ?? 'a response'} was in flight, so its answer is lost (${why})`, {
      hint: 'retry the request; the proxy opens a new session',
    });
  }

  /**
   * Opens a session: the GET stream, its endpoint, and (on a reconnect) the client's
   * initialize replayed under a private id, then notifications/initialized.
   */
  async #open(replay: Uint8Array | undefined): Promise<Session> {
    const ctl = new AbortController();
    const signal = AbortSignal.any([ctl.signal, this.#life.signal]);
    const waiters = new Set<() => void>();
    const rejected = new Map<string, ProxyError>();
    let replayId: string | undefined;
    let replayResult: unknown;
    const deliver: Deliver = async (m: RemoteMessage) => {
      if (replayId !== undefined && m.info?.kind === 'response' && m.info.id === replayId) {
        replayResult = JSON.parse(m.bytes.toString('utf8'));
      } else {
        await this.#deliver(m);
      }
      for (const check of [...waiters]) check();
    };
    const reject = (id: JsonRpcId, err: ProxyError) => {
      rejected.set(idKey(id), err);
      // Errors for ids no request is waiting for are not kept for ever.
      if (rejected.size > MAX_REJECTED) rejected.delete(rejected.keys().next().value as string);
      for (const check of [...waiters]) check();
    };
    const stream = await openLegacyStream(this.#endpoint, this.#http, this.#log, deliver, reject, signal, this.#endpointTimeoutMs);
    const session: Session = { postUrl: stream.postUrl, ctl, openedAt: Date.now(), waiters, rejected };
    void stream.ended.then((err) => this.#ended(session, err));
    if (replay === undefined) return session;
    try {
      await this.#replay(session, replay, signal, (id) => (replayId = id), () => replayResult);
    } catch (err) {
      ctl.abort();
      throw err;
    }
    return session;
  }

  /** The client's initialize again, under a private id the client never sees, on a new session. */
  async #replay(session: Session, replay: Uint8Array, signal: AbortSignal, expect: (id: string) => void, result: () => unknown): Promise<void> {
    const id = `mcp-signing-proxy-reinit-${++this.#reinitCount}`;
    expect(id);
    const message = JSON.parse(Buffer.from(replay).toString('utf8')) as Record<string, unknown>;
    message.id = id;
    const info: ClientMessageInfo = { kind: 'request', id, method: 'initialize', name: undefined };
    const status = await this.#post(session, Buffer.from(JSON.stringify(message)), info, signal);
    if (status === 404) throw this.#postError(404, info);
    await this.#answered(session, info, () => result() !== undefined, signal);
    if (session.ctl.signal.aborted) throw session.endReason ?? new ProtocolError('ESP_STREAM_ENDED', 'the server ended the event stream');
    if ((result() as { result?: unknown } | undefined)?.result === undefined) {
      throw new ProtocolError('ESP_SESSION_RENEWAL_FAILED', 'the legacy SSE server refused the replayed initialize on the new session', { hint: 'restart the MCP server connection in your client' });
    }
    if (this.#initialized) {
      await this.#post(session, INITIALIZED, { kind: 'notification', id: undefined, method: 'notifications/initialized', name: undefined }, signal);
    }
    this.#log.info({ postUrl: safeUrl(session.postUrl) }, 'new legacy SSE session started');
  }

  /** The session's stream ended: answer what waited on it and, unless we closed it, reconnect. */
  #ended(session: Session, err: ProxyError | undefined): void {
    if (session.ctl.signal.aborted || this.#life.signal.aborted) return;
    const reason = err ?? new ProtocolError('ESP_STREAM_ENDED', 'the server ended the event stream');
    session.endReason = reason;
    session.ctl.abort();
    this.#log.warn({ code: reason.code }, 'the legacy SSE event stream closed; opening a new session');
    void this.#renew(session, reason.message).catch(() => undefined);
  }

  /**
   * Replaces `failed` with a new session (shared by every caller that noticed), retrying
   * with backoff; after MAX_RECONNECTS failures in a row every message gets a final error.
   */
  #renew(failed: Session, reason: string): Promise<Session> {
    const current = this.#session;
    const replacing = current === undefined ? Promise.resolve(undefined) : current.then((s) => s, () => undefined);
    const next = replacing.then(async (s) => {
      if (s !== undefined && s !== failed) return s; // already renewed
      failed.ctl.abort();
      if (this.#initializeBody === undefined) return this.#open(undefined);
      // A session that lived a while was healthy; one that dropped at once counts, like a
      // failed reconnect, towards giving up.
      if (Date.now() - failed.openedAt >= HEALTHY_MS) this.#strikes = 0;
      else this.#strikes++;
      let lastError: unknown;
      while (this.#strikes < MAX_RECONNECTS && !this.#life.signal.aborted) {
        await sleep(Math.min(30_000, this.#reconnectDelayMs * 2 ** this.#strikes), this.#life.signal);
        if (this.#life.signal.aborted) break;
        try {
          return await this.#open(this.#initializeBody);
        } catch (err) {
          lastError = err;
          this.#strikes++;
          this.#log.warn({ code: (err as ProxyError).code, strikes: this.#strikes }, 'could not open a new legacy SSE session');
        }
      }
      const detail = lastError instanceof ProxyError ? `; last try: ${lastError.message}` : '';
      this.#failed = new ProtocolError('ESP_SESSION_LOST', `the legacy SSE server keeps closing the session (${reason})${detail}; the proxy gave up after ${MAX_RECONNECTS} tries`, {
        hint: 'check the server logs, then restart the MCP server connection in your client',
      });
      throw this.#failed;
    });
    this.#session = next;
    void next.catch(() => undefined);
    return next;
  }
}
