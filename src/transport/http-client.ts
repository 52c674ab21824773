import { fetch, type Dispatcher, type Response } from 'undici';
import { UpstreamHttpError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { signAll, type AuthFailure, type OutgoingRequest, type Signer, type SignerVerdict } from '../signers/signer.js';
import { describeNetworkError } from './network-errors.js';

export interface HttpClientOptions {
  dispatcher: Dispatcher;
  signers: readonly Signer[];
  logger: Logger;
  now?: () => number;
}

const AUTH_BODY_LIMIT = 8 * 1024;

export function headerRecord(headers: Headers | import('undici').Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** Reads at most `limit` bytes of a body as text, then cancels the rest. */
export async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * Sends one request through the signer chain with the attempt loop of DESIGN.md: signers
 * run on every attempt, redirects are refused (credentials never go to another origin),
 * and a 401/403 gives each signer one chance to refresh and ask for a retry.
 */
export class HttpClient {
  readonly #dispatcher: Dispatcher;
  readonly #signers: readonly Signer[];
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(opts: HttpClientOptions) {
    this.#dispatcher = opts.dispatcher;
    this.#signers = opts.signers;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  async send(req: OutgoingRequest, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const ctx = { now: this.#now, attempt, logger: this.#logger };
      const signed = await signAll(this.#signers, req, ctx);
      let res: Response;
      try {
        res = await fetch(signed.url, {
          method: signed.method,
          headers: signed.headers,
          body: signed.body,
          redirect: 'manual',
          dispatcher: this.#dispatcher,
          signal,
        });
      } catch (err) {
        const mapped = describeNetworkError(err, req.url);
        this.#logger.debug({ code: mapped.code, method: req.method }, 'request failed before a response');
        throw mapped;
      }
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw redirectError(res, req.url);
      }
      if (res.status === 401 || res.status === 403) {
        const failure: AuthFailure = { status: res.status, headers: headerRecord(res.headers), bodyText: await readCapped(res, AUTH_BODY_LIMIT) };
        const verdict = await this.#askSigners(failure, ctx);
        if (verdict?.retry && attempt === 1) {
          this.#logger.info({ status: res.status }, 'credentials rejected; retrying once with refreshed signing');
          continue;
        }
        throw verdict?.error ?? new UpstreamHttpError('ESP_UPSTREAM_AUTH', `the server rejected the request as unauthorized (HTTP ${res.status})`, {
          httpStatus: res.status,
          hint: 'check the credentials configured for this server',
        });
      }
      return res;
    }
  }

  async #askSigners(failure: AuthFailure, ctx: { now: () => number; attempt: number; logger: Logger }): Promise<SignerVerdict | undefined> {
    // The last signer (SigV4, bearer) owns Authorization, so it speaks first.
    for (let i = this.#signers.length - 1; i >= 0; i--) {
      const verdict = await this.#signers[i]?.onAuthFailure?.(failure, ctx);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  }
}

function redirectError(res: Response, from: URL): UpstreamHttpError {
  let target = 'an unknown location';
  const location = res.headers.get('location');
  if (location !== null) {
    try {
      const to = new URL(location, from);
      target = to.origin === from.origin ? `${to.origin}${to.pathname}` : `another origin (${to.origin})`;
    } catch {
      target = 'an invalid location';
    }
  }
  return new UpstreamHttpError('ESP_REDIRECT', `the server answered HTTP ${res.status} redirecting to ${target}; redirects are not followed so credentials never leave the configured origin`, {
    httpStatus: res.status,
    hint: 'set MCP_ENDPOINT to the final URL of the MCP server',
  });
}
