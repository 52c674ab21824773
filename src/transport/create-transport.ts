import type { Logger } from '../logging/logger.js';
import type { HttpClient } from './http-client.js';
import type { RemoteTransport } from './remote-transport.js';
import { StreamableHttpTransport } from './streamable-http/transport.js';

export interface TransportOptions {
  /** The remote MCP endpoint (MCP_ENDPOINT). */
  endpoint: URL;
  /** Signs and sends every request; shared by all transports. */
  http: HttpClient;
  logger: Logger;
}

/**
 * Chooses and builds the transport for an endpoint. Every caller (the relay at start-up,
 * `--check`) gets its transport here, so this is the one place where a choice between
 * wire protocols, or protocol revisions negotiated with the server, is made. Today every
 * endpoint speaks Streamable HTTP (spec 2025-03-26 … 2025-11-25).
 */
export function createTransport(opts: TransportOptions): RemoteTransport {
  return new StreamableHttpTransport(opts);
}
