import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { AgentRequest, AgentResponse, HttpAgent } from './http-agent.js';

export interface NodeHttpAgentOptions {
  /** TCP connect plus, for https, the TLS handshake (--connect-timeout). */
  readonly connectTimeoutMs: number;
  /** Connections per origin at most (--max-connections); more requests queue in the agent. */
  readonly maxConnections: number;
  /** The most response-header bytes accepted. */
  readonly maxHeaderSize: number;
  /** How long an idle keep-alive connection is kept (shortened by a server's Keep-Alive hint). */
  readonly idleTimeoutMs: number;
  /** For https origins: CA bundle, verification, client identity. */
  readonly tls: ConnectionOptions;
}

/**
 * Direct connections over node:http / node:https keep-alive agents: loading them costs
 * nothing at start-up, where undici's modules cost 20–40 ms (README, "Performance"). Errors
 * keep the codes network-errors.ts classifies; see HttpAgent for the contract.
 */
export class NodeHttpAgent implements HttpAgent {
  readonly #options: NodeHttpAgentOptions;
  readonly #inFlight = new Set<ClientRequest>();
  #http: http.Agent | undefined;
  #https: HttpsAgent | undefined;
  #closing: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  constructor(options: NodeHttpAgentOptions) {
    this.#options = options;
  }

  async request(opts: AgentRequest): Promise<AgentResponse> {
    const { signal } = opts;
    if (this.#closing !== undefined) throw agentClosed();
    if (signal?.aborted) throw signal.reason;
    const url = new URL(opts.origin);
    const secure = url.protocol === 'https:';
    const send = secure ? this.#httpsModule().request : http.request;
    const req = send({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: opts.path,
      method: opts.method,
      headers: opts.headers,
      agent: secure ? this.#httpsAgent() : this.#httpAgent(),
      maxHeaderSize: this.#options.maxHeaderSize,
      // No timeout while a request is active (a tool call may answer late, an SSE stream
      // may be silent for minutes); the agent's idle timeout applies again once it is free.
      timeout: 0,
    });
    this.#track(req);

    return new Promise((resolve, reject) => {
      let res: IncomingMessage | undefined;
      const onAbort = () => (res ?? req).destroy(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal?.removeEventListener('abort', onAbort));
      // Stays attached for the request's life: a socket error after the response reaches
      // the body (as "aborted"), and must not also become an uncaught 'error'.
      req.on('error', (err) => reject(res === undefined ? beforeResponse(err) : err));
      req.once('response', (r: IncomingMessage) => {
        res = r;
        resolve({ statusCode: r.statusCode ?? 0, headers: distinctHeaders(r), body: r });
      });
      req.end(opts.body);
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const done = () => {
        this.#destroyAgents();
        resolve();
      };
      if (this.#inFlight.size === 0) done();
      else this.#idle = done;
    });
    return this.#closing;
  }

  async destroy(err?: Error | null): Promise<void> {
    this.#closing ??= Promise.resolve();
    for (const req of this.#inFlight) req.destroy(err ?? agentClosed());
    this.#destroyAgents();
  }

  #track(req: ClientRequest): void {
    this.#inFlight.add(req);
    req.once('close', () => {
      this.#inFlight.delete(req);
      if (this.#inFlight.size === 0) this.#idle?.();
    });
  }

  #httpAgent(): http.Agent {
    this.#http ??= this.#withConnectDeadline(new http.Agent(this.#agentOptions()), 'connect');
    return this.#http;
  }

  #httpsAgent(): HttpsAgent {
    this.#https ??= this.#withConnectDeadline(new (this.#httpsModule().Agent)({ ...this.#agentOptions(), ...this.#options.tls }), 'secureConnect');
    return this.#https;
  }

  /**
   * undici's connectTimeout, which node:http lacks: every new socket must be connected
   * (for https: its handshake done, `ready` = secureConnect) in time. Set where the agent
   * creates sockets, so a request on a reused socket pays nothing for it.
   */
  #withConnectDeadline<A extends http.Agent>(agent: A, ready: 'connect' | 'secureConnect'): A {
    const ms = this.#options.connectTimeoutMs;
    const create = agent.createConnection.bind(agent);
    agent.createConnection = (...args: Parameters<http.Agent['createConnection']>) => {
      const socket = create(...args) as Socket;
      const timer = setTimeout(() => {
        socket.destroy(Object.assign(new Error(`connecting timed out after ${ms} ms`), { code: 'ETIMEDOUT' }));
      }, ms);
      socket.once(ready, () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
      return socket;
    };
    return agent;
  }

  /** node:https (and node:tls under it) load on the first https request only. */
  #httpsModule(): typeof import('node:https') {
    return process.getBuiltinModule('node:https');
  }

  #agentOptions(): http.AgentOptions {
    return { keepAlive: true, maxSockets: this.#options.maxConnections, timeout: this.#options.idleTimeoutMs };
  }

  #destroyAgents(): void {
    this.#http?.destroy();
    this.#https?.destroy();
  }
}

/**
 * An error before any response byte, in the terms undici gives (network-errors.ts
 * classifies those, and the answers to the host carry the code):
 * - node:http says "socket hang up" when the server closes the connection without
 *   answering; undici says "other side closed" (UND_ERR_SOCKET).
 * - A TLS 1.3 server checks the client certificate after the client's handshake is done
 *   and then sends an alert ("certificate required", "unknown ca" …) and closes; node:http
 *   reports that alert as ERR_SSL_<protocol>_ALERT_<reason>, kept as it is: it says why.
 * - node:http writes the request before the handshake ends, so a handshake alert arrives
 *   as a failed write (EPROTO) naming OpenSSL's reason in its message only; undici writes
 *   after the handshake and gets Node's code for it, ERR_SSL_<reason>.
 */
function beforeResponse(err: Error & { code?: unknown }): Error {
  const closed = () => Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' });
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return closed();
  const reason = err.code === 'EPROTO' ? /:SSL routines:[^:]*:([^:]+):/.exec(err.message)?.[1] : undefined;
  if (reason !== undefined) return Object.assign(new Error(err.message), { code: `ERR_SSL_${reason.toUpperCase().replace(/ /g, '_')}` });
  return err;
}

function agentClosed(): Error {
  return Object.assign(new Error('the HTTP agent is closed'), { code: 'ESP_AGENT_CLOSED' });
}

/** undici's shape: one string per header, an array for a repeated one (node:http would join or drop repeats). */
function distinctHeaders(res: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}
