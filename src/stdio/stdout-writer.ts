import type { Writable } from 'node:stream';

const LARGE = 64 * 1024;
const NEWLINE = Buffer.from('\n');
/** How long a response keeps behind the notifications before it (see writeResponse). */
const SEPARATE_READ_MS = 5;

/**
 * The only writer of fd 1 (stdout carries only MCP messages). Writes one JSON-RPC message per line
 * and reports backpressure, so remote streams pause while the client reads slowly instead
 * of piling up in memory. An EPIPE (the client went away) is a shutdown, not a crash.
 */
export class StdoutWriter {
  #waiting: Promise<void> | undefined;
  #closed = false;
  /** A message other than a response was written since the last response barrier. */
  #unsettled = false;
  /** performance.now() of the last such write. */
  #lastOtherAt = 0;
  /** Resolves once the messages before it had their chance of a read of their own (see writeResponse). */
  #barrier: Promise<void> | undefined;

  constructor(
    private readonly out: Writable,
    onBroken: (err: Error) => void,
  ) {
    out.on('error', (err) => {
      this.#closed = true;
      onBroken(err);
    });
  }

  /**
   * Resolves when the stream can take more; callers producing many messages await it. A
   * Buffer is handed to the pipe as is (no copy while the client is slow to read).
   */
  write(line: string | Buffer): Promise<void> {
    this.#unsettled = true;
    this.#lastOtherAt = performance.now();
    return this.#put(line);
  }

  /**
   * Writes the response to a request so that it does not share a read of the pipe with the
   * notifications written just before it. The TypeScript SDK client handles a notification
   * one microtask after a response from the same read, and by then the response has removed
   * the request's progress handler: the notification is dropped. A direct HTTP client never
   * sees this (each SSE event is its own read). So a response that follows notifications
   * by less than SEPARATE_READ_MS waits until they are handed to the OS and that long has
   * passed, giving the client its read; a response no notification preceded is written at
   * once. Measured with scripts/bench-delivery.ts: yielding one macrotask is not enough on
   * a busy machine (the client is not scheduled in time).
   */
  async writeResponse(line: string | Buffer): Promise<void> {
    if (this.#unsettled) {
      this.#unsettled = false;
      const barrier = this.#separate(this.#lastOtherAt);
      this.#barrier = barrier;
      void barrier.then(() => {
        if (this.#barrier === barrier) this.#barrier = undefined;
      });
    }
    // Responses queued behind the same barrier keep their order.
    if (this.#barrier !== undefined) await this.#barrier;
    return this.#put(line);
  }

  async #separate(writtenAt: number): Promise<void> {
    // Bytes still queued in the stream reach the OS only now: the wait starts from there.
    const queued = this.out.writableLength > 0;
    await this.flush();
    const left = queued ? SEPARATE_READ_MS : SEPARATE_READ_MS - (performance.now() - writtenAt);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  }

  #put(line: string | Buffer): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (!this.#writeLine(line) && this.#waiting === undefined) {
      this.#waiting = new Promise((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.#waiting = undefined;
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
      });
    }
    return this.#waiting ?? Promise.resolve();
  }

  #writeLine(line: string | Buffer): boolean {
    if (line.length < LARGE) return this.out.write(typeof line === 'string' ? line + '\n' : Buffer.concat([line, NEWLINE]));
    // A multi-megabyte result: no concatenated copy just to append the newline.
    this.out.cork();
    this.out.write(line);
    const ok = this.out.write('\n');
    process.nextTick(() => this.out.uncork());
    return ok;
  }

  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void> {
    if (this.#closed || this.out.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.out.write('', () => resolve()));
  }
}
