import { InvalidMessageError, JSONRPC_INVALID_REQUEST, ProtocolError, ProxyError, toJsonRpcError } from './errors.js';
import { errorResponse, idKey, type ClientMessageInfo, type JsonRpcId } from './jsonrpc.js';
import type { Logger } from './logging/logger.js';
import { HookChain, type RelayHook, type RequestContext } from './relay/hooks.js';
import { classifyLine } from './stdio/classify-line.js';
import type { StdoutWriter } from './stdio/stdout-writer.js';
import { messageValue, type RemoteMessage, type RemoteTransport } from './transport/remote-transport.js';

export interface RelayOptions {
  writer: StdoutWriter;
  logger: Logger;
  /** How long in-flight requests may still finish after stdin ends or a signal. */
  graceMs?: number;
  /** Bound on the DELETE of the session at shutdown (the client kills us ~2 s after EOF). */
  deleteTimeoutMs?: number;
  /** Policy, audit, caps …, run in this order (relay/hooks.ts). */
  hooks?: readonly RelayHook[];
}

interface Pending extends RequestContext {
  /** Aborts the POST: on notifications/cancelled and at shutdown. */
  readonly abort: AbortController;
}

/**
 * Routes messages between the client (stdio) and the remote. Every client request gets
 * exactly one answer: the server's, or an error saying why there is none (docs/architecture.md,
 * "One message, server to client"). Notifications and the client's own responses are never answered.
 */
export class Relay {
  readonly #writer: StdoutWriter;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #deleteTimeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #tasks = new Set<Promise<void>>();
  /** Undefined without hooks: then the relay does no per-message work for them. */
  readonly #hooks: HookChain | undefined;
  #transport: RemoteTransport | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: RelayOptions) {
    this.#writer = opts.writer;
    this.#log = opts.logger;
    this.#graceMs = opts.graceMs ?? 500;
    this.#deleteTimeoutMs = opts.deleteTimeoutMs ?? 800;
    this.#hooks = opts.hooks?.length ? new HookChain(opts.hooks, opts.logger) : undefined;
  }

  attach(transport: RemoteTransport): void {
    this.#transport = transport;
    transport.start(this.deliver);
  }

  /** Receives every message the remote sends, on any stream. */
  readonly deliver = async (msg: RemoteMessage): Promise<void> => {
    const info = msg.info;
    if (info === undefined) {
      this.#log.warn('dropped a message from the server that is not JSON-RPC');
      return;
    }
    let pending: Pending | undefined;
    if (info.kind === 'response') {
      pending = info.id === undefined ? undefined : this.#pending.get(idKey(info.id));
      if (pending === undefined) {
        // Never two answers for one id, nothing the client cannot route, nothing for a
        // request it cancelled (https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/cancellation).
        this.#log.warn({ id: info.id ?? null }, 'dropped a response that matches no open request');
        return;
      }
    }
    if (info.kind === 'notification' && info.method === 'notifications/cancelled') this.#serverCancelled(msg);
    let out = msg;
    if (this.#hooks?.seesServerMessages) {
      const outcome = await this.#hooks.serverMessage(msg, pending);
      // Cancelled, or answered otherwise, while a hook ran: the client expects nothing more.
      if (pending !== undefined && this.#pending.get(idKey(pending.id)) !== pending) return;
      if ('drop' in outcome) {
        if (pending === undefined) {
          this.#log.warn({ method: info.method, reason: outcome.drop }, 'dropped a message from the server');
          return;
        }
        await this.#answerError(pending, 'error', new ProtocolError('ESP_DROPPED', `the proxy did not relay the server's answer to ${pending.method}: ${outcome.drop}`, { hint: 'see the proxy log on stderr' }));
        return;
      }
      out = outcome.message;
    }
    if (pending !== undefined) {
      this.#pending.delete(idKey(pending.id));
      this.#hooks?.end(pending, { outcome: 'response', message: out });
    }
    await (pending === undefined ? this.#writer.write(out.bytes) : this.#writer.writeResponse(out.bytes));
  };

  /** One line from stdin. */
  handleLine(raw: Buffer): void {
    if (this.#closing !== undefined) return;
    const line = classifyLine(raw);
    if (line.kind === 'skip') return;
    if (line.kind === 'invalid') {
      this.#log.warn({ reason: line.reason, bytes: raw.length }, 'answered a bad line from the client');
      void this.#writer.writeResponse(line.reply);
      return;
    }
    const { info, body } = line;
    let pending: Pending | undefined;
    if (info.kind === 'request' && info.id !== undefined && info.method !== undefined) {
      const key = idKey(info.id);
      if (this.#pending.has(key)) {
        // An answer with this id would be taken as the answer to the first request; the
        // client broke JSON-RPC's uniqueness rule, so the duplicate is dropped.
        this.#log.warn({ id: info.id, method: info.method }, 'dropped a request whose id is still in flight');
        return;
      }
      pending = { id: info.id, method: info.method, name: info.name, startedAt: Date.now(), body, abort: new AbortController() };
      const refusal = this.#hooks?.request(pending);
      if (refusal !== undefined) {
        this.#log.warn({ id: info.id, method: info.method, name: info.name, by: refusal.by }, 'refused a request; it was not sent to the server');
        const error = toJsonRpcError(refusal.error);
        this.#hooks?.end(pending, { outcome: 'refused', by: refusal.by, refusal: refusal.error, error });
        void this.#writer.writeResponse(errorResponse(info.id, error));
        return;
      }
      this.#pending.set(key, pending);
    } else if (this.#hooks !== undefined && info.kind === 'notification' && info.method !== undefined && !info.method.startsWith('notifications/')) {
      // A client notifies only with notifications/* (MCP lifecycle); "tools/call" without an
      // id is a request no hook can answer, so it is dropped rather than let past the policy.
      this.#log.warn({ method: info.method }, 'dropped a notification that names a request method; it was not sent to the server');
      return;
    }
    this.#track(this.#forward(info, body, pending), info.method === 'subscriptions/listen');
    if (info.cancels !== undefined) this.#cancel(info.cancels);
  }

  /** A line longer than the limit was dropped while it streamed in. */
  handleOversized(bytes: number, limit: number): void {
    this.#log.warn({ bytes, limit }, 'discarded an oversized line from the client');
    const err = new InvalidMessageError('ESP_LINE_TOO_LONG', `invalid request: the line is ${bytes} bytes, over the ${limit}-byte limit`, {
      jsonRpcCode: JSONRPC_INVALID_REQUEST,
      hint: 'raise --max-line-bytes / MCP_MAX_LINE_BYTES',
    });
    void this.#writer.writeResponse(errorResponse(null, toJsonRpcError(err)));
  }

  /**
   * Stops taking input, lets in-flight messages finish for a short grace, answers the rest,
   * DELETEs the session and flushes stdout. Idempotent.
   */
  shutdown(reason: string): Promise<void> {
    this.#closing ??= this.#shutdown(reason);
    return this.#closing;
  }

  async #shutdown(reason: string): Promise<void> {
    this.#log.info({ reason, sending: this.#tasks.size, inFlight: this.#pending.size }, 'shutting down');
    // Every message still on its way gets the grace, not only requests: a notification the
    // client wrote just before closing stdin (a cancellation, roots/list_changed) must reach
    // the server before the session is closed.
    if (this.#tasks.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#tasks]),
        new Promise((resolve) => (timer = setTimeout(resolve, this.#graceMs))),
      ]);
      clearTimeout(timer);
    }
    const answers: Promise<void>[] = [];
    for (const p of this.#pending.values()) {
      p.abort.abort();
      answers.push(this.#answerError(p, 'shutdown', new ProxyError('ESP_SHUTDOWN', `the proxy is shutting down (${reason}); ${p.method} was not answered in time`)));
    }
    // The DELETE does not wait for the client to read: one that stopped reading stdout
    // must not leave the session open on the server (spec: session management).
    await Promise.all([this.#transport?.terminate(this.#deleteTimeoutMs), ...answers]);
    this.#transport?.close();
    await this.#writer.flush();
  }

  /**
   * notifications/cancelled (MCP cancellation): the notification goes upstream like any
   * other; the request is no longer answered, by the server or by us, and its stream is
   * released. initialize cannot be cancelled (spec, lifecycle).
   */
  #cancel(id: JsonRpcId): void {
    const key = idKey(id);
    const p = this.#pending.get(key);
    if (p === undefined || p.method === 'initialize') return;
    this.#pending.delete(key);
    this.#hooks?.end(p, { outcome: 'cancelled' });
    // Let the cancellation POST leave first; aborting at once could race it on the wire.
    setTimeout(() => p.abort.abort(), 50).unref();
    this.#log.debug({ id, method: p.method }, 'request cancelled by the client');
  }

  /**
   * The server tears down a subscription with notifications/cancelled referencing its
   * subscriptions/listen (MCP 2026-07-28 cancellation,
   * https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/cancellation):
   * the client learns it from the notification, relayed as usual, and expects no answer,
   * so the request ends here, unanswered, and its stream is released.
   */
  #serverCancelled(msg: RemoteMessage): void {
    const requestId = (messageValue(msg) as { params?: { requestId?: unknown } }).params?.requestId;
    const p = typeof requestId === 'string' || typeof requestId === 'number' ? this.#pending.get(idKey(requestId)) : undefined;
    // Only a listen: a 2025 server cancels its own requests (an elicitation), whose ids may
    // equal one of the client's.
    if (p === undefined || p.method !== 'subscriptions/listen') return;
    this.#pending.delete(idKey(p.id));
    this.#hooks?.end(p, { outcome: 'cancelled' });
    p.abort.abort();
    this.#log.debug({ id: p.id, method: p.method }, 'request cancelled by the server');
  }

  /** `openEnded`: a subscriptions/listen, which never ends by itself, so shutdown does not wait for it. */
  #track(task: Promise<void>, openEnded = false): void {
    if (openEnded) return;
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  async #forward(info: ClientMessageInfo, body: Uint8Array, pending: Pending | undefined): Promise<void> {
    const key = pending === undefined ? undefined : idKey(pending.id);
    // By identity, not by id: after a cancellation the client may reuse the id for a new
    // request, which this one must neither answer nor count as its own answer.
    const isAnswered = () => key === undefined || this.#pending.get(key) !== pending;
    try {
      if (this.#transport === undefined) throw new ProxyError('ESP_NOT_READY', 'the proxy is not connected');
      await this.#transport.send(body, info, isAnswered, pending?.abort.signal);
      if (!isAnswered()) {
        throw new ProtocolError('ESP_NO_RESPONSE', `the server ended its reply to ${info.method} without a response`, {
          hint: 'the server may have dropped the stream or may not support this request; check the server logs',
        });
      }
    } catch (err) {
      if (pending === undefined || key === undefined || this.#pending.get(key) !== pending) {
        if (!pending?.abort.signal.aborted) this.#log.warn({ err, method: info.method ?? 'response' }, 'could not deliver a message that needs no answer');
        return;
      }
      this.#log.warn({ err, method: info.method }, 'answering a request with an error');
      await this.#answerError(pending, 'error', err);
    }
  }

  /** Ends an open request with the proxy's own error answer. */
  #answerError(p: Pending, outcome: 'error' | 'shutdown', err: unknown): Promise<void> {
    this.#pending.delete(idKey(p.id));
    const error = toJsonRpcError(err);
    this.#hooks?.end(p, { outcome, error });
    return this.#writer.writeResponse(errorResponse(p.id, error));
  }
}
