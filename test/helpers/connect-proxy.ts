import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic base64(user:password)`; otherwise answer 407. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Answer 403 to CONNECT targets ("host:port") this returns true for. */
  readonly deny?: (target: string) => boolean;
}

export interface ConnectProxy {
  /** http://127.0.0.1:PORT (no credentials). */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT target ("host:port") in arrival order, including refused ones. */
  readonly targets: string[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP CONNECT proxy that records what it was asked to tunnel to. Plain
 * (non-CONNECT) requests get 405: everything we send is HTTPS, so those would be a bug.
 */
export async function startConnectProxy(opts: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const targets: string[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const expectedAuth = opts.auth && `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;

  const server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connection', track);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    targets.push(target);
    client.on('error', () => undefined);
    if (expectedAuth !== undefined && req.headers['proxy-authorization'] !== expectedAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (opts.deny?.(target)) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const sep = target.lastIndexOf(':');
    const host = target.slice(0, sep).replace(/^\[|\]$/g, '');
    const upstream = connect(Number(target.slice(sep + 1)), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
