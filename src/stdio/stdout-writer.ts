import type { Writable } from 'node:stream';

const LARGE = 64 * 1024;
const NEWLINE = Buffer.from('\n');

/**
 * The only writer of fd 1 (DESIGN.md principle 4). Writes one JSON-RPC message per line
 * and reports backpressure, so remote streams pause while the client reads slowly instead
 * of piling up in memory. An EPIPE (the client went away) is a shutdown, not a crash.
 */
export class StdoutWriter {
  #waiting: Promise<void> | undefined;
  #closed = false;

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
