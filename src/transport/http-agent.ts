import type { Readable } from 'node:stream';

/**
 * The narrow interface between the HTTP client and the network: one request in, status,
 * headers and a streaming body out. Two implementations: node-http-agent.ts (node:http /
 * node:https, for direct connections; nothing to load at start-up) and undici's agents
 * (src/transport/undici.ts, loaded only when a proxy from the environment applies). An
 * undici `Dispatcher` satisfies it as is: `request()`, `close()` and `destroy()` are its own.
 *
 * Contract, shared by both: redirects are never followed and bodies are never decoded
 * (HttpClient refuses redirects, content-encoding.ts decodes); an aborted `signal` rejects
 * with, or destroys the body with, the signal's reason; errors carry the codes
 * network-errors.ts classifies (Node's socket and TLS codes, and undici's for a connection
 * the server closed without answering, a header overflow and a connect timeout).
 */
export interface HttpAgent {
  request(opts: AgentRequest): Promise<AgentResponse>;
  /** Lets requests in flight finish, then frees the connections. */
  close(): Promise<void>;
  /** Ends every connection now; requests in flight fail. */
  destroy(err?: Error | null): Promise<void>;
}

export interface AgentRequest {
  /** scheme://host[:port] */
  readonly origin: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface AgentResponse {
  readonly statusCode: number;
  /** Lower-case names; a repeated header is an array of its values in order. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

/** Sends one request through `agent`. */
export function request(agent: HttpAgent, opts: AgentRequest): Promise<AgentResponse> {
  return agent.request(opts);
}
