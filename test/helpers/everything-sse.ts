/**
 * The reference server `@modelcontextprotocol/server-everything` in its `sse` mode, served
 * in process on 127.0.0.1:0. Its own launcher (`mcp-server-everything sse`) listens on every
 * interface of a fixed port; this front mirrors its routing (GET /sse, POST /message) on
 * loopback only, with the package's own server factory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';

interface Everything {
  createServer(): { server: { connect(t: unknown): Promise<void>; server: { onclose?: () => void } }; cleanup(sessionId: string): void };
}

// A variable specifier: the package ships no type declarations.
const FACTORY = '@modelcontextprotocol/server-everything/dist/server/index.js';

export interface EverythingServer {
  url: string;
  close(): Promise<void>;
}

export async function startEverythingSse(): Promise<EverythingServer> {
  const { createServer } = (await import(FACTORY)) as Everything;
  const transports = new Map<string, SSEServerTransport>();
  const cleanups: Array<() => void> = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const { server: mcp, cleanup } = createServer();
      const transport = new SSEServerTransport('/message', res);
      transports.set(transport.sessionId, transport);
      cleanups.push(() => cleanup(transport.sessionId));
      mcp.server.onclose = () => {
        transports.delete(transport.sessionId);
        cleanup(transport.sessionId);
      };
      await mcp.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/message') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (transport !== undefined) await transport.handlePostMessage(req, res);
      return; // an unknown session is left unanswered, as the package's launcher does
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sse`,
    async close() {
      for (const c of cleanups) c();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
