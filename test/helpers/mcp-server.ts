/**
 * A real remote MCP server for tests: the SDK's McpServer over StreamableHTTPServerTransport
 * on 127.0.0.1:0, recording every HTTP request it receives.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema, ListRootsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** CN of the client certificate, for HTTPS servers that request one. */
  peerCn?: string | undefined;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

export interface McpServerOptions {
  /** Demand `Authorization: Bearer <token>` (401 otherwise). */
  bearerToken?: string;
  /** Answer with application/json instead of SSE. */
  jsonResponse?: boolean;
  /** Wrap the MCP handler (e.g. with a SigV4 verifier). */
  wrap?: (inner: Handler) => Handler;
  /** Serve HTTPS with these options (mTLS tests). */
  tls?: https.ServerOptions;
  /** Path of the MCP endpoint, default /mcp. */
  path?: string;
}

export interface McpTestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Close every session transport: later requests with old ids get 404 (spec: expiry). */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'test-remote', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('echo', { description: 'Echo text back', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('progress', { description: 'Emit progress, then finish', inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  // The last step right before the result, as most servers send them: a relay that lets
  // both land in one read of the client's stdout loses that step in the SDK client.
  server.registerTool('progress_tail', { description: 'Emit progress, the last step right before the result', inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (i > 1) await new Promise((r) => setTimeout(r, 2));
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  // A request with no related request goes out on the standalone GET stream, or nowhere if
  // none is open yet (the conformance suite's sampling and elicitation tests do this).
  server.registerTool('ask_standalone', { description: 'Elicit on the standalone GET stream', inputSchema: {} }, async () => {
    try {
      const answer = await server.server.elicitInput({ message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }, { timeout: 3000 });
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
    } catch (err) {
      return { content: [{ type: 'text', text: `lost: ${String(err)}` }], isError: true };
    }
  });
  server.registerTool('ask', { description: 'Ask the user via elicitation', inputSchema: {} }, async (_args, extra) => {
    const answer = await extra.sendRequest(
      { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } } },
      ElicitResultSchema,
    );
    return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
  });
  server.registerTool('roots', { description: 'List client roots', inputSchema: {} }, async (_args, extra) => {
    const roots = await extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema);
    return { content: [{ type: 'text', text: JSON.stringify(roots.roots) }] };
  });
  server.registerTool('big', { description: 'Return a large text', inputSchema: { bytes: z.number() } }, async ({ bytes }) => ({
    content: [{ type: 'text', text: 'x'.repeat(bytes) }],
  }));
  server.registerTool('slow', { description: 'Answer after ms', inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((r) => setTimeout(r, ms));
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  server.registerTool('change_tools', { description: 'Send tools/list_changed on the GET stream', inputSchema: {} }, async () => {
    setTimeout(() => server.sendToolListChanged(), 20);
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  return server;
}

/**
 * Serves `handler` on 127.0.0.1, port 0 (https with `tls`), recording every request in
 * `requests` (with the client certificate's CN) before the handler sees it.
 */
export async function serveRecorded(handler: Handler, requests: RecordedRequest[], tls: https.ServerOptions | undefined): Promise<{ server: http.Server; port: number }> {
  const listener = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await readBody(req);
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8'), peerCn: peer?.subject?.CN as string | undefined });
    try {
      await handler(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startMcpServer(opts: McpServerOptions = {}): Promise<McpTestServer> {
  const path = opts.path ?? '/mcp';
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  const mcp: Handler = async (req, res, body) => {
    if (opts.bearerToken !== undefined && req.headers.authorization !== `Bearer ${opts.bearerToken}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
      return;
    }
    if (!req.url?.startsWith(path)) {
      res.writeHead(404).end();
      return;
    }
    const parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const t = sessions.get(sid);
      if (t === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
        return;
      }
      await t.handleRequest(req, res, parsed);
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: opts.jsonResponse ?? false,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await buildServer().connect(transport);
    await transport.handleRequest(req, res, parsed);
  };
  const handler = opts.wrap ? opts.wrap(mcp) : mcp;

  const { server, port } = await serveRecorded(handler, requests, opts.tls);
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    port,
    requests,
    async expireSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((t) => t.close()));
    },
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
