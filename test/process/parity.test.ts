import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

const TOKEN = 'parity-token';

/** The same client workload; returns everything observable to the client. */
async function scenario(client: Client) {
  const progress: number[] = [];
  return {
    server: client.getServerVersion(),
    capabilities: client.getServerCapabilities(),
    tools: (await client.listTools()).tools,
    echo: await client.callTool({ name: 'echo', arguments: { text: 'ünï 🚀 "quotes" \n newline' } }),
    progress: await client.callTool({ name: 'progress', arguments: { steps: 3 } }, CallToolResultSchema, { onprogress: (p) => progress.push(p.progress) }),
    progressSeen: progress,
    ask: await client.callTool({ name: 'ask', arguments: {} }),
    roots: await client.callTool({ name: 'roots', arguments: {} }),
    unknownTool: await client.callTool({ name: 'no-such-tool', arguments: {} }).catch((e: Error) => ({ thrown: e.message })),
    ping: await client.ping(),
  };
}

describe('parity: direct vs through the proxy', () => {
  let server: McpTestServer;
  beforeAll(async () => {
    server = await startMcpServer({ bearerToken: TOKEN });
  });
  afterAll(async () => server.close());

  it('gives the same results', async () => {
    const direct = new Client({ name: 'test-host', version: '1.0.0' }, { capabilities: { elicitation: {}, roots: { listChanged: true } } });
    direct.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
    direct.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
    await direct.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    const a = await scenario(direct);
    await direct.close();

    const proxied = await connectClient({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: TOKEN });
    const b = await scenario(proxied.client);
    await proxied.close();

    expect(b).toEqual(a);
    expect(a.progressSeen).toEqual([1, 2, 3]);
  });
});
