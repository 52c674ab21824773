import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface TunnelAgentOptions extends AgentOptions {
  /** The proxy for a target host/port, or undefined to connect directly (NO_PROXY). */
  proxyFor(host: string, port: number): URL | undefined;
  /** Deadline for reaching the proxy and getting its CONNECT answer. */
  connectTimeoutMs: number;
}

/**
 * An https.Agent that reaches proxied hosts through an HTTP CONNECT tunnel, for traffic
 * that does not go through undici: the AWS SDK's STS calls use node:https, which ignores
 * HTTPS_PROXY on Node 20 (no NODE_USE_ENV_PROXY before 22.21/24.5). The TLS handshake with the target runs
 * inside the tunnel with this agent's options (`ca` …), so the proxy sees only host:port.
 * The proxy is asked per connection, so NO_PROXY is honoured per host.
 */
export class TunnelAgent extends HttpsAgent {
  readonly #proxyFor: TunnelAgentOptions['proxyFor'];
  readonly #timeoutMs: number;

  constructor({ proxyFor, connectTimeoutMs, ...options }: TunnelAgentOptions) {
    super(options);
    this.#proxyFor = proxyFor;
    this.#timeoutMs = connectTimeoutMs;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const proxy = this.#proxyFor(host, port);
    if (proxy === undefined) return super.createConnection(options, callback);
    // node:http's Agent accepts the socket through the callback (_http_agent.js createSocket).
    openTunnel(proxy, host, port, this.#timeoutMs, this.options.ca).then(
      (socket) => callback?.(null, tlsConnect({ ...(options as ConnectionOptions), host, port, socket })),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/**
 * Sends `CONNECT host:port` to the proxy and resolves with the raw tunnel socket. Proxy
 * credentials come from the proxy URL's userinfo, as undici's ProxyAgent does; errors name
 * the proxy by origin only and use undici's "proxy response (NNN)" wording so
 * describeNetworkError treats both alike.
 */
function openTunnel(proxy: URL, host: string, port: number, timeoutMs: number, ca: AgentOptions['ca']): Promise<Socket> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username !== '') {
    const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  const tlsToProxy = proxy.protocol === 'https:';
  const req = (tlsToProxy ? httpsRequest : httpRequest)({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxy.port === '' ? (tlsToProxy ? 443 : 80) : Number(proxy.port),
    method: 'CONNECT',
    path: target,
    headers,
    agent: false,
    timeout: timeoutMs,
    ...(tlsToProxy && ca !== undefined ? { ca } : {}),
  });
  return new Promise((resolve, reject) => {
    req.once('connect', (res, socket: Socket) => {
      if (res.statusCode === 200) {
        socket.setTimeout(0); // the connect deadline must not become an idle timeout
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(Object.assign(new Error(`proxy response (${res.statusCode}) to CONNECT ${target} from ${proxy.origin}`), { code: 'ESP_PROXY_TUNNEL' }));
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error(`no CONNECT answer from the proxy ${proxy.origin}`), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}
