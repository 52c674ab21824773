import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, fromJsonSchema, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';

export interface SdkV2Server {
  url: string;
  /** The headers of every request, in order. */
  requests: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * The TypeScript SDK v2 server (MCP 2026-07-28, also serving 2025 clients statelessly) on
 * 127.0.0.1:0: a resource template matching non-ASCII URIs and a tool whose `region` argument is
 * annotated `x-mcp-header: Region` — the server checks Mcp-Name and Mcp-Param-Region.
 */
// The extension keyword is not in the SDK's JSON Schema type.
const DEPLOY_SCHEMA = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] } as Parameters<typeof fromJsonSchema>[0];

export async function startSdkV2Server(): Promise<SdkV2Server> {
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'v2-test', version: '1.0.0' });
    server.registerResource('notes', new ResourceTemplate('file:///home/{user}/notes.txt', { list: undefined }), {}, async (uri, vars) => ({ contents: [{ uri: uri.href, text: `notes of ${String(vars.user)}` }] }));
    server.registerTool(
      'deploy',
      { inputSchema: fromJsonSchema<{ region: string }>(DEPLOY_SCHEMA) },
      async ({ region }) => ({ content: [{ type: 'text', text: `deployed to ${region}` }] }),
    );
    return server;
  });
  const node = toNodeHandler(handler);
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    void node(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
