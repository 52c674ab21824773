import type { Logger } from '../../logging/logger.js';
import { sleep } from '../abortable-sleep.js';
import { parseRemote, type RemoteMessage } from '../remote-transport.js';
import { SUBSCRIPTION_ID_KEY } from './protocol.js';

type Json = Record<string, unknown>;

/** Sends one listen request and resolves when its stream ends (graceful, dropped or aborted). */
export type OpenStream = (id: string, notifications: Json, signal: AbortSignal) => Promise<void>;

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * The host's notifications, 2026-07-28 style: one `subscriptions/listen` stream
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/subscriptions)
 * asking for the list changes the server's capabilities offer and for the resources the
 * host subscribed to. A change of that set re-issues the listen (the filter is fixed per
 * stream); a stream that ends while it is wanted is re-issued with backoff, since the server
 * keeps no subscription state.
 */
export class Listen {
  readonly #uris = new Set<string>();
  readonly #life = new AbortController();
  #lists: Json = {};
  #current: { id: string; abort: AbortController } | undefined;
  #seq = 0;
  #failures = 0;

  constructor(
    private readonly open: OpenStream,
    private readonly log: Logger,
  ) {}

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
    if (!msg.bytes.includes(SUBSCRIPTION_ID_KEY) && msg.info?.method !== 'notifications/cancelled') return msg;
    const value = JSON.parse(msg.bytes.toString('utf8')) as { method?: string; params?: Json };
    const params = value.params ?? {};
    if (value.method === 'notifications/subscriptions/acknowledged') {
      this.#failures = 0;
      return undefined;
    }
    if (value.method === 'notifications/cancelled') return String(params.requestId).startsWith('mcp-signing-proxy-listen-') ? undefined : msg;
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
    const current = { id: `mcp-signing-proxy-listen-${++this.#seq}`, abort: new AbortController() };
    this.#current = current;
    void this.#run(current, filter);
  }

  async #run(current: { id: string; abort: AbortController }, filter: Json): Promise<void> {
    const signal = AbortSignal.any([current.abort.signal, this.#life.signal]);
    try {
      await this.open(current.id, filter, signal);
      if (!signal.aborted) this.log.info({ id: current.id }, 'the server ended the notification stream; listening again');
    } catch (err) {
      if (!signal.aborted) this.log.warn({ err, id: current.id }, 'the notification stream failed; listening again');
    }
    if (signal.aborted || this.#current !== current) return;
    const wait = Math.min(RETRY_FIRST_MS * 2 ** this.#failures++, RETRY_MAX_MS);
    await sleep(wait, signal);
    if (!signal.aborted && this.#current === current) this.#reissue();
  }
}
