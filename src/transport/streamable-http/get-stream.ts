import type { ProxyError } from '../../errors.js';
import { sleep } from '../abortable-sleep.js';
import { clampRetry, readEventStream } from '../event-stream.js';
import type { Deliver } from '../remote-transport.js';
import { SseParser } from '../sse-parser.js';
import type { SessionState } from './session-state.js';

const GET_MAX_FAILURES = 10;
/** A GET stream that ends sooner than this without a message counts as a failed attempt. */
const GET_MIN_HEALTHY_MS = 5000;

/**
 * The standalone GET stream for server-initiated messages (list_changed, requests not tied
 * to a POST; spec 2025-11-25, "Listening for Messages from the Server"). At most one runs;
 * starting it again replaces the one before (a new session).
 */
export class GetStream {
  readonly #s: SessionState;
  readonly #life: AbortSignal;
  #ctl: AbortController | undefined;

  /** `life` ends every stream for good (the transport closed). */
  constructor(session: SessionState, life: AbortSignal) {
    this.#s = session;
    this.#life = life;
  }

  /**
   * Resolves once the first GET has its answer: the response headers (whatever the status),
   * or the error that kept it from getting any. From then on the server has the stream (or
   * knows there is none), so a request it sends there is not lost.
   */
  start(deliver: Deliver): Promise<void> {
    this.stop();
    const ctl = new AbortController();
    this.#ctl = ctl;
    const signal = AbortSignal.any([ctl.signal, this.#life]);
    let answered!: () => void;
    const ready = new Promise<void>((resolve) => (answered = resolve));
    this.#run(deliver, signal, answered)
      .catch((err) => this.#s.log.warn({ err }, 'server event stream stopped'))
      .finally(answered);
    return ready;
  }

  stop(): void {
    this.#ctl?.abort();
    this.#ctl = undefined;
  }

  /**
   * 405 means the server offers none. Reconnects with backoff (or the server's retry:) and
   * Last-Event-ID, indefinitely while it keeps working: idle-killing proxies would
   * otherwise silently end notifications.
   */
  async #run(deliver: Deliver, signal: AbortSignal, answered: () => void): Promise<void> {
    const s = this.#s;
    const parser = new SseParser();
    let failures = 0;
    while (!signal.aborted) {
      const headers = s.headers(undefined);
      headers.accept = 'text/event-stream';
      if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
      try {
        const res = await s.http.send(s.request('GET', headers), signal, 'stream').finally(answered);
        const type = res.header('content-type') ?? '';
        if (res.status === 405 || (res.ok && !type.startsWith('text/event-stream'))) {
          res.discard();
          s.log.debug({ status: res.status }, 'the server offers no standalone event stream');
          return;
        }
        if (!res.ok) {
          res.discard();
          failures++;
          s.log.warn({ status: res.status, failures }, 'could not open the server event stream');
          if (res.status === 409 || failures >= GET_MAX_FAILURES) return this.#giveUp(failures);
        } else {
          s.log.debug('server event stream open');
          const opened = Date.now();
          const cursor = parser.lastEventId;
          let delivered = 0;
          await readEventStream(res, parser, (m) => (delivered++, deliver(m)), s.log, signal);
          // A stream that lived a while, carried messages or moved its event cursor (a server
          // that polls) was healthy; one that ends at once, empty, counts against the limit
          // (no reconnect loop against a bad gateway).
          if (delivered > 0 || parser.lastEventId !== cursor || Date.now() - opened >= GET_MIN_HEALTHY_MS) failures = 0;
          else if (++failures >= GET_MAX_FAILURES) return this.#giveUp(failures);
        }
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        s.log.warn({ code: (err as ProxyError).code, failures }, 'server event stream failed');
        if (failures >= GET_MAX_FAILURES) return this.#giveUp(failures);
      }
      await sleep(clampRetry(parser.retryMs, Math.min(30_000, 1000 * 1.5 ** failures)), signal);
    }
  }

  #giveUp(failures: number): void {
    this.#s.log.warn({ failures }, 'gave up on the server event stream: server-initiated messages (list_changed, requests outside a call) will not arrive until the session is renewed');
  }
}
