import type { ClientMessageInfo } from '../../jsonrpc.js';
import { sessionTag, type Logger } from '../../logging/logger.js';
import type { OutgoingRequest } from '../../signers/signer.js';
import type { HttpClient, UpstreamResponse } from '../http-client.js';

// MCP transports: the session id is visible ASCII (0x21–0x7E).
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;
// Header values we mirror (Mcp-Name) must be plain visible ASCII to be sent and signed as-is.
const HEADER_SAFE = /^[\x20-\x7e]{1,1024}$/;

/**
 * What every Streamable HTTP request carries besides its body: the session id and the
 * negotiated protocol version (spec 2025-11-25, "Session Management" and "Protocol Version
 * Header"), and the endpoint and HTTP client they go through. One instance per transport,
 * shared by the POST, GET and DELETE code.
 */
export class SessionState {
  id: string | undefined;
  protocolVersion: string | undefined;

  constructor(
    readonly endpoint: URL,
    readonly http: HttpClient,
    readonly log: Logger,
  ) {}

  request(method: OutgoingRequest['method'], headers: Record<string, string>, body?: Uint8Array): OutgoingRequest {
    return { method, url: this.endpoint, headers, body };
  }

  headers(info: ClientMessageInfo | undefined, session = this.id): Record<string, string> {
    const h: Record<string, string> = {};
    if (session !== undefined) h['mcp-session-id'] = session;
    if (this.protocolVersion !== undefined) h['mcp-protocol-version'] = this.protocolVersion;
    // Mcp-Method / Mcp-Name mirror the body (MCP 2026-07-28 Streamable HTTP); older
    // servers ignore them.
    if (info?.method !== undefined && HEADER_SAFE.test(info.method)) h['mcp-method'] = info.method;
    if (info?.name !== undefined && HEADER_SAFE.test(info.name)) h['mcp-name'] = info.name;
    return h;
  }

  /** Takes the session id from the response to an initialize (the only one that assigns it). */
  capture(res: UpstreamResponse): void {
    const id = res.header('mcp-session-id') ?? null;
    if (id === null || id === this.id) return;
    if (!SESSION_ID.test(id)) {
      this.log.warn('ignoring a malformed Mcp-Session-Id from the server');
      return;
    }
    this.id = id;
    this.log.debug({ session: sessionTag(id) }, 'session id assigned');
  }
}
