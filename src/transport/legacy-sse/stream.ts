import { ProtocolError, UpstreamHttpError, type ProxyError } from '../../errors.js';
import type { Logger } from '../../logging/logger.js';
import { safeOrigin, safeUrl } from '../../logging/safe-url.js';
import type { HttpClient, UpstreamResponse } from '../http-client.js';
import { describeNetworkError } from '../network-errors.js';
import type { JsonRpcId } from '../../jsonrpc.js';
import { findResponseId } from '../find-response-id.js';
import { eventMessage } from '../event-stream.js';
import type { Deliver } from '../remote-transport.js';
import type { MessageCap } from '../response-cap.js';
import { SseParser, type SseEvent } from '../sse-parser.js';
import { hintForStatus } from '../streamable-http/http-status.js';

/**
 * The GET answered 400/404/405: no legacy SSE endpoint at this URL (`sse-first` then tries
 * Streamable HTTP). 400 is what a Streamable HTTP server answers a GET without a session.
 */
export class NoLegacyEndpointError extends UpstreamHttpError {}

/** One open legacy event stream: where to POST, and a promise that settles when the stream ends. */
export interface LegacyStream {
  /** The URI of the server's `endpoint` event, resolved against MCP_ENDPOINT (same origin). */
  readonly postUrl: URL;
  /** Resolves when the stream ends, with why (the stream is the session: it is gone then). */
  readonly ended: Promise<ProxyError | undefined>;
}

/** Answers the request `id` with `err`: its answer came but cannot be relayed. */
export type RejectAnswer = (id: JsonRpcId, err: ProxyError) => void;

/**
 * Opens the GET event stream of a 2024-11-05 HTTP+SSE server
 * (https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse):
 * waits for its first event, `endpoint`, and relays every `message` event after it to
 * `deliver`. A message that cannot be relayed (over the response cap, not JSON, too deep)
 * goes to `reject` when its id can be found: every answer shares this one stream, so the
 * request it answers is told here. Resolves once the endpoint is known; the stream keeps
 * being read until it ends or `signal` aborts.
 */
export async function openLegacyStream(endpoint: URL, http: HttpClient, log: Logger, deliver: Deliver, reject: RejectAnswer, signal: AbortSignal, endpointTimeoutMs: number): Promise<LegacyStream> {
  const res = await getStream(endpoint, http, signal);
  const parser = new SseParser();
  // The cap applies to each event (README "Response caps").
  parser.maxEventBytes = res.cap?.limit;
  const chunks = res.chunks()[Symbol.asyncIterator]();
  let postUrl: URL | undefined;
  const early: SseEvent[] = [];
  const timer = setTimeout(() => res.discard(), endpointTimeoutMs);
  try {
    while (postUrl === undefined) {
      const next = await chunks.next();
      if (next.done) throw new ProtocolError('ESP_NO_ENDPOINT_EVENT', `the legacy SSE server at ${safeUrl(endpoint)} closed its event stream without sending the endpoint event`, { hint: 'check the server logs; if it is a Streamable HTTP server, use --transport streamable-http' });
      for (const ev of parser.push(next.value)) {
        if (postUrl === undefined) {
          if (ev.event === 'endpoint') postUrl = resolveEndpoint(ev.data.toString('utf8'), endpoint);
          else log.warn({ event: ev.event }, 'ignored an event before the endpoint event of the legacy SSE stream');
        } else if (ev.event === 'message') {
          early.push(ev);
        }
      }
    }
  } catch (err) {
    res.discard();
    if (err instanceof ProtocolError) throw err;
    if (signal.aborted) throw describeNetworkError(err, endpoint);
    throw new ProtocolError('ESP_NO_ENDPOINT_EVENT', `the legacy SSE server at ${safeUrl(endpoint)} sent no endpoint event within ${Math.round(endpointTimeoutMs / 1000)} s of opening its event stream`, { hint: 'check that MCP_ENDPOINT is the SSE URL of the server (often ending in /sse)' });
  } finally {
    clearTimeout(timer);
  }
  log.debug({ postUrl: safeUrl(postUrl) }, 'legacy SSE session open');
  const ended = (async (): Promise<ProxyError | undefined> => {
    const relay = (ev: SseEvent) => relayEvent(ev, deliver, reject, log, res.cap);
    for (const ev of early) await relay(ev);
    try {
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        for (const ev of parser.push(next.value)) if (ev.event === 'message') await relay(ev);
      }
    } catch (err) {
      if (!signal.aborted) return describeNetworkError(err, endpoint);
    } finally {
      res.discard();
    }
    return undefined;
  })();
  return { postUrl, ended };
}

async function getStream(endpoint: URL, http: HttpClient, signal: AbortSignal): Promise<UpstreamResponse> {
  const res = await http.send({ method: 'GET', url: endpoint, headers: { accept: 'text/event-stream' }, body: undefined }, signal, 'stream');
  const type = (res.header('content-type') ?? '').toLowerCase();
  if (res.ok && type.startsWith('text/event-stream')) return res;
  res.discard();
  if (res.status === 400 || res.status === 404 || res.status === 405) {
    throw new NoLegacyEndpointError(`ESP_HTTP_${res.status}`, `the server answered HTTP ${res.status} to the GET that opens a legacy SSE session at ${safeUrl(endpoint)}`, {
      httpStatus: res.status,
      hint: 'check MCP_ENDPOINT (a legacy SSE URL often ends in /sse); for a Streamable HTTP server use --transport auto (the default)',
    });
  }
  if (!res.ok) {
    throw new UpstreamHttpError(`ESP_HTTP_${res.status}`, `the server answered HTTP ${res.status} to the GET that opens a legacy SSE session at ${safeUrl(endpoint)}`, { httpStatus: res.status, hint: hintForStatus(res.status) });
  }
  throw new ProtocolError('ESP_BAD_CONTENT_TYPE', `the server answered the GET that opens a legacy SSE session with content type "${type.slice(0, 60) || 'none'}" instead of an event stream`, {
    httpStatus: res.status,
    hint: 'check that MCP_ENDPOINT is the SSE URL of the server and not a web page or login redirect',
  });
}

/**
 * The `endpoint` event's URI, relative or absolute. Only the origin of MCP_ENDPOINT gets the
 * messages: every POST is signed, and credentials never go anywhere else (the SDK's
 * SSEClientTransport refuses another origin too).
 */
export function resolveEndpoint(data: string, endpoint: URL): URL {
  let url: URL;
  try {
    url = new URL(data.trim(), endpoint);
  } catch {
    throw new ProtocolError('ESP_BAD_ENDPOINT_EVENT', 'the legacy SSE server sent an endpoint event that is not a URI', { hint: 'check the server logs' });
  }
  if (url.origin !== endpoint.origin) {
    throw new ProtocolError('ESP_ENDPOINT_ORIGIN', `the legacy SSE server asked for messages to be sent to another origin (${safeOrigin(url)}) than MCP_ENDPOINT (${safeOrigin(endpoint)}); the proxy refuses so that credentials never leave the configured origin`, {
      hint: 'check the public URL the server is configured with, or point MCP_ENDPOINT at the origin that serves both the event stream and the message endpoint',
    });
  }
  url.hash = '';
  return url;
}

/** Relays one `message` event; one that cannot be relayed answers its request with the error (as on a Streamable HTTP POST). */
async function relayEvent(ev: SseEvent, deliver: Deliver, reject: RejectAnswer, log: Logger, cap: MessageCap | undefined): Promise<void> {
  const carried = eventMessage(ev, log, cap);
  if (carried === undefined) return;
  if ('error' in carried) {
    // An oversized event was not kept whole: only its first and last bytes can name the id.
    const id = ev.tooLarge !== undefined ? findResponseId(ev.head ?? Buffer.alloc(0), ev.tail ?? Buffer.alloc(0)) : findResponseId(ev.data, ev.data);
    rejectFound(id, carried.error, reject, log);
    return;
  }
  await deliver(carried.msg);
}

function rejectFound(id: JsonRpcId | undefined, err: ProxyError, reject: RejectAnswer, log: Logger): void {
  if (id === undefined) log.warn({ code: err.code }, 'no request id found in the event that was dropped; no request is told');
  else reject(id, err);
}
