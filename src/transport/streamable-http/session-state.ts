import type { ClientMessageInfo } from '../../jsonrpc.js';
import { sessionTag, type Logger } from '../../logging/logger.js';
import type { OutgoingRequest } from '../../signers/signer.js';
import type { HttpClient, UpstreamResponse } from '../http-client.js';
import { headerValue } from './header-value.js';
import type { ToolHeaders } from './tool-headers.js';

// MCP transports: the session id is visible ASCII (0x21–0x7E).
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;

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
    /** The tools' x-mcp-header annotations, kept from tools/list by the relay. */
    readonly toolHeaders?: ToolHeaders,
  ) {}

  request(method: OutgoingRequest['method'], headers: Record<string, string>, body?: Uint8Array): OutgoingRequest {
    return { method, url: this.endpoint, headers, body };
  }

  /**
   * `body` is the message itself: on tools/call it is parsed, and only when some listed
   * tool has x-mcp-header annotations, for the Mcp-Param-* headers.
   */
  headers(info: ClientMessageInfo | undefined, session = this.id, body?: Uint8Array): Record<string, string> {
    const h: Record<string, string> = {};
    if (session !== undefined) h['mcp-session-id'] = session;
    // A 2026-07-28 client names its version in each message (no initialize); the header
    // MUST equal it. Otherwise the version initialize negotiated.
    const version = info?.protocolVersion ?? this.protocolVersion;
    const versionHeader = version === undefined ? undefined : headerValue(version);
    if (versionHeader !== undefined) h['mcp-protocol-version'] = versionHeader;
    // Mcp-Method / Mcp-Name / Mcp-Param-* mirror the body (MCP 2026-07-28 Streamable HTTP,
    // "Request Metadata"); older servers ignore them.
    const method = info?.method === undefined ? undefined : headerValue(info.method);
    if (method !== undefined) h['mcp-method'] = method;
    const name = info?.name === undefined ? undefined : headerValue(info.name);
    if (name !== undefined) h['mcp-name'] = name;
    if (info?.method === 'tools/call' && info.name !== undefined && body !== undefined && this.toolHeaders?.empty === false) {
      const args = (JSON.parse(Buffer.from(body).toString('utf8')) as { params?: { arguments?: unknown } }).params?.arguments;
      Object.assign(h, this.toolHeaders.headersFor(info.name, args));
    }
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
