/**
 * Splits stdin bytes into newline-delimited lines (MCP stdio transport: messages are
 * delimited by \n and contain no embedded newlines). A line longer than `maxLineBytes` is
 * discarded as it streams in, so memory stays bounded however long it gets;
 * the caller is told once the line ends, to answer it.
 */
export class LineFramer {
  #parts: Buffer[] = [];
  #size = 0;
  #discarding = false;
  #discarded = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onOversized: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#append(chunk.subarray(start, end));
      if (nl === -1) return;
      this.#finishLine();
      start = nl + 1;
    }
  }

  /** stdin ended: a last line without a newline still counts. */
  end(): void {
    if (this.#size > 0 || this.#discarding) this.#finishLine();
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#discarding) {
      this.#discarded += piece.length;
    } else if (this.#size + piece.length > this.maxLineBytes) {
      this.#discarding = true;
      this.#discarded = this.#size + piece.length;
      this.#parts = [];
      this.#size = 0;
    } else {
      this.#parts.push(piece);
      this.#size += piece.length;
    }
  }

  #finishLine(): void {
    if (this.#discarding) {
      const bytes = this.#discarded;
      this.#discarding = false;
      this.#discarded = 0;
      this.onOversized(bytes);
      return;
    }
    const line = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.onLine(line);
  }
}
