import { isIP } from 'node:net';
import { UpstreamNetworkError } from '../errors.js';
import { safeHost, safeHostname, safeOrigin } from '../logging/safe-url.js';
import { proxyFor, readProxyEnv } from '../tls/proxy-env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The most response-header bytes the dispatcher accepts (`maxHeaderSize`). */
export const MAX_RESPONSE_HEADER_BYTES = 128 * 1024;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  hostname?: unknown;
  address?: unknown;
  port?: unknown;
  /** ContentDecodingError: the Content-Encoding that failed. */
  coding?: unknown;
}

/** The deepest error in a cause chain that has a string `code` (undici wraps as TypeError('fetch failed')). */
function deepest(err: unknown): ErrorLike | undefined {
  let found: ErrorLike | undefined;
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 6; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.code === 'string') found = e;
  }
  return found;
}

function causeMessage(err: unknown): string {
  let msg = '';
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 6; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.message === 'string') msg = e.message;
  }
  return msg;
}

/** Server certificate not chained to a trusted root (OpenSSL verify codes). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);

/** TLS alerts a server sends when it rejects (or misses) the client certificate. */
const CLIENT_CERT_REJECTED = new Set([
  'BAD_CERTIFICATE', 'UNKNOWN_CA', 'CERTIFICATE_UNKNOWN', 'UNSUPPORTED_CERTIFICATE', 'CERTIFICATE_REVOKED', 'ACCESS_DENIED',
]);

const MTLS_HINT = 'if the server requires a client certificate (mTLS), set --client-cert and --client-key (or --client-pfx) to a certificate issued by a CA the server trusts, and check it has not expired';
/** The server asked for a client certificate and got none. */
const CERT_REQUIRED_HINT = 'set --client-cert and --client-key (or --client-pfx) to a certificate issued by a CA the server trusts';
/** The server got a client certificate and refused it. */
const CERT_REJECTED_HINT = 'check --client-cert / --client-pfx: the server accepts only certificates issued by a CA it trusts (ask its operator which CA), and not expired';
const TRUST_HINT = 'if the server uses a private or corporate CA, pass its PEM bundle with --ca-cert / MCP_CA_CERT (or NODE_EXTRA_CA_CERTS); behind a TLS-inspecting proxy, add that proxy\'s CA';

/**
 * Names the cause of a failed connection instead of "fetch failed" (README "Troubleshooting"). The
 * message holds only host:port of the server or the proxy, never a path, query or
 * credentials. `env` is where the proxy settings come from (as EnvHttpProxyAgent).
 */
export function describeNetworkError(err: unknown, url: URL, env: Env = process.env): UpstreamNetworkError {
  if (err instanceof UpstreamNetworkError) return err;
  const inner = deepest(err);
  const code = (inner?.code as string | undefined) ?? (err as Error)?.name ?? 'unknown';
  const where = safeHost(url);
  const hostname = safeHostname(url);
  const message = causeMessage(err);
  const make = (text: string, hint: string, retryable = false, errCode = code) =>
    new UpstreamNetworkError(errCode, text, { hint, retryable, cause: undefined });
  const proxy = activeProxy(url, env);
  const proxyName = proxy === undefined ? 'the HTTP proxy' : `the HTTP proxy ${safeOrigin(proxy)}`;

  // undici: RequestAbortedError "Proxy response (407) !== 200 when HTTP Tunneling";
  // src/tls/tunnel-agent.ts (STS traffic) words its errors the same way.
  const proxyStatus = /proxy response \((\d{3})\)/i.exec(message)?.[1];
  if (proxyStatus !== undefined) {
    const status = Number(proxyStatus);
    if (status === 407) {
      return make(`${proxyName} requires authentication (HTTP 407)`, proxy?.username
        ? 'the proxy rejected the user and password in the proxy URL; check them (URL-encode special characters)'
        : 'put the proxy user and password in the proxy URL: HTTPS_PROXY=http://user:password@host:port', false, 'ESP_PROXY_AUTH');
    }
    if (status >= 500) {
      return make(`${proxyName} could not connect to ${where} (HTTP ${status})`, 'check the host and port in MCP_ENDPOINT and that the proxy can reach it', true, 'ESP_PROXY_UPSTREAM');
    }
    return make(`${proxyName} refused to connect to ${where} (HTTP ${status})`, `ask the proxy administrator to allow ${hostname}, or add it to NO_PROXY if it is reachable directly`, false, 'ESP_PROXY_REFUSED');
  }

  if (UNTRUSTED.has(code)) return make(`the TLS certificate of ${where} is not trusted (${code})`, TRUST_HINT);
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return make(`the TLS certificate of ${where} has expired (${code})`, 'the server operator must renew it; also check this machine\'s clock');
    case 'CERT_NOT_YET_VALID':
      return make(`the TLS certificate of ${where} is not valid yet (${code})`, 'check this machine\'s clock');
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make(`the TLS certificate of ${where} is not issued for ${hostname} (${code})`, 'use a host name the certificate names in MCP_ENDPOINT (an IP address needs an IP entry in the certificate)');
  }

  // OpenSSL names the alert's protocol in the code: SSLV3/TLSV1/TLSV13 on Node 20's
  // OpenSSL, "SSL/TLS" on Node 22's (ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE).
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_([A-Z_]+)$/.exec(code)?.[1];
  if (alert !== undefined) {
    const said = `TLS alert "${alert.toLowerCase().replace(/_/g, ' ')}"`;
    if (alert === 'CERTIFICATE_REQUIRED') return make(`${where} requires a client certificate and none was sent (${said})`, CERT_REQUIRED_HINT);
    if (alert === 'CERTIFICATE_EXPIRED') return make(`${where} rejected the client certificate as expired (${said})`, 'renew the client certificate; a replaced file is picked up without a restart');
    if (CLIENT_CERT_REJECTED.has(alert)) return make(`${where} rejected the client certificate (${said})`, CERT_REJECTED_HINT);
    if (alert === 'HANDSHAKE_FAILURE') return make(`the TLS handshake with ${where} failed (${said})`, `${MTLS_HINT}; otherwise the server shares no TLS version or cipher with Node`);
    return make(`${where} aborted the TLS handshake (${said})`, 'check the server\'s TLS configuration');
  }

  switch (code) {
    case 'ECONNREFUSED':
      if (proxy !== undefined && isProxyEndpoint(inner, proxy)) {
        return make(`connection refused by ${proxyName}`, 'check HTTPS_PROXY/HTTP_PROXY, or exempt the server with NO_PROXY or --no-env-proxy', true);
      }
      return make(`connection refused by ${where}`, 'check that the MCP server is running and MCP_ENDPOINT is right', true);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      if (proxy !== undefined && inner?.hostname === proxy.hostname && proxy.hostname !== url.hostname) {
        return make(`cannot resolve the HTTP proxy host ${safeHostname(proxy)}`, 'check HTTPS_PROXY/HTTP_PROXY and your DNS/VPN', true);
      }
      return make(`cannot resolve ${hostname}`, 'check the host name in MCP_ENDPOINT and your DNS/VPN', true);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make(`connecting to ${where} timed out`, 'check network access to the server (VPN, firewall, proxy); raise --connect-timeout if it is just slow', true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      // A TLS 1.3 server checks the client certificate after the client considers the
      // handshake done, so a missing/rejected certificate surfaces as "other side closed"
      // (verified); TLS 1.2 cuts the handshake off instead.
      if (/before secure TLS connection was established/i.test(message)) {
        return make(`the TLS handshake with ${where} was cut off`, `${MTLS_HINT}; a firewall or proxy may also be interfering`);
      }
      if (/other side closed/i.test(message)) {
        return url.protocol === 'https:'
          ? make(`${where} closed the connection without answering`, `${MTLS_HINT}; otherwise check the server logs`)
          : make(`${where} closed the connection without answering`, 'check the server logs');
      }
      return make(`the connection to ${where} was reset`, 'check the server and any proxy in between');
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'HPE_HEADER_OVERFLOW': // node:http's parser
      return make(`the response headers from ${where} exceed ${MAX_RESPONSE_HEADER_BYTES / 1024} KiB, the most the proxy accepts (${code})`, 'the server or a gateway in front of it sends oversized headers (often cookies); have it send smaller ones');
    case 'ESP_CONTENT_DECODING':
      return make(`the ${String(inner?.coding)}-compressed body from ${where} does not decode (Content-Encoding)`, 'the server or a gateway in front of it sends a corrupt or mislabelled compressed body; check its compression settings');
    case 'AbortError':
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
    case 'ESP_AGENT_CLOSED': // node-http-agent.ts
      return make(`the request to ${where} was aborted`, 'the proxy is shutting down or the request was cancelled');
    default:
      return make(`cannot reach ${where} (${code})`, 'check MCP_ENDPOINT and network access to the server');
  }
}

/**
 * The connection closed or reset after the request went out and before the response
 * headers (a gateway restarting its backend, an idle socket the server had just closed).
 * A TLS handshake cut off is not one: that is a certificate problem, not a blip.
 */
export function isResetBeforeResponse(err: unknown): boolean {
  const code = deepest(err)?.code;
  if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'UND_ERR_SOCKET') return false;
  return !/before secure TLS connection was established/i.test(causeMessage(err));
}

/** The proxy EnvHttpProxyAgent would use for `url`, if the environment names one. */
function activeProxy(url: URL, env: Env): URL | undefined {
  try {
    return proxyFor(url, readProxyEnv(env));
  } catch {
    return undefined; // a malformed proxy variable was reported at start-up
  }
}

/** Whether a connect error came from dialling the proxy rather than the server. */
function isProxyEndpoint(inner: ErrorLike | undefined, proxy: URL): boolean {
  const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  if (inner?.port !== port) return false;
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) === 0 || inner.address === host;
}
