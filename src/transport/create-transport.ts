import { UpstreamHttpError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { EraBridgeTransport, type ProtocolMode } from './era-bridge/transport.js';
import type { HttpClient } from './http-client.js';
import { NoLegacyEndpointError } from './legacy-sse/stream.js';
import { LegacySseTransport } from './legacy-sse/transport.js';
import { NegotiatingTransport, type Candidate } from './negotiating-transport.js';
import type { RemoteTransport } from './remote-transport.js';
import type { ToolHeaders } from './streamable-http/tool-headers.js';
import { StreamableHttpTransport } from './streamable-http/transport.js';

/**
 * `--transport` (README "Protocols"): `auto` tries Streamable HTTP and falls back to legacy
 * HTTP+SSE; `sse-first` the other way round; the other two use one transport only.
 */
export type TransportMode = 'auto' | 'sse-first' | 'streamable-http' | 'sse';

export interface TransportOptions {
  /** The remote MCP endpoint (MCP_ENDPOINT). */
  endpoint: URL;
  /** Signs and sends every request; shared by all transports. */
  http: HttpClient;
  logger: Logger;
  /** Default `auto`. */
  mode?: TransportMode;
  /** The tools' x-mcp-header annotations, kept by the relay (Streamable HTTP only). */
  toolHeaders?: ToolHeaders;
  /**
   * `--protocol` (the configuration's default is `auto`); without it, `passthrough`. Legacy
   * HTTP+SSE is 2024-11-05 only: never bridged.
   */
  protocol?: ProtocolMode;
}

/**
 * Statuses to a Streamable HTTP initialize that mean "no Streamable HTTP endpoint here"
 * (spec 2025-11-25, "Backwards Compatibility": 400, 404 or 405). Never 401/403 (with SigV4
 * a 403 is a signing problem), 5xx or network errors: those are no evidence of the era. A
 * JSON-RPC error answering the initialize in such a body is an answer, and the negotiation
 * keeps the transport that got it.
 */
function notStreamable(err: unknown): boolean {
  return err instanceof UpstreamHttpError && (err.httpStatus === 400 || err.httpStatus === 404 || err.httpStatus === 405);
}

/** The legacy GET was answered 400/404/405: no SSE endpoint at this URL. */
function notLegacy(err: unknown): boolean {
  return err instanceof NoLegacyEndpointError;
}

/**
 * Chooses and builds the transport for an endpoint. Every caller (the relay at start-up,
 * `--check`) gets its transport here, so this is the one place where a choice between
 * wire protocols, or protocol revisions negotiated with the server, is made.
 */
export function createTransport(opts: TransportOptions): RemoteTransport {
  const transport = wireTransport(opts);
  const protocol = opts.protocol ?? 'passthrough';
  return protocol === 'passthrough' || opts.mode === 'sse' ? transport : new EraBridgeTransport(transport, protocol, opts.logger);
}

function wireTransport(opts: TransportOptions): RemoteTransport {
  const streamable: Candidate = { name: 'streamable-http', build: () => new StreamableHttpTransport(opts) };
  const legacy: Candidate = { name: 'sse', build: () => new LegacySseTransport(opts) };
  switch (opts.mode ?? 'auto') {
    case 'streamable-http':
      return streamable.build();
    case 'sse':
      return legacy.build();
    case 'sse-first':
      return new NegotiatingTransport(legacy, streamable, notLegacy, opts.logger);
    case 'auto':
      return new NegotiatingTransport(streamable, legacy, notStreamable, opts.logger);
  }
}
