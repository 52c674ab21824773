import { UpstreamNetworkError } from '../errors.js';

/** The deepest `code` in an error's cause chain (undici wraps as TypeError('fetch failed')). */
export function errorCode(err: unknown): string | undefined {
  let code: string | undefined;
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') code = e.code;
  }
  return code;
}

function causeMessage(err: unknown): string {
  let msg = '';
  for (let e = err as { message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.message === 'string') msg = e.message;
  }
  return msg;
}

/**
 * Names the cause of a failed connection instead of "fetch failed". The message holds only
 * the origin, never the path/query (H3).
 */
export function describeNetworkError(err: unknown, url: URL): UpstreamNetworkError {
  if (err instanceof UpstreamNetworkError) return err;
  const code = errorCode(err) ?? (err as Error)?.name ?? 'unknown';
  const where = url.host;
  const make = (message: string, hint: string, retryable = false) =>
    new UpstreamNetworkError(code, message, { hint, retryable, cause: undefined });
  switch (code) {
    case 'ECONNREFUSED':
      return make(`connection refused by ${where}`, 'check that the MCP server is running and MCP_ENDPOINT is right', true);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(`cannot resolve ${url.hostname}`, 'check the host name in MCP_ENDPOINT and your DNS/VPN', true);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make(`connecting to ${where} timed out`, 'check network access to the server (VPN, firewall, proxy); raise --connect-timeout if it is just slow', true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      if (/other side closed/i.test(causeMessage(err))) {
        return make(`${where} closed the connection`, 'if the server requires a client certificate (mTLS), set --client-cert and --client-key; otherwise check the server logs');
      }
      return make(`the connection to ${where} was reset`, 'check the server and any proxy in between');
    case 'AbortError':
      return make(`the request to ${where} was aborted`, 'the proxy is shutting down or the request was cancelled');
    default:
      return make(`cannot reach ${where} (${code})`, 'check MCP_ENDPOINT and network access to the server');
  }
}
