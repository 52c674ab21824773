/**
 * What a request is to the server, for the connection budget:
 * - `call`: a client request (tools/call …) and its stream; may take minutes;
 * - `control`: the client's notifications (notifications/cancelled) and its answers to the
 *   server's requests (elicitation, ping), and the closing DELETE; short, and a call may be
 *   waiting on one of them;
 * - `stream`: a stream open for as long as the client wants it: the standalone GET event
 *   stream (2025) or a `subscriptions/listen` request (2026-07-28).
 */
export type Lane = 'call' | 'control' | 'stream';

/** Slots that calls never take: one for the event stream, one for the client's messages. */
export const RESERVED_SLOTS = 2;

interface Waiter {
  grant: () => void;
}

/**
 * Bounds the requests in flight to one server to `total`, so at most that many sockets are
 * open to it; the rest wait in FIFO order per lane. Calls may hold at most `total -
 * RESERVED_SLOTS` slots: calls that fill every slot would otherwise keep the event stream
 * from reconnecting and the client's cancellations and answers from going out — and a call
 * waiting for an elicitation answer would deadlock.
 *
 * Streams never end by themselves. The first one takes its reserved slot, so it never waits
 * for a call. Each further one (a client MAY listen more than once) takes a slot from the
 * calls' share: a free one at once or, when calls fill their share, the next slot a call
 * frees, ahead of the calls still queued. The calls' share shrinks by those streams but never
 * below half. The slot for the client's messages stays free of both.
 */
export class ConnectionBudget {
  readonly total: number;
  readonly #callShare: number;
  readonly #streamLimit: number;
  #inUse = 0;
  #callsInUse = 0;
  #streamsInUse = 0;
  readonly #calls: Waiter[] = [];
  readonly #controls: Waiter[] = [];
  readonly #streams: Waiter[] = [];
  /** Called the first time a call has to wait (for one log line). */
  readonly #onFirstWait: (() => void) | undefined;
  #waited = false;

  constructor(total: number, onFirstWait?: () => void) {
    if (!Number.isInteger(total) || total <= RESERVED_SLOTS) throw new RangeError(`a connection budget needs more than ${RESERVED_SLOTS} slots`);
    this.total = total;
    this.#callShare = total - RESERVED_SLOTS;
    this.#streamLimit = 1 + Math.floor(this.#callShare / 2);
    this.#onFirstWait = onFirstWait;
  }

  /**
   * Resolves with a release function once `lane` may send; rejects with the signal's reason
   * if it aborts first (a cancelled call leaves the queue). Release is idempotent.
   */
  acquire(lane: Lane, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queue = this.#queue(lane);
    if (queue.length === 0 && this.#fits(lane)) return Promise.resolve(this.#take(lane));
    if (lane === 'call' && !this.#waited) {
      this.#waited = true;
      this.#onFirstWait?.();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = queue.indexOf(waiter);
        if (i !== -1) queue.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#take(lane));
        },
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #queue(lane: Lane): Waiter[] {
    return lane === 'call' ? this.#calls : lane === 'stream' ? this.#streams : this.#controls;
  }

  #fits(lane: Lane): boolean {
    if (this.#inUse >= this.total) return false;
    if (lane === 'call') return this.#callsInUse < this.#callShare - Math.max(0, this.#streamsInUse - 1);
    if (lane === 'stream') return this.#streamsInUse < this.#streamLimit && this.#callsInUse + this.#streamsInUse < this.total - 1;
    return true;
  }

  #take(lane: Lane): () => void {
    this.#inUse++;
    if (lane === 'call') this.#callsInUse++;
    if (lane === 'stream') this.#streamsInUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      if (lane === 'call') this.#callsInUse--;
      if (lane === 'stream') this.#streamsInUse--;
      this.#drain();
    };
  }

  /** Short messages first: they unblock calls (a cancellation frees a slot, an answer ends a call). */
  #drain(): void {
    for (const lane of ['control', 'stream', 'call'] as const) {
      const queue = this.#queue(lane);
      while (queue.length > 0 && this.#fits(lane)) queue.shift()?.grant();
    }
  }
}
