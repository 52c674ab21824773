import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ScriptedServer {
  url: string;
  hits: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A bare node:http server on 127.0.0.1:0 whose answers a test scripts (faults, redirects). */
export async function startScriptedServer(handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<ScriptedServer> {
  const hits: ScriptedServer['hits'] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    handle(req, res, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A port on which nothing listens. A port bound and released again can be taken by another
 * test's server before it is used (tests run in parallel), so low ports, outside the
 * ephemeral range the kernel hands out, are tried first and checked to refuse.
 */
export async function closedPort(): Promise<number> {
  for (const port of [1, 9, 13, 17, 19]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no refusing low port found on 127.0.0.1');
}
