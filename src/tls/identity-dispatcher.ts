import type { AgentRequest, AgentResponse, HttpAgent } from '../transport/http-agent.js';
import type { ClientIdentity } from './client-identity.js';
import type { ClientIdentitySource } from './identity-source.js';

/**
 * Routes every request to an agent built for the current client identity, and builds a
 * new agent when the identity changes (certificate rotation). Rebuilding, rather than a
 * custom connector, is what works through a proxy too: undici's ProxyAgent bakes
 * `requestTls` into its connector at construction (undici lib/dispatcher/proxy-agent.js),
 * and a fresh agent also starts with an empty TLS session cache, so no resumed session
 * carries the old identity. The previous agent is closed gracefully: requests in flight (an
 * SSE stream) finish on their old connections; nothing new is sent through it.
 */
export class IdentityDispatcher implements HttpAgent {
  readonly #source: ClientIdentitySource;
  readonly #build: (identity: ClientIdentity) => HttpAgent;
  /** Previous agents still closing, each with its close() promise. */
  readonly #retiring = new Map<HttpAgent, Promise<void>>();
  #identity: ClientIdentity;
  #agent: HttpAgent;

  constructor(source: ClientIdentitySource, build: (identity: ClientIdentity) => HttpAgent) {
    this.#source = source;
    this.#build = build;
    this.#identity = source.current();
    this.#agent = build(this.#identity);
  }

  request(opts: AgentRequest): Promise<AgentResponse> {
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
    return this.#agent.request(opts);
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), ...this.#retiring.values()]);
  }

  async destroy(err?: Error | null): Promise<void> {
    await Promise.all([this.#agent, ...this.#retiring.keys()].map((agent) => agent.destroy(err)));
  }
}
