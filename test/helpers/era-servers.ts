/**
 * The servers of the era matrix: the SDK v1 server (2025 revisions, sessions) and the SDK v2
 * server (2026-07-28, serving 2025 clients statelessly), each with the same `echo` and
 * `progress` tools, behind a bearer check or the independent SigV4 verifier.
 */
import http from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { serveRecorded, startMcpServer, type Handler, type RecordedRequest } from './mcp-server.js';
import { createSigV4VerifyingHandler } from './sigv4-server.js';

export type ServerKind = 'v1' | 'v2';
export type SignerKind = 'bearer' | 'sigv4';

export const BEARER = 'era-matrix-token';
export const SIGV4 = { service: 'execute-api', region: 'eu-west-1', accessKeyId: 'AKIDERAMATRIX', secretAccessKey: 'era-matrix-secret' };

export interface EraServer {
  url: string;
  close(): Promise<void>;
}

/** The proxy settings that sign for `signer`. */
export function signerEnv(signer: SignerKind): Record<string, string> {
  return signer === 'bearer'
    ? { MCP_BEARER_TOKEN: BEARER }
    : { MCP_SIGV4_SERVICE: SIGV4.service, AWS_REGION: SIGV4.region, AWS_ACCESS_KEY_ID: SIGV4.accessKeyId, AWS_SECRET_ACCESS_KEY: SIGV4.secretAccessKey };
}

function guard(signer: SignerKind, inner: Handler): Handler {
  if (signer === 'sigv4') {
    const lookup = (id: string) => (id === SIGV4.accessKeyId ? { secretAccessKey: SIGV4.secretAccessKey } : undefined);
    return createSigV4VerifyingHandler({ service: SIGV4.service, region: SIGV4.region, credentials: lookup }, inner).handler;
  }
  return (req, res, body) => {
    if (req.headers.authorization !== `Bearer ${BEARER}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
      return;
    }
    return inner(req, res, body);
  };
}

function v2Server(): McpServer {
  const server = new McpServer({ name: 'era-v2', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo text back', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('progress', { description: 'Emit progress, then finish', inputSchema: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      await new Promise((r) => setTimeout(r, 5));
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  return server;
}

export async function startEraServer(kind: ServerKind, signer: SignerKind): Promise<EraServer> {
  if (kind === 'v1') {
    const s = await startMcpServer({ wrap: (inner) => guard(signer, inner) });
    return { url: s.url, close: () => s.close() };
  }
  const node = toNodeHandler(createMcpHandler(v2Server));
  const mcp: Handler = (req, res, body) => node(req, res, body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
  const requests: RecordedRequest[] = [];
  const { server, port } = await serveRecorded(guard(signer, mcp), requests, undefined);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      (server as http.Server).closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
