import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';

export interface StsResponse {
  readonly status: number;
  readonly body: string;
}

/** One form POST to STS; swappable so the HTTP path can be rewired without touching AssumeRole. */
export type StsPost = (url: URL, headers: Readonly<Record<string, string>>, body: string) => Promise<StsResponse>;

export interface StsHttpOptions {
  /** For https: the CA bundle / proxy tunnel agent (src/tls/aws-request-handler.ts); default Node's global agent. */
  readonly agent?: HttpsAgent | undefined;
  /** Deadline for the TCP (and TLS) connection; none when undefined, as for the SDK's default handler. */
  readonly connectTimeoutMs?: number | undefined;
}

/** STS answers are a few KiB; anything longer is cut (only Code/Message/Credentials are read). */
const MAX_BODY = 64 * 1024;
/** Idle socket limit, the AWS SDK's default for Node (defaultSocketTimeout). */
const SOCKET_TIMEOUT_MS = 300_000;

function timeoutError(message: string): Error {
  // The SDK's name for it, which the credential-error classification knows.
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

/**
 * node:http / node:https for STS, as the SDK's node-http-handler does it: http:// endpoints
 * (local fakes) directly, https:// through `agent`. Network errors reject with Node's
 * own error (its `code`, e.g. ECONNREFUSED, is what gets classified).
 */
export function createStsPost(opts: StsHttpOptions = {}): StsPost {
  return (url, headers, body) =>
    new Promise<StsResponse>((resolve, reject) => {
      const https = url.protocol === 'https:';
      const send = https ? httpsRequest : httpRequest;
      const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(https && opts.agent !== undefined ? { agent: opts.agent } : {}) });
      req.setTimeout(SOCKET_TIMEOUT_MS, () => req.destroy(timeoutError(`no answer from STS within ${SOCKET_TIMEOUT_MS / 1000} s`)));
      if (opts.connectTimeoutMs !== undefined) {
        const ms = opts.connectTimeoutMs;
        req.once('socket', (socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(() => req.destroy(timeoutError(`could not connect to STS within ${ms} ms`)), ms);
          socket.once(https ? 'secureConnect' : 'connect', () => clearTimeout(timer));
          socket.once('close', () => clearTimeout(timer));
        });
      }
      req.once('error', reject);
      req.once('response', (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_BODY) text += chunk;
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.once('error', reject);
      });
      req.end(body);
    });
}
