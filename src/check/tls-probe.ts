import { connect as netConnect } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ClientIdentityTls } from '../tls/client-identity.js';
import { TunnelAgent } from '../tls/tunnel-agent.js';

export interface TlsFacts {
  readonly protocol: string | null;
  readonly cipher: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notAfter: string;
  /** Whether the chain and host name verified against the trust in use. */
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
}

export interface TlsProbeOptions {
  readonly host: string;
  readonly port: number;
  /** The trust the dispatcher uses (default roots plus --ca-cert), undefined: Node's defaults. */
  readonly ca: string[] | undefined;
  readonly identity: ClientIdentityTls | undefined;
  /** Through this proxy's CONNECT tunnel, as the MCP traffic goes. */
  readonly proxy: URL | undefined;
  readonly timeoutMs: number;
}

function name(entity: PeerCertificate['subject'] | undefined): string {
  if (entity === undefined) return '?';
  const parts = (['CN', 'O', 'OU'] as const).flatMap((k) => (entity[k] === undefined ? [] : [`${k}=${String(entity[k])}`]));
  return parts.length === 0 ? '?' : parts.join(', ');
}

/** The HTTP request that shows whether a TLS 1.3 server accepted the client certificate: no credentials, no body. */
function headRequest(host: string, port: number): string {
  return `HEAD / HTTP/1.1\r\nhost: ${host.includes(':') ? `[${host}]` : host}:${port}\r\nuser-agent: mcp-signing-proxy-check\r\nconnection: close\r\n\r\n`;
}

/**
 * One TLS handshake with the server, with the CA bundle and client identity of the MCP
 * traffic. Verification is judged here rather than by aborting the handshake, so an
 * untrusted certificate is still described (subject, issuer) next to the reason.
 *
 * A TLS 1.3 server checks the client certificate after the client's handshake is done
 * (https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2), and answers a missing or refused
 * one with an alert or a close. So on TLS 1.3 with a trusted server the probe sends a HEAD
 * request and waits for the first byte of any answer: an alert or a close before it fails
 * the probe as the MCP traffic would fail; a server that stays silent until the timeout
 * accepted the handshake.
 */
export function probeTls(o: TlsProbeOptions): Promise<TlsFacts> {
  const agent = new TunnelAgent({ proxyFor: () => o.proxy, connectTimeoutMs: o.timeoutMs });
  const servername = /^[\d.]+$|:/.test(o.host) ? undefined : o.host;
  return new Promise((resolve, reject) => {
    let current: TLSSocket | undefined;
    let accepted: TlsFacts | undefined;
    const timer = setTimeout(() => {
      current?.destroy();
      if (accepted !== undefined) resolve(accepted);
      else reject(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }));
    }, o.timeoutMs);
    const finish = (socket: TLSSocket, facts: TlsFacts) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(facts);
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      current?.destroy();
      reject(err);
    };
    const done = (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      const facts: TlsFacts = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        subject: name(peer.subject),
        issuer: name(peer.issuer),
        notAfter: new Date(peer.valid_to).toISOString(),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError === null || socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
      };
      // Nothing goes to a server whose certificate did not verify.
      if (facts.protocol !== 'TLSv1.3' || !facts.authorized) return finish(socket, facts);
      accepted = facts;
      socket.once('data', () => finish(socket, facts));
      // The same shape node-http-agent.ts gives a close before any response byte.
      socket.once('close', () => fail(Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' })));
      socket.write(headRequest(o.host, o.port));
    };
    const options = { host: o.host, port: o.port, servername, ...(o.ca === undefined ? {} : { ca: o.ca }), ...o.identity, rejectUnauthorized: false };
    const socket = agent.createConnection(options, (err, stream) => {
      if (err !== null) return fail(err);
      watch(stream as TLSSocket);
    }) as TLSSocket | undefined;
    if (socket !== undefined && socket !== null) watch(socket);
    function watch(s: TLSSocket): void {
      current = s;
      s.once('secureConnect', () => done(s));
      s.once('error', fail);
    }
  });
}

/** A plain TCP connect, for http:// endpoints. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
  });
}
