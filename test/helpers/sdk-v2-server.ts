import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, fromJsonSchema, McpServer, ResourceTemplate, type ServerNotifier } from '@modelcontextprotocol/server';

export interface SdkV2Server {
  url: string;
  /** The headers of every request, in order. */
  requests: http.IncomingHttpHeaders[];
  /** Publishes change events to the open subscriptions/listen streams. */
  notify: ServerNotifier;
  /** How many `wait` tool calls saw their request aborted (the client closed the stream). */
  aborted(): number;
  /** Resolves once `n` `wait` calls are running. */
  waiting(n: number): Promise<void>;
  /** The open subscriptions/listen responses. */
  openListens(): number;
  /** Cuts every open subscriptions/listen stream (its socket), as a gateway's idle timeout does. */
  dropListens(): void;
  close(): Promise<void>;
}

/**
 * The TypeScript SDK v2 server (MCP 2026-07-28, also serving 2025 clients statelessly) on
 * 127.0.0.1:0: a resource template matching non-ASCII URIs and a tool whose `region` argument is
 * annotated `x-mcp-header: Region` — the server checks Mcp-Name and Mcp-Param-Region; a
 * `touch` tool that announces a tools list change on the listen streams, and a `wait` tool
 * that runs until its request is cancelled.
 */
// The extension keyword is not in the SDK's JSON Schema type.
const DEPLOY_SCHEMA = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] } as Parameters<typeof fromJsonSchema>[0];

export async function startSdkV2Server(): Promise<SdkV2Server> {
  let aborted = 0;
  let running = 0;
  const runningChanged = new Set<() => void>();
  let notify: ServerNotifier | undefined;
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'v2-test', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.registerResource('notes', new ResourceTemplate('file:///home/{user}/notes.txt', { list: undefined }), {}, async (uri, vars) => ({ contents: [{ uri: uri.href, text: `notes of ${String(vars.user)}` }] }));
    server.registerTool(
      'deploy',
      { inputSchema: fromJsonSchema<{ region: string }>(DEPLOY_SCHEMA) },
      async ({ region }) => ({ content: [{ type: 'text', text: `deployed to ${region}` }] }),
    );
    server.registerTool('touch', {}, async () => {
      notify?.toolsChanged();
      return { content: [{ type: 'text', text: 'touched' }] };
    });
    server.registerTool('wait', {}, async (ctx) => {
      const signal = ctx.mcpReq.signal;
      running++;
      for (const f of runningChanged) f();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        signal.addEventListener('abort', () => (aborted++, clearTimeout(timer), resolve()), { once: true });
      });
      return { content: [{ type: 'text', text: 'waited' }] };
    });
    return server;
  });
  notify = handler.notify;
  const node = toNodeHandler(handler);
  const requests: http.IncomingHttpHeaders[] = [];
  const listens = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    if (req.headers['mcp-method'] === 'subscriptions/listen') {
      listens.add(res);
      res.on('close', () => listens.delete(res));
    }
    void node(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    requests,
    notify: handler.notify,
    aborted: () => aborted,
    waiting: (n) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (running < n) return;
          runningChanged.delete(check);
          resolve();
        };
        runningChanged.add(check);
        check();
      }),
    openListens: () => listens.size,
    dropListens() {
      for (const res of listens) res.socket?.destroy();
    },
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
