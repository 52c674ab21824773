import { ProtocolError } from '../../errors.js';
import { describeMessage, type ClientMessageInfo } from '../../jsonrpc.js';
import { sleep } from '../abortable-sleep.js';
import { clampRetry, readEventStream, type SseOutcome } from '../event-stream.js';
import { describeNetworkError } from '../network-errors.js';
import { messageValue, parseRemote, unrelayable, type Deliver, type RemoteMessage } from '../remote-transport.js';
import { retryRules } from '../retry-rules.js';
import { SseParser } from '../sse-parser.js';
import { isModern } from './era.js';
import { HEADER_MISMATCH, refreshToolSchema } from './header-mismatch.js';
import { httpError, SessionExpiredError } from './http-status.js';
import { LISTEN } from './listen.js';
import type { SessionState } from './session-state.js';

const RESUME_ATTEMPTS = 3;

/**
 * One client message POSTed and everything the server answers on that POST relayed: a
 * JSON body, an event stream (resumed with GET + Last-Event-ID when it breaks before the
 * response), or 202/204 (spec 2025-11-25, "Sending Messages to the Server"). Throws
 * SessionExpiredError on a 404 to a request that carried a session id; the caller decides
 * whether to renew the session.
 */
export async function postMessage(s: SessionState, body: Uint8Array, info: ClientMessageInfo, deliver: Deliver, isAnswered: () => boolean, signal: AbortSignal, retried = false): Promise<void> {
  const headers = s.headers(info, s.id, body);
  headers['content-type'] = 'application/json';
  headers.accept = 'application/json, text/event-stream';
  // Only requests are calls: notifications and the client's answers must never wait
  // behind them (a call may be waiting for that very answer). A subscriptions/listen stays
  // open as long as the client listens: a stream, never counted as a call.
  const lane = info.kind !== 'request' ? 'control' : info.method === LISTEN ? 'stream' : 'call';
  const res = await s.http.send(s.request('POST', headers, body), signal, lane, retryRules(info.method));
  // The session id comes with the InitializeResult (spec, "Session Management"); a late
  // answer from an old session must not replace the current one.
  if (info.method === 'initialize') s.capture(res);
  if (res.status === 404 && headers['mcp-session-id'] !== undefined) {
    res.discard();
    throw new SessionExpiredError();
  }
  if (res.status === 202 || res.status === 204) {
    res.discard();
    return;
  }
  if (res.status === 400 && !retried && info.method === 'tools/call' && info.name !== undefined && s.toolHeaders !== undefined) {
    // HeaderMismatch: the tool's schema changed since it was listed. Held back, and
    // answered only if the refresh and retry cannot be made.
    let mismatch: RemoteMessage | undefined;
    const hold: Deliver = async (m) => {
      if ((messageValue(m) as { error?: { code?: unknown } }).error?.code === HEADER_MISMATCH) mismatch = m;
      else await deliver(m);
    };
    const err = await httpError(res, info, hold, s.endpoint, s.log);
    if (mismatch === undefined) throw err;
    const params = (JSON.parse(Buffer.from(body).toString('utf8')) as { params?: { _meta?: unknown } }).params;
    const refreshed = await refreshToolSchema(s, info.name, params?._meta, info.protocolVersion, signal).catch(() => false);
    if (!refreshed) {
      await deliver(mismatch);
      throw err;
    }
    s.log.info({ tool: info.name }, 'the server reported a header mismatch; retrying the call once with the tool schema listed again');
    return postMessage(s, body, info, deliver, isAnswered, signal, true);
  }
  if (!res.ok) throw await httpError(res, info, deliver, s.endpoint, s.log);
  const type = (res.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('text/event-stream')) {
    const parser = new SseParser();
    // A request's stream is done once its response is in, whether or not the server ends it
    // (spec: it SHOULD); otherwise each answered call would pin a socket for good.
    const done = info.kind === 'request' ? isAnswered : undefined;
    let { broken, rejected } = await readEventStream(res, parser, deliver, s.log, signal, done);
    // 2026-07-28 streams are not resumable (Streamable HTTP, "Receiving Messages"): a
    // broken one is the request's end.
    if (!isAnswered() && !isModern(info, s.protocolVersion)) {
      const resumed = await resume(s, parser, deliver, isAnswered, signal);
      broken = resumed.broken ?? broken;
      rejected = resumed.rejected ?? rejected;
    }
    if (isAnswered() || signal.aborted) return;
    // An event that could not be relayed was most likely the answer: say so, as for a
    // JSON body. A stream that broke before the answer and could not be resumed: say
    // that, not "the server did not answer" (the relay's fallback).
    if (rejected !== undefined) throw rejected;
    if (broken !== undefined) throw describeNetworkError(broken, s.endpoint);
    return;
  }
  if (type.startsWith('application/json')) {
    let raw: Buffer;
    try {
      raw = await res.bytes();
    } catch (err) {
      throw describeNetworkError(err, s.endpoint);
    }
    await deliverJson(raw, deliver);
    return;
  }
  const rest = await res.textCapped(1).catch(() => '');
  if (rest === '' && info.kind !== 'request') return; // 200 with no body to a notification
  throw new ProtocolError('ESP_BAD_CONTENT_TYPE', `the server answered ${info.method ?? 'a message'} with content type "${type.slice(0, 60) || 'none'}" instead of JSON or an event stream`, {
    httpStatus: res.status,
    hint: 'check that MCP_ENDPOINT is the MCP endpoint and not a web page or login redirect',
  });
}

async function deliverJson(raw: Buffer, deliver: Deliver): Promise<void> {
  // A UTF-8 BOM before the JSON is dropped, as a text decoder drops it.
  const body = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
  let messages: RemoteMessage[];
  try {
    const single = parseRemote(body);
    if (single.info === undefined && single.bytes[0] === 0x5b) {
      // A batch (2025-03-26 allowed them), checked by the scan: one line per message.
      messages = (JSON.parse(single.bytes.toString('utf8')) as unknown[]).map((m) => ({ bytes: Buffer.from(JSON.stringify(m)), info: describeMessage(m) }));
    } else {
      messages = [single];
    }
  } catch (err) {
    throw unrelayable(err, 'a response body');
  }
  for (const m of messages) await deliver(m);
}

/**
 * A POST stream that ended before the response, after events with ids: resume with GET +
 * Last-Event-ID (MCP 2025-11-25 "Resumability and Redelivery"; servers may close after
 * priming and expect the client to poll).
 */
async function resume(s: SessionState, parser: SseParser, deliver: Deliver, isAnswered: () => boolean, signal: AbortSignal): Promise<SseOutcome> {
  const outcome: SseOutcome = {};
  for (let attempt = 0; attempt < RESUME_ATTEMPTS && !isAnswered() && parser.sawId && parser.lastEventId !== undefined; attempt++) {
    await sleep(clampRetry(parser.retryMs, 500), signal);
    if (signal.aborted) return {};
    const headers = s.headers(undefined);
    headers.accept = 'text/event-stream';
    headers['last-event-id'] = parser.lastEventId;
    const res = await s.http.send(s.request('GET', headers), signal);
    if (!res.ok || !(res.header('content-type') ?? '').startsWith('text/event-stream')) {
      res.discard();
      s.log.warn({ status: res.status }, 'the server refused to resume a broken stream');
      return outcome;
    }
    const cursor = parser.lastEventId;
    const next = await readEventStream(res, parser, deliver, s.log, signal, isAnswered);
    outcome.broken = next.broken;
    outcome.rejected = next.rejected ?? outcome.rejected;
    // A clean end that moved the cursor is a server polling us along (2025-11-25 servers
    // behind gateways with short limits), not a failure: keep following it. The client's
    // notifications/cancelled still ends this loop through `signal`.
    if (next.broken === undefined && parser.lastEventId !== cursor) attempt = -1;
  }
  return outcome;
}
