/**
 * What a request is to the server, for the connection budget:
 * - `call`: a client request (tools/call …) and its stream; may take minutes;
 * - `control`: the client's notifications (notifications/cancelled) and its answers to the
 *   server's requests (elicitation, ping), and the closing DELETE; short, and a call may be
 *   waiting on one of them;
 * - `stream`: the standalone GET event stream, open for the whole session.
 */
export type Lane = 'call' | 'control' | 'stream';

/** Slots that calls never take: one for the event stream, one for the client's messages. */
export const RESERVED_SLOTS = 2;

interface Waiter {
  grant: () => void;
}

/**
 * Bounds the requests in flight to one server to `total`, so at most that many sockets are
 * open to it; the rest wait in FIFO order. Calls may hold at most `total - RESERVED_SLOTS`
 * slots: calls that fill every slot would otherwise keep the event stream from
 * reconnecting and the client's cancellations and answers from going out — and a call
 * waiting for an elicitation answer would deadlock.
 */
export class ConnectionBudget {
  readonly total: number;
  readonly #callLimit: number;
  #inUse = 0;
  #callsInUse = 0;
  readonly #calls: Waiter[] = [];
  readonly #others: Waiter[] = [];
  /** Called the first time a call has to wait (for one log line). */
  readonly #onFirstWait: (() => void) | undefined;
  #waited = false;

  constructor(total: number, onFirstWait?: () => void) {
    if (!Number.isInteger(total) || total <= RESERVED_SLOTS) throw new RangeError(`a connection budget needs more than ${RESERVED_SLOTS} slots`);
    this.total = total;
    this.#callLimit = total - RESERVED_SLOTS;
    this.#onFirstWait = onFirstWait;
  }

  /**
   * Resolves with a release function once `lane` may send; rejects with the signal's reason
   * if it aborts first (a cancelled call leaves the queue). Release is idempotent.
   */
  acquire(lane: Lane, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const isCall = lane === 'call';
    if (this.#queue(isCall).length === 0 && this.#fits(isCall)) return Promise.resolve(this.#take(isCall));
    if (isCall && !this.#waited) {
      this.#waited = true;
      this.#onFirstWait?.();
    }
    return new Promise((resolve, reject) => {
      const queue = this.#queue(isCall);
      const onAbort = () => {
        const i = queue.indexOf(waiter);
        if (i !== -1) queue.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#take(isCall));
        },
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #queue(isCall: boolean): Waiter[] {
    return isCall ? this.#calls : this.#others;
  }

  #fits(isCall: boolean): boolean {
    return this.#inUse < this.total && (!isCall || this.#callsInUse < this.#callLimit);
  }

  #take(isCall: boolean): () => void {
    this.#inUse++;
    if (isCall) this.#callsInUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      if (isCall) this.#callsInUse--;
      this.#drain();
    };
  }

  /** Short messages first: they unblock calls (a cancellation frees a slot, an answer ends a call). */
  #drain(): void {
    while (this.#others.length > 0 && this.#fits(false)) this.#others.shift()?.grant();
    while (this.#calls.length > 0 && this.#fits(true)) this.#calls.shift()?.grant();
  }
}
