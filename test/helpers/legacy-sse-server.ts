/**
 * A real legacy HTTP+SSE (2024-11-05) MCP server for tests: the SDK's McpServer over
 * SSEServerTransport on 127.0.0.1:0. GET /sse opens a session (its first event is
 * `endpoint`: /messages?sessionId=…), POST /messages?sessionId=… takes client messages.
 * Records every HTTP request.
 */
import type http from 'node:http';
import type https from 'node:https';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { serveRecorded, type Handler, type RecordedRequest } from './mcp-server.js';

export interface LegacySseServerOptions {
  bearerToken?: string;
  /** Wrap the handler (e.g. with a SigV4 verifier). */
  wrap?: (inner: Handler) => Handler;
  tls?: https.ServerOptions;
  /** A POST for an unknown session: 404 (default), or no answer at all (as the reference server does). */
  unknownSession?: 404 | 'hang';
  /** Build the McpServer of each session; default: echo, progress, ask, slow. */
  build?: () => McpServer;
}

export interface LegacySseTestServer {
  /** The SSE URL (MCP_ENDPOINT). */
  url: string;
  requests: RecordedRequest[];
  /** Sessions opened so far (GET /sse answered). */
  sessions(): number;
  /** Ends every open event stream, as a server restart or an idle-killing proxy does. */
  dropStreams(): void;
  close(): Promise<void>;
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'legacy-remote', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo text back', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('progress', { description: 'Emit progress, then finish', inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      // Apart in time, as in mcp-server.ts: one pipe read holding a notification and the
      // response after it loses the notification in the SDK client.
      await new Promise((r) => setTimeout(r, 5));
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  server.registerTool('ask', { description: 'Ask the user via elicitation', inputSchema: {} }, async (_args, extra) => {
    const answer = await extra.sendRequest({ method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } } }, ElicitResultSchema);
    return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
  });
  server.registerTool('slow', { description: 'Answer after ms', inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((r) => setTimeout(r, ms));
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  return server;
}

export async function startLegacySseServer(opts: LegacySseServerOptions = {}): Promise<LegacySseTestServer> {
  const requests: RecordedRequest[] = [];
  const transports = new Map<string, SSEServerTransport>();
  const streams = new Set<http.ServerResponse>();
  let opened = 0;

  const mcp: Handler = async (req, res, body) => {
    if (opts.bearerToken !== undefined && req.headers.authorization !== `Bearer ${opts.bearerToken}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      streams.add(res);
      opened++;
      res.on('close', () => {
        streams.delete(res);
        transports.delete(transport.sessionId);
      });
      await (opts.build ?? buildServer)().connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (transport === undefined) {
        if (opts.unknownSession !== 'hang') res.writeHead(404).end('Session not found');
        return;
      }
      await transport.handlePostMessage(req, res, JSON.parse(body.toString('utf8')));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/html' }).end(`<p>Cannot ${req.method} ${url.pathname}</p>`);
  };
  const handler = opts.wrap ? opts.wrap(mcp) : mcp;
  const { server, port } = await serveRecorded(handler, requests, opts.tls);
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/sse`,
    requests,
    sessions: () => opened,
    dropStreams() {
      for (const res of streams) res.destroy();
    },
    async close() {
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
