/**
 * Reading a text/event-stream response into remote messages, one event at a time. Shared by
 * every stream that carries JSON-RPC messages as `message` events (a POST's response stream,
 * the standalone GET stream, their resumptions).
 */
import type { ProxyError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { UpstreamResponse } from './http-client.js';
import { parseRemote, unrelayable, type Deliver, type RemoteMessage } from './remote-transport.js';
import { tooLarge, type MessageCap } from './response-cap.js';
import type { SseParser, SseEvent } from './sse-parser.js';

/** How reading an event stream ended: the error that broke it, an event not relayed. */
export interface SseOutcome {
  broken?: unknown;
  rejected?: ProxyError;
}

/** The server's `retry:` is honoured within sane bounds (0 would spin, > 2^31 ms wraps). */
export function clampRetry(ms: number | undefined, fallback: number): number {
  return ms === undefined ? fallback : Math.min(60_000, Math.max(500, ms));
}

/**
 * Streams SSE events to `deliver` one at a time; never accumulates the stream. Reports the
 * error that broke the stream, if one did (not when `signal` aborted it), and the last
 * event that could not be relayed. `done` ends the read early (the awaited answer is in).
 */
export async function readEventStream(res: UpstreamResponse, parser: SseParser, deliver: Deliver, log: Logger, signal: AbortSignal, done?: () => boolean): Promise<SseOutcome> {
  const outcome: SseOutcome = {};
  // The cap applies to each event (README "Response caps").
  parser.maxEventBytes = res.cap?.limit;
  const relay = async (events: SseEvent[]) => {
    for (const ev of events) outcome.rejected = (await deliverEvent(ev, deliver, log, res.cap)) ?? outcome.rejected;
  };
  try {
    for await (const chunk of res.chunks()) {
      await relay(parser.push(chunk));
      if (done?.()) {
        res.discard();
        return outcome;
      }
    }
    await relay(parser.end());
  } catch (err) {
    if (signal.aborted) return outcome;
    log.warn({ code: (err as { code?: string }).code, resumable: parser.sawId }, 'event stream from the server broke off');
    outcome.broken = err;
  }
  return outcome;
}

/**
 * What one `message` event carries, for every transport that reads event streams: the
 * message to relay, the error its request gets instead (over the cap, not JSON, too deep;
 * logged here), or nothing (priming and keep-alive events carry no data).
 */
export function eventMessage(ev: SseEvent, log: Logger, cap: MessageCap | undefined): { msg: RemoteMessage } | { error: ProxyError } | undefined {
  if (ev.tooLarge !== undefined && cap !== undefined) {
    log.warn({ bytes: ev.tooLarge, limit: cap.limit }, 'dropped an event over the response cap');
    return { error: tooLarge(ev.tooLarge, false, cap) };
  }
  if (ev.data.length === 0) return undefined;
  try {
    return { msg: parseRemote(ev.data) };
  } catch (err) {
    const error = unrelayable(err, 'an event');
    log.warn({ bytes: ev.data.length, code: error.code }, 'dropped an event that cannot be relayed');
    return { error };
  }
}

/** Relays one event; returns the error when its data cannot be relayed (it is dropped). */
async function deliverEvent(ev: SseEvent, deliver: Deliver, log: Logger, cap: MessageCap | undefined): Promise<ProxyError | undefined> {
  if (ev.event !== 'message') return undefined;
  const carried = eventMessage(ev, log, cap);
  if (carried === undefined) return undefined;
  if ('error' in carried) return carried.error;
  await deliver(carried.msg);
  return undefined;
}
