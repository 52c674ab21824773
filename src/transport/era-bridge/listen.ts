import { ProxyError } from '../../errors.js';
import type { Logger } from '../../logging/logger.js';
import { sleep } from '../abortable-sleep.js';
import { parseRemote, type RemoteMessage } from '../remote-transport.js';
import { SUBSCRIPTION_ID_KEY } from './protocol.js';

type Json = Record<string, unknown>;

/**
 * Sends one listen request through the transport, which holds it open and sends it again
 * after a dropped stream (streamable-http/listen.ts). Resolves with the server's response
 * to it (a graceful end, or a refusal as a JSON-RPC error), or undefined when the server tore
 * it down with `notifications/cancelled`; rejects when the transport gave up on it
 * (`ESP_LISTEN_LOST`) or the request failed.
 */
export type OpenStream = (id: string, notifications: Json, signal: AbortSignal) => Promise<unknown>;

/** The ids of the proxy's own listen requests: neither their responses nor their teardown are the host's. */
export const LISTEN_ID_PREFIX = 'mcp-signing-proxy-listen-';

export interface ListenOptions {
  /** The pause before listening again after the transport gave up; it doubles per loss, up to 15 min. */
  lostPauseMs?: number;
}

const LOST_PAUSE_MS = 60_000;
const LOST_PAUSE_MAX_MS = 15 * 60_000;

/** Whether a response id is that of one of the proxy's own listen requests. */
export function isOwnListenId(id: unknown): boolean {
  return typeof id === 'string' && id.startsWith(LISTEN_ID_PREFIX);
}

/**
 * The host's notifications, 2026-07-28 style: one `subscriptions/listen` stream
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/subscriptions)
 * asking for the list changes the server's capabilities offer and for the resources the
 * host subscribed to. A change of that set re-issues the listen (the filter is fixed per
 * stream). A dropped stream is the transport's to send again; this class listens anew only
 * when the transport gave up on it, after a long pause: a 2025 host cannot ask for it again,
 * and a gateway or server that dropped it several times in a row may recover. A server that ends
 * the subscription gracefully, or refuses it, is taken at its word until the set changes,
 * as a 2026-07-28 client does (the spec's "Graceful Closure").
 */
export class Listen {
  readonly #uris = new Set<string>();
  readonly #life = new AbortController();
  readonly #lostPauseMs: number;
  #lists: Json = {};
  #current: { id: string; abort: AbortController } | undefined;
  #seq = 0;
  #losses = 0;

  constructor(
    private readonly open: OpenStream,
    private readonly log: Logger,
    opts: ListenOptions = {},
  ) {
    this.#lostPauseMs = opts.lostPauseMs ?? LOST_PAUSE_MS;
  }

  /** Starts listening for what the server's capabilities say it can notify. */
  start(serverCapabilities: Json): void {
    const has = (k: string, flag: string) => (serverCapabilities[k] as Json | undefined)?.[flag] === true;
    this.#lists = {
      ...(has('tools', 'listChanged') && { toolsListChanged: true }),
      ...(has('prompts', 'listChanged') && { promptsListChanged: true }),
      ...(has('resources', 'listChanged') && { resourcesListChanged: true }),
    };
    this.#reissue();
  }

  /** resources/subscribe and resources/unsubscribe of 2025-11-25, as a new filter. */
  subscribe(uri: string, on: boolean): void {
    if (on === this.#uris.has(uri)) return;
    if (on) this.#uris.add(uri);
    else this.#uris.delete(uri);
    this.#reissue();
  }

  stop(): void {
    this.#life.abort();
    this.#current?.abort.abort();
    this.#current = undefined;
  }

  /**
   * A notification from the server, as the host gets it: the acknowledgement and the
   * server's teardown of a listen are for the bridge; the subscription id, which a 2025 host
   * does not know, is removed. Undefined: not for the host.
   */
  relayable(msg: RemoteMessage): RemoteMessage | undefined {
    // By method first: an acknowledgement is the bridge's whether or not it names the subscription.
    if (msg.info?.method === 'notifications/subscriptions/acknowledged') {
      this.#losses = 0;
      return undefined;
    }
    if (!msg.bytes.includes(SUBSCRIPTION_ID_KEY) && msg.info?.method !== 'notifications/cancelled') return msg;
    const value = JSON.parse(msg.bytes.toString('utf8')) as { method?: string; params?: Json };
    const params = value.params ?? {};
    if (value.method === 'notifications/cancelled') return isOwnListenId(params.requestId) ? undefined : msg;
    const meta = { ...(params._meta as Json | undefined) };
    delete meta[SUBSCRIPTION_ID_KEY];
    value.params = { ...params, _meta: meta };
    if (Object.keys(meta).length === 0) delete value.params._meta;
    return parseRemote(JSON.stringify(value));
  }

  #filter(): Json | undefined {
    const filter: Json = { ...this.#lists };
    if (this.#uris.size > 0) filter.resourceSubscriptions = [...this.#uris];
    return Object.keys(filter).length === 0 ? undefined : filter;
  }

  #reissue(): void {
    this.#current?.abort.abort();
    this.#current = undefined;
    const filter = this.#filter();
    if (filter === undefined || this.#life.signal.aborted) return;
    const current = { id: `${LISTEN_ID_PREFIX}${++this.#seq}`, abort: new AbortController() };
    this.#current = current;
    void this.#run(current, filter);
  }

  async #run(current: { id: string; abort: AbortController }, filter: Json): Promise<void> {
    const signal = AbortSignal.any([current.abort.signal, this.#life.signal]);
    let response: unknown;
    try {
      response = await this.open(current.id, filter, signal);
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof ProxyError && err.code === 'ESP_LISTEN_LOST')) {
        this.log.warn({ err, id: current.id }, 'the notification stream failed; list changes and resource updates stop until the client subscribes or unsubscribes');
        return;
      }
      const pauseMs = Math.min(LOST_PAUSE_MAX_MS, this.#lostPauseMs * 2 ** this.#losses++);
      this.log.warn({ err, id: current.id, pauseMs }, 'the server keeps dropping the notification stream; listening again after a pause');
      await sleep(pauseMs, signal);
      if (!signal.aborted && this.#current === current) this.#reissue();
      return;
    }
    if (signal.aborted) return;
    const error = (response as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (error !== undefined) this.log.warn({ id: current.id, code: error.code, message: error.message }, 'the server refused the notification stream; list changes and resource updates stop until the client subscribes or unsubscribes');
    else this.log.info({ id: current.id }, 'the server ended the notification stream; the proxy listens again when the client subscribes or unsubscribes');
  }
}
