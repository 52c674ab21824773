/**
 * Puts the independent SigV4 verifier in front of a node:http handler: the loopback
 * stand-in for an IAM-authorised API Gateway / Lambda URL / AgentCore endpoint,
 * so a test sees that exactly the bytes and headers on the wire were signed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headersFromRaw, verifySigV4, type VerifyOptions, type VerifyResult } from './sigv4-verifier.js';

export interface VerifyingHandlerOptions extends Omit<VerifyOptions, 'now'> {
  /** Server clock; defaults to Date.now. Also sets the Date header of a rejection. */
  now?: () => number;
}

export interface VerificationRecord {
  method: string;
  rawPath: string;
  /** The request's x-amz-date, to see that every attempt was signed afresh. */
  amzDate: string | undefined;
  result: VerifyResult;
}

export type InnerHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/**
 * `handler` reads the body itself, or takes it already read (a wrapper such as
 * mcp-server's `wrap` hands it over), so it fits both `http.createServer(handler)` and a
 * `(req, res, body)` chain.
 */
export function createSigV4VerifyingHandler(
  opts: VerifyingHandlerOptions,
  inner: InnerHandler,
): { handler: (req: IncomingMessage, res: ServerResponse, body?: Buffer) => void | Promise<void>; records: VerificationRecord[] } {
  const records: VerificationRecord[] = [];
  const clock = opts.now ?? Date.now;

  const verifyThenServe = (req: IncomingMessage, res: ServerResponse, body: Buffer): void | Promise<void> => {
    const headers = headersFromRaw(req.rawHeaders);
    const now = clock();
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const result = verifySigV4({ method, rawPath, headers, body }, { ...opts, now });
    const amzDate = headers['x-amz-date'];
    records.push({ method, rawPath, amzDate: Array.isArray(amzDate) ? amzDate.join(',') : amzDate, result });
    if (result.ok) return inner(req, res, body);
    // API Gateway's shape: JSON {"message"}, the type in x-amzn-ErrorType, and a Date
    // the client can correct its clock from.
    res.writeHead(result.status, {
      'content-type': 'application/json',
      'x-amzn-ErrorType': result.errorType,
      date: new Date(now).toUTCString(),
    });
    res.end(JSON.stringify({ message: result.message }));
  };

  const handler = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void | Promise<void> => {
    if (body !== undefined) return verifyThenServe(req, res, body);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      Promise.resolve(verifyThenServe(req, res, Buffer.concat(chunks))).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  };
  return { handler, records };
}
