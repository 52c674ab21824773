/**
 * Scripted upstreams for the fault tests (test/process/catalogue-*.test.ts): a minimal Streamable HTTP "server"
 * on node:http whose per-request behaviour a test scripts (faults mid-body, SSE streams
 * that break, replays on GET + Last-Event-ID, duplicates), and a raw TCP HTTP/1.1 server
 * for responses node:http refuses to produce (bytes it would reject in header values).
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Hit {
  seq: number;
  at: number;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Parsed JSON body (POST), if any. */
  msg: any;
}

export interface FakeMcp {
  url: string;
  hits: Hit[];
  /** Timestamps (ms) of marks the scripts set, e.g. when the initialize result was written. */
  marks: Map<string, number>;
  /** Number of TCP connections open right now, and the most open at once while a request arrived. */
  connections(): { open: number; peak: number; total: number };
  close(): Promise<void>;
}

export type RequestScript = (msg: any, res: http.ServerResponse, req: http.IncomingMessage, server: FakeMcp) => unknown;

export interface FakeMcpOptions {
  /** Session id header for the initialize response (undefined: none). Default "sess-1". */
  sessionId?: string | null;
  /** How initialize is answered; default JSON with the requested protocolVersion. */
  onInitialize?: RequestScript;
  /** Every other request (with an id) from the client. Default: a result echoing the id. */
  onRequest?: RequestScript;
  /** POSTed client responses (to server→client requests). Default 202. */
  onClientResponse?: RequestScript;
  /** GET with Last-Event-ID (stream resumption). Default 405. */
  onResume?: (lastEventId: string, res: http.ServerResponse, req: http.IncomingMessage, server: FakeMcp) => unknown;
  /** GET without Last-Event-ID (standalone stream). Default 405. */
  onGet?: (res: http.ServerResponse, req: http.IncomingMessage, server: FakeMcp) => unknown;
  /** DELETE. Default 200. */
  onDelete?: (res: http.ServerResponse) => unknown;
}

export function sse(ev: { id?: string; event?: string; data?: unknown; retry?: number }): string {
  let out = '';
  if (ev.id !== undefined) out += `id: ${ev.id}\n`;
  if (ev.event !== undefined) out += `event: ${ev.event}\n`;
  if (ev.retry !== undefined) out += `retry: ${ev.retry}\n`;
  const data = ev.data === undefined ? '' : typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data);
  for (const line of data.split('\n')) out += `data: ${line}\n`;
  return out + '\n';
}

export function initResult(msg: any): object {
  return {
    jsonrpc: '2.0',
    id: msg.id,
    result: { protocolVersion: msg.params?.protocolVersion ?? '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } },
  };
}

export function result(id: unknown, value: unknown = {}): object {
  return { jsonrpc: '2.0', id, result: value };
}

export async function startFakeMcp(opts: FakeMcpOptions = {}): Promise<FakeMcp> {
  const hits: Hit[] = [];
  const marks = new Map<string, number>();
  let seq = 0;
  let open = 0;
  let peak = 0;
  let total = 0;
  const sessionId = opts.sessionId === undefined ? 'sess-1' : opts.sessionId;
  // eslint-disable-next-line prefer-const
  let self: FakeMcp;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let msg: any;
    try {
      msg = body === '' ? undefined : JSON.parse(body);
    } catch {
      msg = undefined;
    }
    hits.push({ seq: seq++, at: Date.now(), method: req.method ?? '', headers: req.headers, body, msg });
    try {
      if (req.method === 'DELETE') return void (opts.onDelete ? opts.onDelete(res) : res.writeHead(200).end());
      if (req.method === 'GET') {
        const last = req.headers['last-event-id'];
        if (typeof last === 'string') return void (opts.onResume ? opts.onResume(last, res, req, self) : res.writeHead(405).end());
        return void (opts.onGet ? opts.onGet(res, req, self) : res.writeHead(405).end());
      }
      if (msg?.method === 'initialize') {
        if (opts.onInitialize) return void (await opts.onInitialize(msg, res, req, self));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (sessionId !== null) headers['mcp-session-id'] = sessionId;
        res.writeHead(200, headers).end(JSON.stringify(initResult(msg)));
        marks.set('init-result', Date.now());
        return;
      }
      if (msg !== undefined && msg.method === undefined) {
        if (opts.onClientResponse) return void (await opts.onClientResponse(msg, res, req, self));
        return void res.writeHead(202).end();
      }
      if (msg !== undefined && msg.id === undefined) return void res.writeHead(202).end();
      if (opts.onRequest) return void (await opts.onRequest(msg, res, req, self));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result(msg?.id, { echo: msg?.params ?? null })));
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  // A socket the client closed counts as closed from its EOF on, and the peak is taken when
  // a request arrives: the server may accept the client's next connection in the same turn
  // of its event loop before it reads the EOF of the one the client closed first, so a count
  // taken at accept time would see a socket more than the client ever had open.
  server.on('connection', (s) => {
    open++;
    total++;
    let counted = true;
    const gone = () => {
      if (counted) open--;
      counted = false;
    };
    s.once('end', gone).once('close', gone);
  });
  server.on('request', () => (peak = Math.max(peak, open)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    hits,
    marks,
    connections: () => ({ open, peak, total }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return self;
}

export interface RawRequest {
  method: string;
  head: string;
  body: string;
  msg: any;
}

export interface RawServer {
  url: string;
  requests: RawRequest[];
  close(): Promise<void>;
}

/**
 * A TCP server that parses just enough HTTP/1.1 (Content-Length bodies) and lets the test
 * write the response bytes itself. One request per connection (it answers Connection: close).
 */
export async function startRawHttpServer(respond: (req: RawRequest, socket: net.Socket) => void): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let done = false;
    socket.on('data', (chunk) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      done = true;
      const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
      let msg: any;
      try {
        msg = body === '' ? undefined : JSON.parse(body);
      } catch {
        msg = undefined;
      }
      const req = { method: head.slice(0, head.indexOf(' ')), head, body, msg };
      requests.push(req);
      respond(req, socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Raw HTTP/1.1 response bytes; header values are written as given (latin1). */
export function rawResponse(status: number, headers: Array<[string, string]>, body = ''): Buffer {
  const b = Buffer.from(body, 'utf8');
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'X'}`, ...headers.map(([n, v]) => `${n}: ${v}`), `content-length: ${b.length}`, 'connection: close'];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), b]);
}
