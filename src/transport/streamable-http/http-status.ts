import { ProtocolError, UpstreamHttpError, type ProxyError } from '../../errors.js';
import type { ClientMessageInfo } from '../../jsonrpc.js';
import type { Logger } from '../../logging/logger.js';
import { safeUrl } from '../../logging/safe-url.js';
import type { UpstreamResponse } from '../http-client.js';
import { messageValue, parseRemote, type Deliver } from '../remote-transport.js';

/** The server answered 404 to a request that carried our session id (spec: session expired). */
export class SessionExpiredError extends ProtocolError {
  constructor() {
    super('ESP_SESSION_EXPIRED', 'the server ended the MCP session (HTTP 404) and a new session could not be started', {
      httpStatus: 404,
      hint: 'restart the MCP server connection in your client',
    });
  }
}

/** What the user can do about an HTTP status from a Streamable HTTP endpoint. */
export function hintForStatus(status: number): string {
  if (status === 400) return 'the server rejected the message; check that it supports this MCP protocol version and see its logs';
  if (status === 404) return 'check the path in MCP_ENDPOINT (it should be the MCP endpoint itself, often ending in /mcp)';
  if (status === 405) return 'the URL does not accept POST: point MCP_ENDPOINT at the MCP endpoint; for a legacy HTTP+SSE server use --transport sse (or auto, the default)';
  if (status === 406 || status === 415) return 'the server does not speak MCP Streamable HTTP at this URL';
  if (status === 413) return 'the message is larger than the server accepts';
  if (status === 429) return 'the server is rate limiting; wait and try again';
  if (status >= 500) return 'the server failed; try again, and check the server logs if it persists';
  return 'check the server logs';
}

/**
 * A non-2xx answer to a POST → the error the request is answered with. A JSON-RPC error
 * in the body that answers this very request is a real MCP answer: it is forwarded first.
 */
export async function httpError(res: UpstreamResponse, info: ClientMessageInfo, deliver: Deliver, endpoint: URL, log: Logger): Promise<ProxyError> {
  const text = await res.textCapped(64 * 1024);
  if (info.kind === 'request' && text !== '') {
    try {
      const msg = parseRemote(text.trim());
      if (msg.info?.kind === 'response' && msg.info.id === info.id && typeof (messageValue(msg) as { error?: unknown }).error === 'object') {
        await deliver(msg);
      }
    } catch {
      // Not JSON: summarised below.
    }
  }
  log.warn({ status: res.status, method: info.method, bytes: text.length }, 'the server answered with an HTTP error');
  return new UpstreamHttpError(`ESP_HTTP_${res.status}`, `the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} to ${info.method === undefined ? 'a response' : info.method.slice(0, 100)} at ${safeUrl(endpoint)}`, {
    httpStatus: res.status,
    hint: hintForStatus(res.status),
    retryable: res.status === 429 || res.status === 503,
  });
}
