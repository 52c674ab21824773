import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_CONNECTIONS } from '../config/config.js';
import { ProtocolError, UpstreamHttpError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { safeOrigin, safeUrl } from '../logging/safe-url.js';
import { signAll, type AuthFailure, type OutgoingRequest, type Signer, type SignerVerdict } from '../signers/signer.js';
import { sleep } from './abortable-sleep.js';
import { ConnectionBudget, type Lane } from './connection-budget.js';
import { ACCEPT_ENCODING, decodeBody, parseContentEncoding } from './content-encoding.js';
import { readBody } from './read-body.js';
import { DECODED_CEILING, type MessageCap } from './response-cap.js';
import { describeNetworkError, isResetBeforeResponse } from './network-errors.js';
import { CONNECT_RETRY_MS, isTransientStatus, MAX_RETRY_AFTER_MS, retryRules, TRANSIENT_RETRY_MS, type RetryReason } from './retry-rules.js';
import { cloudflareAccessPage, cloudflareAccessRedirect, oauthChallenge } from './auth-hints.js';
import { request, type AgentResponse, type HttpAgent } from './http-agent.js';

export interface HttpClientOptions {
  dispatcher: HttpAgent;
  signers: readonly Signer[];
  logger: Logger;
  now?: () => number;
  /** Whether the dispatcher presents a client certificate (mTLS): a credential, for the 401/403 message. */
  clientCertificate?: boolean;
  /** Requests in flight at once (--max-connections); must match the dispatcher's per-origin connection cap. */
  maxConnections?: number;
  /** Largest message from the server (--max-response-bytes); undefined: no cap. */
  maxResponseBytes?: number | undefined;
}

/**
 * A response whose body streams (SSE, large results) and must be read or discarded. A
 * compressed body (Content-Encoding) is decoded as it streams.
 */
export class UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  /** A Content-Encoding we cannot decode; the body is then passed through as received. */
  readonly unsupportedEncoding: string | undefined;
  /** The largest message this body may carry (a JSON body, one event); see response-cap.ts. */
  readonly cap: MessageCap | undefined;
  readonly #data: AgentResponse;
  readonly #decoded: Readable | undefined;

  constructor(data: AgentResponse, maxResponseBytes?: number) {
    this.#data = data;
    this.status = data.statusCode;
    this.statusText = STATUS_CODES[data.statusCode] ?? '';
    const encoding = parseContentEncoding(this.header('content-encoding'));
    this.unsupportedEncoding = 'unsupported' in encoding ? encoding.unsupported : undefined;
    this.#decoded = 'codings' in encoding && encoding.codings.length > 0 ? decodeBody(data.body, encoding.codings) : undefined;
    this.cap = maxResponseBytes !== undefined ? { limit: maxResponseBytes, configured: true } : this.#decoded !== undefined ? { limit: DECODED_CEILING, configured: false } : undefined;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** One header, lower-case name; repeated headers are joined per https://www.rfc-editor.org/rfc/rfc9110#section-5.3. */
  header(name: string): string | undefined {
    const v = this.#data.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  headerRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of Object.keys(this.#data.headers)) out[name] = this.header(name) as string;
    return out;
  }

  /** The body as a stream of Buffers. */
  chunks(): AsyncIterable<Buffer> {
    return (this.#decoded ?? this.#data.body) as AsyncIterable<Buffer>;
  }

  /** The whole body as one Buffer (a 50 MB result is held once, not as chunks + string). */
  async bytes(): Promise<Buffer> {
    try {
      // Content-Length counts the encoded bytes: it sizes the buffer only for a plain body.
      return await readBody(this.chunks(), this.#decoded === undefined ? Number(this.header('content-length')) : Number.NaN, this.cap);
    } catch (err) {
      this.discard();
      throw err;
    }
  }

  /** Reads at most `limit` bytes as text and discards the rest. */
  async textCapped(limit: number): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of this.chunks()) {
        parts.push(chunk);
        size += chunk.length;
        if (size >= limit) break;
      }
    } finally {
      this.discard();
    }
    return Buffer.concat(parts).subarray(0, limit).toString('utf8');
  }

  /** Frees the connection without reading the rest. */
  discard(): void {
    for (const body of [this.#decoded, this.#data.body]) {
      if (body === undefined || body.destroyed) continue;
      // A body destroyed before its end emits an error (undici: RequestAbortedError); nobody
      // reads it any more, so that error is expected and must not become uncaught.
      body.on('error', () => undefined);
      body.destroy();
    }
  }

  /** Calls `fn` once the connection is done with this response (body read, discarded or broken). */
  onSettled(fn: () => void): void {
    const body = this.#data.body;
    if (body.closed) fn();
    else body.once('close', fn);
  }
}

const AUTH_BODY_LIMIT = 8 * 1024;

/**
 * Sends one request through the signer chain with the attempt loop of docs/architecture.md
 * ("Where each retry rule lives"): signers run on every attempt,
 * redirects are refused (credentials never go to another origin), and a 401/403 gives each signer one chance to refresh and ask for a retry.
 */
export class HttpClient {
  readonly #dispatcher: HttpAgent;
  readonly #signers: readonly Signer[];
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #budget: ConnectionBudget;
  readonly #clientCertificate: boolean;
  readonly #maxResponseBytes: number | undefined;

  constructor(opts: HttpClientOptions) {
    this.#dispatcher = opts.dispatcher;
    this.#signers = opts.signers;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#clientCertificate = opts.clientCertificate ?? false;
    this.#maxResponseBytes = opts.maxResponseBytes;
    const max = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#budget = new ConnectionBudget(max, () =>
      this.#logger.info({ maxConnections: max }, 'the connection cap is reached (--max-connections / MCP_MAX_CONNECTIONS); further calls wait their turn'),
    );
  }

  /**
   * Sends one request once a connection slot is free (`lane`: see ConnectionBudget) and
   * holds the slot until the response body is done. Waiting happens here, before signing,
   * not in the agent's queue: a SigV4 signature is only valid for 5 minutes from its
   * timestamp, and a request queued behind slow calls may wait longer than that. `rules`
   * says when it may be sent again (retry-rules.ts, by the JSON-RPC method it carries).
   */
  async send(req: OutgoingRequest, signal?: AbortSignal, lane: Lane = 'call', rules: ReadonlySet<RetryReason> = retryRules(undefined)): Promise<UpstreamResponse> {
    let release: () => void;
    try {
      release = await this.#budget.acquire(lane, signal);
    } catch (err) {
      throw describeNetworkError(err, req.url);
    }
    try {
      const res = await this.#attempts(req, signal, rules);
      res.onSettled(release);
      return res;
    } catch (err) {
      release();
      throw err;
    }
  }

  async #attempts(req: OutgoingRequest, signal: AbortSignal | undefined, rules: ReadonlySet<RetryReason>): Promise<UpstreamResponse> {
    for (let attempt = 1; ; attempt++) {
      const ctx = { now: this.#now, attempt, logger: this.#logger };
      const signed = await signAll(this.#signers, req, ctx);
      let res: UpstreamResponse;
      try {
        // Neither agent follows redirects by itself (http-agent.ts).
        res = new UpstreamResponse(await request(this.#dispatcher, {
          origin: signed.url.origin,
          path: signed.url.pathname + signed.url.search,
          method: signed.method,
          // Added after signing, like fetch adds it: never part of a signature (README, AWS).
          headers: withAcceptEncoding(signed.headers),
          body: signed.body,
          signal,
        }), this.#maxResponseBytes);
      } catch (err) {
        const mapped = describeNetworkError(err, req.url);
        this.#logger.debug({ code: mapped.code, method: req.method }, 'request failed before a response');
        if (attempt === 1 && !signal?.aborted) {
          // `retryable` marks connect-phase failures (refused, DNS, connect timeout).
          const why: RetryReason | undefined = mapped.retryable ? 'connect' : isResetBeforeResponse(err) ? 'transient' : undefined;
          if (why !== undefined && rules.has(why)) {
            this.#logger.info({ code: mapped.code, method: req.method, reason: why }, 'request failed before a response; retrying once');
            await sleep(why === 'connect' ? CONNECT_RETRY_MS : TRANSIENT_RETRY_MS, signal);
            continue;
          }
        }
        throw mapped;
      }
      if (res.status >= 300 && res.status < 400) {
        res.discard();
        throw redirectError(res, req.url);
      }
      const wait = attempt === 1 && rules.has('retry-after') ? retryAfterMs(res, this.#now()) : undefined;
      if (wait !== undefined) {
        res.discard();
        this.#logger.info({ status: res.status, waitMs: wait }, 'server asked to retry later; retrying once');
        await sleep(wait, signal);
        continue;
      }
      // A Retry-After too long to wait for is the server's answer: not retried sooner.
      if (attempt === 1 && rules.has('transient') && isTransientStatus(res.status) && res.header('retry-after') === undefined) {
        res.discard();
        this.#logger.info({ status: res.status, waitMs: TRANSIENT_RETRY_MS }, 'the server is unavailable; retrying once');
        await sleep(TRANSIENT_RETRY_MS, signal);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const failure: AuthFailure = { status: res.status, headers: res.headerRecord(), bodyText: await res.textCapped(AUTH_BODY_LIMIT) };
        const verdict = await this.#askSigners(failure, ctx);
        if (verdict?.retry && attempt === 1 && rules.has('auth-refresh')) {
          this.#logger.info({ status: res.status }, 'credentials rejected; retrying once with refreshed signing');
          continue;
        }
        throw (
          verdict?.error ??
          oauthChallenge(res.status, failure.headers, req.url) ??
          cloudflareAccessPage(res.status, failure.headers, failure.bodyText) ??
          unauthorizedError(res.status, this.#signers.length > 0, this.#clientCertificate)
        );
      }
      if (res.ok && /^\s*text\/html\b/i.test(res.header('content-type') ?? '')) {
        const page = cloudflareAccessPage(res.status, res.headerRecord(), '');
        if (page !== undefined) {
          res.discard();
          throw page;
        }
      }
      if (res.ok && res.unsupportedEncoding !== undefined) {
        res.discard();
        throw new ProtocolError('ESP_CONTENT_ENCODING', `the server compressed its answer with Content-Encoding "${res.unsupportedEncoding.slice(0, 40)}", which the proxy cannot decode (it offers Accept-Encoding: ${ACCEPT_ENCODING})`, {
          httpStatus: res.status,
          hint: 'configure the server (or the gateway in front of it) to honour Accept-Encoding, or to send gzip, deflate, br or no compression',
        });
      }
      return res;
    }
  }

  /**
   * Every signer hears about a 401/403 (the last one, which owns Authorization, first): any
   * of them may have refreshed something worth one retry; otherwise the first explanation
   * wins.
   */
  async #askSigners(failure: AuthFailure, ctx: { now: () => number; attempt: number; logger: Logger }): Promise<SignerVerdict | undefined> {
    let explained: SignerVerdict | undefined;
    for (let i = this.#signers.length - 1; i >= 0; i--) {
      const verdict = await this.#signers[i]?.onAuthFailure?.(failure, ctx);
      if (verdict?.retry) return verdict;
      explained ??= verdict?.error === undefined ? undefined : verdict;
    }
    return explained;
  }
}

/** Keeps an Accept-Encoding the user configured as a static header. */
function withAcceptEncoding(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'accept-encoding') return headers;
  return { ...headers, 'accept-encoding': ACCEPT_ENCODING };
}

/** Retry-After (https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3: delay-seconds or an HTTP-date) on a 429/503, if short enough. */
function retryAfterMs(res: UpstreamResponse, now: number): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const raw = res.header('retry-after')?.trim();
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw) - now;
  if (!Number.isFinite(ms) || ms > MAX_RETRY_AFTER_MS) return undefined;
  return Math.max(0, ms);
}

/**
 * A 401/403 no signer explained. Without any signer the request carried no Authorization
 * or other credential header, so "check the credentials" would send the user looking for
 * something that does not exist.
 */
function unauthorizedError(status: number, credentialsSent: boolean, clientCertificate: boolean): UpstreamHttpError {
  if (!credentialsSent && clientCertificate) {
    return new UpstreamHttpError('ESP_UPSTREAM_AUTH', `the server rejected the request as unauthorized (HTTP ${status}); the proxy presented the client certificate and sent no other credential`, {
      httpStatus: status,
      hint: 'check that the server accepts this client certificate for this path, and whether it also wants a token (MCP_BEARER_TOKEN, --header) or SigV4',
    });
  }
  if (credentialsSent) {
    return new UpstreamHttpError('ESP_UPSTREAM_AUTH', `the server rejected the request as unauthorized (HTTP ${status})`, {
      httpStatus: status,
      hint: 'check the credentials configured for this server',
    });
  }
  return new UpstreamHttpError('ESP_UPSTREAM_AUTH', `the server rejected the request as unauthorized (HTTP ${status}); no credentials are configured, so the proxy sent no Authorization or other credential header (signer none, no --header, no headers helper)`, {
    httpStatus: status,
    hint: 'set MCP_BEARER_TOKEN or MCP_BEARER_TOKEN_FILE for a bearer token, --header "Name: value" / MCP_HEADERS for an API key, --oauth-client-id with MCP_OAUTH_CLIENT_SECRET for OAuth client credentials, or --signer sigv4 for an AWS IAM endpoint, in the "env" block or args of this MCP server\'s configuration',
  });
}

function redirectError(res: UpstreamResponse, from: URL): UpstreamHttpError {
  let target = 'an unknown location';
  const location = res.header('location');
  if (location !== undefined) {
    try {
      const to = new URL(location, from);
      const access = cloudflareAccessRedirect(res.status, to);
      if (access !== undefined) return access;
      // Same origin: the path may carry a key (and the query a signature), so it is printed
      // masked like every URL; another origin by its origin alone.
      target = to.origin === from.origin ? safeUrl(to) : `another origin (${safeOrigin(to)})`;
    } catch {
      target = 'an invalid location';
    }
  }
  return new UpstreamHttpError('ESP_REDIRECT', `the server answered HTTP ${res.status} redirecting to ${target}; redirects are not followed so credentials never leave the configured origin`, {
    httpStatus: res.status,
    hint: 'set MCP_ENDPOINT to the final URL of the MCP server',
  });
}
