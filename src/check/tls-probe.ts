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

/**
 * One TLS handshake with the server, with the CA bundle and client identity of the MCP
 * traffic. Verification is judged here rather than by aborting the handshake, so an
 * untrusted certificate is still described (subject, issuer) next to the reason.
 */
export function probeTls(o: TlsProbeOptions): Promise<TlsFacts> {
  const agent = new TunnelAgent({ proxyFor: () => o.proxy, connectTimeoutMs: o.timeoutMs });
  const servername = /^[\d.]+$|:/.test(o.host) ? undefined : o.host;
  return new Promise((resolve, reject) => {
    let current: TLSSocket | undefined;
    const timer = setTimeout(() => {
      current?.destroy();
      reject(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }));
    }, o.timeoutMs);
    const done = (socket: TLSSocket) => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate();
      resolve({
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        subject: name(peer.subject),
        issuer: name(peer.issuer),
        notAfter: new Date(peer.valid_to).toISOString(),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError === null || socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
      });
      socket.destroy();
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
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
