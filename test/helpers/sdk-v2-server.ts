import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { acceptedContent, createMcpHandler, type ServerNotifier, fromJsonSchema, inputRequired, inputResponse, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { createSigV4VerifyingHandler, type VerificationRecord, type VerifyingHandlerOptions } from './sigv4-server.js';

export interface SdkV2Server {
  url: string;
  /** The headers of every request, in order. */
  requests: http.IncomingHttpHeaders[];
  /** The parsed body of every POST, in order. */
  bodies: any[];
  /** Tool calls whose handler saw its request cancelled, by tool name. */
  cancelled: string[];
  /** With `sigv4`: what the verifier found for each request. */
  sigv4: VerificationRecord[];
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

export interface SdkV2ServerOptions {
  /** Add the tools and capabilities the bridge tests use (below); default: `deploy` and `notes` only. */
  bridgeTools?: boolean;
  /** How 2025-era clients are served: the SDK default `stateless`, or `reject` (modern only). */
  legacy?: 'stateless' | 'reject';
  /** Every request must carry `Authorization: Bearer <bearer>`, else 401. */
  bearer?: string;
  /** Every request must be SigV4-signed as these options say, else 403. */
  sigv4?: VerifyingHandlerOptions;
}

/**
 * The TypeScript SDK v2 server (MCP 2026-07-28, also serving 2025 clients statelessly unless
 * `legacy: 'reject'`) on 127.0.0.1:0, with:
 * - a resource template matching non-ASCII URIs and a tool `deploy` whose `region` argument is
 *   annotated `x-mcp-header: Region` (the server checks Mcp-Name and Mcp-Param-Region);
 * - `touch`, which announces a tools list change on the listen streams, and `wait`, which
 *   runs until its request is cancelled;
 * and with `bridgeTools` (plus the `logging` and `resources.subscribe` capabilities):
 * - `greet`: an input-required elicitation round (asks for a name), `haiku`: a sampling round,
 *   `endless`: asks for input on every round;
 * - `count`: three progress notifications (then a short pause), `slow`: runs until cancelled, `chatty`: logs at
 *   info and error level;
 * - `add-tool`: registers the tool `extra` and publishes tools/list_changed.
 */
// The extension keyword is not in the SDK's JSON Schema type.
const DEPLOY_SCHEMA = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] } as Parameters<typeof fromJsonSchema>[0];
const NO_ARGS = fromJsonSchema<Record<string, never>>({ type: 'object', properties: {} } as Parameters<typeof fromJsonSchema>[0]);
const NAME_SCHEMA = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };

export async function startSdkV2Server(opts: SdkV2ServerOptions = {}): Promise<SdkV2Server> {
  const cancelled: string[] = [];
  let extraTool = false;
  let aborted = 0;
  let running = 0;
  const runningChanged = new Set<() => void>();
  let notify: ServerNotifier | undefined;
  const handler = createMcpHandler(
    () => {
      const capabilities = { tools: { listChanged: true }, ...(opts.bridgeTools ? { logging: {}, resources: { subscribe: true } } : {}) };
      const server = new McpServer({ name: 'v2-test', version: '1.0.0' }, { capabilities });
      server.registerResource('notes', new ResourceTemplate('file:///home/{user}/notes.txt', { list: undefined }), {}, async (uri, vars) => ({ contents: [{ uri: uri.href, text: `notes of ${String(vars.user)}` }] }));
      server.registerTool('deploy', { inputSchema: fromJsonSchema<{ region: string }>(DEPLOY_SCHEMA) }, async ({ region }) => ({ content: [{ type: 'text', text: `deployed to ${region}` }] }));
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
      if (!opts.bridgeTools) return server;
      server.registerTool('greet', { inputSchema: NO_ARGS }, async (_args, ctx) => {
        const answer = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'who');
        if (answer === undefined) return inputRequired({ inputRequests: { who: inputRequired.elicit({ message: 'Who are you?', requestedSchema: NAME_SCHEMA }) }, requestState: 'asked-once' });
        return { content: [{ type: 'text', text: `hello ${answer.name} (state ${String(ctx.mcpReq.requestState())})` }] };
      });
      server.registerTool('haiku', { inputSchema: NO_ARGS }, async (_args, ctx) => {
        const answer = inputResponse(ctx.mcpReq.inputResponses, 'poem');
        if (answer.kind !== 'sampling') return inputRequired({ inputRequests: { poem: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'a haiku' } }], maxTokens: 50 }) } });
        const content = answer.result.content as { type: string; text?: string };
        return { content: [{ type: 'text', text: `the model said: ${content.text ?? ''}` }] };
      });
      server.registerTool('endless', { inputSchema: NO_ARGS }, async () => inputRequired({ inputRequests: { again: inputRequired.elicit({ message: 'Again?', requestedSchema: NAME_SCHEMA }) } }));
      server.registerTool('count', { inputSchema: NO_ARGS }, async (_args, ctx) => {
        const token = ctx.mcpReq._meta?.progressToken;
        for (let i = 1; i <= 3; i++) if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3 } });
        // The SDK v1 client drops progress that shares a stdout read with the result (see
        // src/stdio/stdout-writer.ts): a pause keeps this test about the relay, not that race.
        await new Promise((resolve) => setTimeout(resolve, 30));
        return { content: [{ type: 'text', text: 'counted' }] };
      });
      server.registerTool('slow', { inputSchema: NO_ARGS }, async (_args, ctx) => {
        await new Promise<void>((resolve) => ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true }));
        cancelled.push('slow');
        return { content: [{ type: 'text', text: 'cancelled' }] };
      });
      server.registerTool('chatty', { inputSchema: NO_ARGS }, async (_args, ctx) => {
        await ctx.mcpReq.log('info', 'an info line');
        await ctx.mcpReq.log('error', 'an error line');
        return { content: [{ type: 'text', text: 'logged' }] };
      });
      server.registerTool('add-tool', { inputSchema: NO_ARGS }, async () => {
        extraTool = true;
        setTimeout(() => handler.notify.toolsChanged(), 10);
        return { content: [{ type: 'text', text: 'added' }] };
      });
      if (extraTool) server.registerTool('extra', { inputSchema: NO_ARGS }, async () => ({ content: [{ type: 'text', text: 'extra' }] }));
      return server;
    },
    { legacy: opts.legacy ?? 'stateless' },
  );
  notify = handler.notify;
  const node = toNodeHandler(handler);
  const listens = new Set<http.ServerResponse>();
  const requests: http.IncomingHttpHeaders[] = [];
  const bodies: any[] = [];
  const serve = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void => {
    if (opts.bearer !== undefined && req.headers.authorization !== `Bearer ${opts.bearer}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"unauthorized"}');
      return;
    }
    void node(req, res, body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
  };
  const verifying = opts.sigv4 === undefined ? undefined : createSigV4VerifyingHandler(opts.sigv4, serve);
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    if (req.headers['mcp-method'] === 'subscriptions/listen') {
      listens.add(res);
      res.on('close', () => listens.delete(res));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0) bodies.push(JSON.parse(body.toString('utf8')));
      void (verifying === undefined ? serve(req, res, body) : verifying.handler(req, res, body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    requests,
    bodies,
    cancelled,
    sigv4: verifying?.records ?? [],
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
