import { writeSync } from 'node:fs';

/** Log bytes held while stderr takes nothing; beyond this, new lines are dropped and counted. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** A raw fd has no "writable again" event, so a full pipe is retried on this period. */
const RETRY_MS = 50;
/** At exit a reader that keeps taking lines gets this long for the rest; one that takes nothing, none. */
const EXIT_GRACE_MS = 100;
const EXIT_PAUSE_MS = 5;

/**
 * The log destination for stderr. Hosts may hand us a stderr pipe they never read; a log
 * write that waits for the reader would stall the relay (README, "How it works"). Node opens a
 * pipe or socket stderr non-blocking when `process.stderr` is first used, so `writeSync`
 * either takes what fits or fails with EAGAIN, and never waits: what does not fit is queued
 * up to a bound, lines beyond it are dropped and counted, and the count is logged once the
 * queue has drained. A terminal or a file takes every write.
 *
 * Synchronous writes keep the last lines before `process.exit` whenever the reader keeps
 * up. At exit there is no event loop left to retry on, so what is still queued is written
 * for as long as the reader makes progress, within EXIT_GRACE_MS.
 */
export class LogSink {
  readonly #fd: number;
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #dropped = 0;
  #broken = false;
  #retry: NodeJS.Timeout | undefined;

  private constructor(fd: number) {
    this.#fd = fd;
    process.on('exit', () => this.#flushAtExit());
  }

  /** fd 2, after making sure Node has opened it (and so set a pipe non-blocking). */
  static stderr(): LogSink {
    void process.stderr;
    return new LogSink(2);
  }

  /** The logger's destination interface: one serialized line, newline included. */
  write(line: string): void {
    if (this.#broken) return;
    const buf = Buffer.from(line, 'utf8');
    if (this.#queue.length === 0 && this.#dropped === 0) {
      const n = this.#tryWrite(buf);
      // The rest of a line written in part must follow it, or the next line would be torn.
      if (n < buf.length && !this.#broken) this.#enqueue(buf.subarray(n));
      return;
    }
    if (this.#queuedBytes + buf.length > MAX_QUEUED_BYTES) {
      this.#dropped++;
      return;
    }
    this.#enqueue(buf);
  }

  /** One non-blocking attempt to write what is queued (the logger calls it after `fatal`; exit). */
  flushSync(): void {
    if (this.#broken) return;
    if (this.#drain() && this.#dropped > 0) this.#reportDropped();
  }

  #flushAtExit(): void {
    const until = Date.now() + EXIT_GRACE_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let stalled = false;
    for (;;) {
      const before = this.#queuedBytes;
      this.flushSync();
      if (this.#broken || (this.#queue.length === 0 && this.#dropped === 0)) return;
      const progressed = this.#queuedBytes !== before;
      // Two attempts a pause apart that write nothing: nobody is reading.
      if ((!progressed && stalled) || Date.now() >= until) return;
      stalled = !progressed;
      Atomics.wait(pause, 0, 0, EXIT_PAUSE_MS);
    }
  }

  #enqueue(buf: Buffer): void {
    this.#queue.push(buf);
    this.#queuedBytes += buf.length;
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.flushSync();
      if (!this.#broken && (this.#queue.length > 0 || this.#dropped > 0)) this.#scheduleRetry();
    }, RETRY_MS);
    // Logging never keeps the process alive; the exit hook makes the last attempt.
    this.#retry.unref();
  }

  /** Writes queued lines until the fd is full; true when nothing is left. */
  #drain(): boolean {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const n = this.#tryWrite(head);
      if (this.#broken) return false;
      this.#queuedBytes -= n;
      if (n < head.length) {
        this.#queue[0] = head.subarray(n);
        return false;
      }
      this.#queue.shift();
    }
    return true;
  }

  #reportDropped(): void {
    const line = Buffer.from(
      `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `dropped ${this.#dropped} log lines: stderr was not being read` })}\n`,
      'utf8',
    );
    const n = this.#tryWrite(line);
    if (n === 0) return;
    this.#dropped = 0;
    if (n < line.length && !this.#broken) this.#enqueue(line.subarray(n));
  }

  /** Bytes taken by the fd: 0 when it is full. A closed reader (EPIPE) ends logging. */
  #tryWrite(buf: Buffer): number {
    try {
      return writeSync(this.#fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.#broken = true;
      this.#queue.length = 0;
      this.#queuedBytes = 0;
      return 0;
    }
  }
}
