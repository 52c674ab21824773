import type { Dispatcher } from 'undici';
import { DispatcherBase } from '../transport/undici.js';
import type { ClientIdentity } from './client-identity.js';
import type { ClientIdentitySource } from './identity-source.js';

/**
 * Routes every request to an agent built for the current client identity, and builds a
 * new agent when the identity changes (certificate rotation). Rebuilding, rather than a
 * custom connector, is what works through a proxy too: ProxyAgent bakes `requestTls` into
 * its connector at construction (undici lib/dispatcher/proxy-agent.js), and a fresh agent
 * also starts with an empty TLS session cache, so no resumed session carries the old
 * identity. The previous agent is closed gracefully: requests in flight (an SSE stream)
 * finish on their old connections; nothing new is sent through it.
 */
export class IdentityDispatcher extends DispatcherBase {
  readonly #source: ClientIdentitySource;
  readonly #build: (identity: ClientIdentity) => Dispatcher;
  /** Previous agents still closing, each with its close() promise. */
  readonly #retiring = new Map<Dispatcher, Promise<void>>();
  #identity: ClientIdentity;
  #agent: Dispatcher;

  constructor(source: ClientIdentitySource, build: (identity: ClientIdentity) => Dispatcher) {
    super();
    this.#source = source;
    this.#build = build;
    this.#identity = source.current();
    this.#agent = build(this.#identity);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const identity = this.#source.current();
    if (identity !== this.#identity) {
      const old = this.#agent;
      this.#identity = identity;
      this.#agent = this.#build(identity);
      const closing = old.close().catch(() => undefined).then(() => {
        this.#retiring.delete(old);
      });
      this.#retiring.set(old, closing);
    }
    return this.#agent.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all([this.#agent.close(), ...this.#retiring.values()]).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback);
  }

  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : errOrCallback ?? null;
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const all = [this.#agent, ...this.#retiring.keys()];
    const done = Promise.all(all.map((agent) => agent.destroy(err))).then(() => undefined);
    if (cb === undefined) return done;
    void done.then(cb);
  }
}
