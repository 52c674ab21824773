/**
 * The servers of the era matrix: the SDK v1 server (2025 revisions, sessions) and the SDK v2
 * server (2026-07-28, serving 2025 clients statelessly), each with the same `echo` and
 * `progress` tools, behind a bearer check or the independent SigV4 verifier. The v2 server
 * also has `greet` (an input-required elicitation round, which stateless 2025 serving
 * cannot carry) and `touch` (publishes tools/list_changed to the listen streams).
 *
 * `progress` leaves a pause between its last step and its result: the SDK client drops a
 * progress notification that shares a stdout read with its response (the proxy's stdout
 * writer keeps them apart by a few milliseconds, which a loaded machine can overrun; that
 * race has its own tests), and this matrix is about what each era relays.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport as HttpServerV1 } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { acceptedContent, createMcpHandler, fromJsonSchema, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { serveRecorded, type Handler, type RecordedRequest } from './mcp-server.js';
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

const STEP_MS = 5;
const BEFORE_RESULT_MS = 50;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function v1Server(): McpServerV1 {
  const server = new McpServerV1({ name: 'era-v1', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo text back', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('progress', { description: 'Emit progress, then finish', inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      await pause(i === steps ? BEFORE_RESULT_MS : STEP_MS);
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  return server;
}

/** The v1 server with sessions, as 2025 servers are deployed. */
function v1Handler(): { mcp: Handler; close(): Promise<void> } {
  const sessions = new Map<string, HttpServerV1>();
  const mcp: Handler = async (req, res, body) => {
    const parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (typeof sid === 'string' && existing === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    if (existing) return existing.handleRequest(req, res, parsed);
    const transport: HttpServerV1 = new HttpServerV1({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessions.set(id, transport) });
    await v1Server().connect(transport);
    await transport.handleRequest(req, res, parsed);
  };
  return { mcp, close: async () => void (await Promise.all([...sessions.values()].map((t) => t.close()))) };
}

const NO_ARGS = fromJsonSchema<Record<string, never>>({ type: 'object', properties: {} } as Parameters<typeof fromJsonSchema>[0]);
const NAME_SCHEMA = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };

function v2Server(toolsChanged: () => void): McpServer {
  const server = new McpServer({ name: 'era-v2', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('greet', { description: 'Ask for a name, then greet', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'who');
    if (answer === undefined) return inputRequired({ inputRequests: { who: inputRequired.elicit({ message: 'Who are you?', requestedSchema: NAME_SCHEMA }) } });
    return { content: [{ type: 'text', text: `hello ${answer.name}` }] };
  });
  server.registerTool('touch', { description: 'Announce a tool list change', inputSchema: NO_ARGS }, async () => {
    setTimeout(toolsChanged, 10);
    return { content: [{ type: 'text', text: 'touched' }] };
  });
  server.registerTool('echo', { description: 'Echo text back', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('progress', { description: 'Emit progress, then finish', inputSchema: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      await pause(i === steps ? BEFORE_RESULT_MS : STEP_MS);
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  });
  return server;
}

export async function startEraServer(kind: ServerKind, signer: SignerKind): Promise<EraServer> {
  let mcp: Handler;
  let closeSessions = async (): Promise<void> => undefined;
  if (kind === 'v1') {
    const v1 = v1Handler();
    mcp = v1.mcp;
    closeSessions = v1.close;
  } else {
    const handler = createMcpHandler(() => v2Server(() => handler.notify.toolsChanged()));
    const node = toNodeHandler(handler);
    mcp = (req, res, body) => node(req, res, body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
  }
  const requests: RecordedRequest[] = [];
  const { server, port } = await serveRecorded(guard(signer, mcp), requests, undefined);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      await closeSessions().catch(() => undefined);
      (server as http.Server).closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
