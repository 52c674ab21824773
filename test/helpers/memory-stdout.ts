import { Writable } from 'node:stream';

/**
 * An in-memory stdout for in-process relay tests: collects the lines the relay writes and
 * lets a test wait for one. Every line must parse as JSON (as on the real stdout).
 */
export class MemoryStdout extends Writable {
  readonly lines: any[] = [];
  #partial = '';
  #waiters: Array<() => void> = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    const parts = (this.#partial + chunk.toString('utf8')).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.lines.push(JSON.parse(line));
    for (const w of this.#waiters.splice(0)) w();
    done();
  }

  /** The first line matching `match`, once it has been written. */
  async waitFor(match: (m: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(match);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Lines that answer `id` (responses, not server requests that reuse it). */
  answers(id: unknown): any[] {
    return this.lines.filter((m) => m.id === id && m.method === undefined);
  }
}
