import type { AgentRequest, AgentResponse, HttpAgent } from './http-agent.js';

/**
 * An agent that is still loading (undici's proxy agents, imported only when a proxy from
 * the environment applies): requests wait for it. The load starts at construction, so it
 * overlaps with reading the host's first message.
 */
export class DeferredAgent implements HttpAgent {
  readonly #agent: Promise<HttpAgent>;

  constructor(load: () => Promise<HttpAgent>) {
    this.#agent = load();
    // A failed load is reported by the first request, not as an unhandled rejection.
    this.#agent.catch(() => undefined);
  }

  async request(opts: AgentRequest): Promise<AgentResponse> {
    return (await this.#agent).request(opts);
  }

  async close(): Promise<void> {
    return (await this.#agent).close();
  }

  async destroy(err?: Error | null): Promise<void> {
    return (await this.#agent).destroy(err);
  }
}
