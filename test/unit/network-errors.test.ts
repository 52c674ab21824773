import { describe, expect, it } from 'vitest';
import { UpstreamNetworkError, toJsonRpcError } from '../../src/errors.js';
import { describeNetworkError } from '../../src/transport/network-errors.js';

/**
 * Error shapes copied from real runs (undici 7 fetch on Node 20; the integration tests in
 * test/integration/mtls.test.ts produce the same shapes against real servers).
 */
const URL_ = new URL('https://mcp.example.com:8443/mcp/secret-path?token=sekrit');
const NO_ENV = {};

function fetchFailed(...chain: Array<{ name?: string; code?: unknown; message: string; [k: string]: unknown }>): TypeError {
  let cause: unknown;
  for (const link of [...chain].reverse()) cause = Object.assign(new Error(link.message), link, { cause });
  return Object.assign(new TypeError('fetch failed'), { cause });
}

const tlsError = (code: string, message = code) => fetchFailed({ code, message });
const proxyAbort = (status: number) =>
  fetchFailed({ code: 0, message: 'Request was cancelled.' }, { name: 'AbortError', code: 'UND_ERR_ABORTED', message: `Proxy response (${status}) !== 200 when HTTP Tunneling` });

function describeErr(err: unknown, env: Record<string, string> = NO_ENV): UpstreamNetworkError {
  const mapped = describeNetworkError(err, URL_, env);
  // Only host:port ever reaches the message, whatever the case.
  const client = JSON.stringify(toJsonRpcError(mapped));
  expect(client).not.toMatch(/secret-path|sekrit|token=/);
  return mapped;
}

describe('describeNetworkError: TLS trust of the server', () => {
  it.each(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE'])(
    '%s → untrusted, suggests --ca-cert and NODE_EXTRA_CA_CERTS, never retried',
    (code) => {
      const e = describeErr(tlsError(code));
      expect(e.message).toBe(`the TLS certificate of mcp.example.com:8443 is not trusted (${code})`);
      expect(e.hint).toMatch(/--ca-cert \/ MCP_CA_CERT .*NODE_EXTRA_CA_CERTS/);
      expect(e.code).toBe(code);
      expect(e.retryable).toBe(false);
    },
  );

  it('names an expired server certificate and a hostname mismatch', () => {
    expect(describeErr(tlsError('CERT_HAS_EXPIRED', 'certificate has expired')).message).toBe('the TLS certificate of mcp.example.com:8443 has expired (CERT_HAS_EXPIRED)');
    const mismatch = describeErr(tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: Host: mcp.example.com. is not in the cert's altnames: DNS:other"));
    expect(mismatch.message).toBe('the TLS certificate of mcp.example.com:8443 is not issued for mcp.example.com (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(mismatch.hint).toMatch(/host name the certificate names/);
  });
});

describe('describeNetworkError: client certificate rejected', () => {
  it('TLS 1.3 "other side closed" on https points at mTLS; on http it does not', () => {
    const closed = fetchFailed({ name: 'SocketError', code: 'UND_ERR_SOCKET', message: 'other side closed' });
    const e = describeErr(closed);
    expect(e.message).toBe('mcp.example.com:8443 closed the connection without answering');
    expect(e.hint).toMatch(/requires a client certificate \(mTLS\), set --client-cert and --client-key \(or --client-pfx\)/);
    expect(describeNetworkError(closed, new URL('http://127.0.0.1:9/mcp'), NO_ENV).hint).toBe('check the server logs');
  });

  it('TLS 1.2 handshake cut off or failed points at mTLS', () => {
    expect(describeErr(tlsError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established')).message).toBe('the TLS handshake with mcp.example.com:8443 was cut off');
    const failed = describeErr(tlsError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ssl3_read_bytes:sslv3 alert handshake failure'));
    expect(failed.message).toBe('the TLS handshake with mcp.example.com:8443 failed (TLS alert "handshake failure")');
    expect(failed.hint).toMatch(/--client-cert/);
  });

  it('a certificate required: set one; a certificate rejected: check it and the CA the server trusts', () => {
    expect(describeErr(tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')).hint).toBe('set --client-cert and --client-key (or --client-pfx) to a certificate issued by a CA the server trusts');
    expect(describeErr(tlsError('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')).hint).toMatch(/^check --client-cert \/ --client-pfx: the server accepts only certificates issued by a CA it trusts/);
  });

  it.each([
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'mcp.example.com:8443 requires a client certificate and none was sent (TLS alert "certificate required")'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'mcp.example.com:8443 rejected the client certificate (TLS alert "bad certificate")'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'mcp.example.com:8443 rejected the client certificate (TLS alert "unknown ca")'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'mcp.example.com:8443 rejected the client certificate as expired (TLS alert "certificate expired")'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'mcp.example.com:8443 aborted the TLS handshake (TLS alert "protocol version")'],
    // Node 22's OpenSSL spells the protocol "SSL/TLS".
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', 'the TLS handshake with mcp.example.com:8443 failed (TLS alert "handshake failure")'],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'mcp.example.com:8443 rejected the client certificate (TLS alert "bad certificate")'],
  ])('%s', (code, message) => {
    const e = describeErr(tlsError(code));
    expect(e.message).toBe(message);
    expect(e.retryable).toBe(false);
  });
});

describe('describeNetworkError: proxies', () => {
  const env = { HTTPS_PROXY: 'http://alice:s3cret@proxy.corp:3128' };

  it('407 names the proxy by origin only and says whether credentials were sent', () => {
    const withCreds = describeErr(proxyAbort(407), env);
    expect(withCreds.message).toBe('the HTTP proxy http://proxy.corp:3128 requires authentication (HTTP 407)');
    expect(withCreds.hint).toMatch(/rejected the user and password/);
    expect(withCreds.code).toBe('ESP_PROXY_AUTH');
    expect(JSON.stringify(toJsonRpcError(withCreds))).not.toMatch(/alice|s3cret/);
    expect(describeErr(proxyAbort(407), { HTTPS_PROXY: 'http://proxy.corp:3128' }).hint).toMatch(/HTTPS_PROXY=http:\/\/user:password@host:port/);
  });

  it('403 is a refusal, 502 an unreachable target (retryable)', () => {
    const refused = describeErr(proxyAbort(403), env);
    expect(refused).toMatchObject({ code: 'ESP_PROXY_REFUSED', retryable: false, message: 'the HTTP proxy http://proxy.corp:3128 refused to connect to mcp.example.com:8443 (HTTP 403)' });
    expect(refused.hint).toMatch(/NO_PROXY/);
    expect(describeErr(proxyAbort(502), env)).toMatchObject({ code: 'ESP_PROXY_UPSTREAM', retryable: true, message: 'the HTTP proxy http://proxy.corp:3128 could not connect to mcp.example.com:8443 (HTTP 502)' });
  });

  it('recognises the STS tunnel agent\'s wording too', () => {
    const e = describeErr(fetchFailed({ code: 'ESP_PROXY_TUNNEL', message: 'proxy response (407) to CONNECT sts.amazonaws.com:443 from http://proxy.corp:3128' }), env);
    expect(e.code).toBe('ESP_PROXY_AUTH');
  });

  it('a refused or unresolvable proxy is named as the proxy, not the server', () => {
    const local = { HTTPS_PROXY: 'http://u:p@127.0.0.1:3128' };
    expect(describeErr(fetchFailed({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:3128', address: '127.0.0.1', port: 3128 }), local).message).toBe(
      'connection refused by the HTTP proxy http://127.0.0.1:3128',
    );
    // Same refusal with the server exempted by NO_PROXY: it was the server.
    expect(describeErr(fetchFailed({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:8443', address: '10.0.0.1', port: 8443 }), { ...local, NO_PROXY: 'example.com' }).message).toBe(
      'connection refused by mcp.example.com:8443',
    );
    expect(describeErr(fetchFailed({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND proxy.corp', hostname: 'proxy.corp' }), env).message).toBe('cannot resolve the HTTP proxy host proxy.corp');
    expect(describeErr(fetchFailed({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND mcp.example.com', hostname: 'mcp.example.com' }), env).message).toBe('cannot resolve mcp.example.com');
  });
});

describe('describeNetworkError: existing cases', () => {
  it('keeps refused, DNS, timeout, reset, abort and the fallback', () => {
    expect(describeErr(tlsError('ECONNREFUSED')).message).toBe('connection refused by mcp.example.com:8443');
    expect(describeErr(tlsError('EAI_AGAIN')).retryable).toBe(true);
    expect(describeErr(tlsError('UND_ERR_CONNECT_TIMEOUT')).message).toBe('connecting to mcp.example.com:8443 timed out');
    expect(describeErr(tlsError('ECONNRESET', 'read ECONNRESET')).message).toBe('the connection to mcp.example.com:8443 was reset');
    expect(describeErr(Object.assign(new Error('aborted'), { name: 'AbortError' })).message).toBe('the request to mcp.example.com:8443 was aborted');
    expect(describeErr(tlsError('UND_ERR_DESTROYED', 'The client is destroyed')).message).toBe('the request to mcp.example.com:8443 was aborted');
    expect(describeErr(tlsError('EHOSTUNREACH')).message).toBe('cannot reach mcp.example.com:8443 (EHOSTUNREACH)');
    const already = new UpstreamNetworkError('X', 'y');
    expect(describeNetworkError(already, URL_)).toBe(already);
  });
});
