/** One dispatched server-sent event (HTML Living Standard, "Parsing an event stream"). */
export interface SseEvent {
  readonly event: string;
  /** The data as UTF-8 bytes: a message is relayed as bytes, never decoded whole. */
  readonly data: Buffer;
  /** Set instead of `data` when the event was over `maxEventBytes`: the bytes counted (at least). */
  readonly tooLarge?: number;
  /** With `tooLarge`: the first and last few KiB of its data, enough to find the JSON-RPC id. */
  readonly head?: Buffer;
  readonly tail?: Buffer;
}

/** Bytes kept from each end of an event over the cap (the id is near one end or the other). */
const KEEP_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = Buffer.from('\n');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Incremental text/event-stream parser. Works on chunks as they arrive and never holds more
 * than the event being assembled, so a long stream costs no memory.
 * It splits bytes, not decoded text: CR and LF never occur inside a UTF-8 sequence, and a
 * 50 MB data line then costs one copy instead of strings, joins and a re-encoding.
 * Tracks the last event id and the server's `retry:` for resumption (MCP 2025-11-25
 * transports: "Resumability and Redelivery").
 */
export class SseParser {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  /** True once any event carried an id: the stream can then be resumed with GET. */
  sawId = false;
  /**
   * Largest event data (--max-response-bytes): past it the event's bytes are counted and
   * dropped as they arrive, and the event is dispatched with `tooLarge` and no data.
   */
  maxEventBytes: number | undefined;

  /** Pieces of the line being assembled (subarrays of the chunks received). */
  #partial: Buffer[] = [];
  #skipLeadingLf = false;
  /** Until the first 3 bytes are seen: a leading BOM is dropped, once (HTML standard). */
  #head: Buffer | undefined = Buffer.alloc(0);
  #data: Buffer[] = [];
  #event = '';
  #pendingId: string | undefined;
  /** Bytes held in #partial and #data, while under maxEventBytes. */
  #partialBytes = 0;
  #dataBytes = 0;
  /** Set once the event is over maxEventBytes: its bytes so far; nothing more is held. */
  #overflow: number | undefined;
  /** The line being assembled was dropped (over the cap): its end only ends it. */
  #partialDropped = false;
  /** Of the event over the cap: its first and (so far) last bytes of data. */
  #overflowHead: Buffer | undefined;
  #overflowTail: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): SseEvent[] {
    let s = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#head !== undefined) {
      s = this.#head.length === 0 ? s : Buffer.concat([this.#head, s]);
      if (s.length < BOM.length && BOM.subarray(0, s.length).equals(s)) {
        this.#head = s;
        return [];
      }
      this.#head = undefined;
      if (s.subarray(0, BOM.length).equals(BOM)) s = s.subarray(BOM.length);
    }
    return this.#feed(s);
  }

  end(): SseEvent[] {
    // A final event without a blank line is discarded, as the standard says.
    return [];
  }

  #feed(s: Buffer): SseEvent[] {
    const out: SseEvent[] = [];
    let i = 0;
    if (this.#skipLeadingLf && s[0] === LF) i = 1;
    this.#skipLeadingLf = false;
    // Next LF / CR at or after i, found with indexOf (native) and cached until passed:
    // -2 = not searched yet, -1 = none left in this chunk.
    let lf = -2;
    let cr = -2;
    while (i < s.length) {
      if (lf !== -1 && lf < i) lf = s.indexOf(LF, i);
      if (cr !== -1 && cr < i) cr = s.indexOf(CR, i);
      let j = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (j === -1) {
        this.#hold(s.subarray(i));
        break;
      }
      const piece = s.subarray(i, j);
      const dropped = this.#partialDropped;
      const line = dropped || this.#partial.length === 0 ? piece : Buffer.concat([...this.#partial, piece]);
      this.#partial = [];
      this.#partialBytes = 0;
      this.#partialDropped = false;
      if (j === cr) {
        if (j + 1 < s.length) {
          if (s[j + 1] === LF) j++;
        } else {
          this.#skipLeadingLf = true;
        }
      }
      i = j + 1;
      if (dropped) {
        this.#overflow = (this.#overflow ?? 0) + piece.length;
        this.#keepTail(piece);
        continue;
      }
      const ev = this.#line(line);
      if (ev !== undefined) out.push(ev);
    }
    return out;
  }

  #line(line: Buffer): SseEvent | undefined {
    if (line.length === 0) return this.#dispatch();
    if (line[0] === COLON) return undefined; // ":" comment (keep-alives)
    const colon = line.indexOf(COLON);
    const field = (colon === -1 ? line : line.subarray(0, colon)).toString('latin1');
    let value = colon === -1 ? line.subarray(line.length) : line.subarray(colon + 1);
    if (value[0] === SPACE) value = value.subarray(1);
    switch (field) {
      case 'data':
        this.#addData(value);
        break;
      case 'event':
        this.#event = value.toString('utf8');
        break;
      case 'id': {
        const id = value.toString('utf8');
        if (!id.includes('\0')) this.#pendingId = id;
        break;
      }
      case 'retry': {
        const retry = value.toString('latin1');
        if (/^\d+$/.test(retry)) this.retryMs = Number(retry);
        break;
      }
      default:
        break;
    }
    return undefined;
  }

  /** The start of a line whose end is in a later chunk. */
  #hold(piece: Buffer): void {
    if (this.#partialDropped) {
      this.#overflow = (this.#overflow ?? 0) + piece.length;
      this.#keepTail(piece);
      return;
    }
    this.#partial.push(piece);
    this.#partialBytes += piece.length;
    if (this.maxEventBytes !== undefined && this.#dataBytes + this.#partialBytes > this.maxEventBytes) {
      this.#overflow = (this.#overflow ?? 0) + this.#dataBytes + this.#partialBytes;
      // The line held is a field line still: past its `data:` prefix is data.
      const line = Buffer.concat(this.#partial);
      const value = line.subarray(0, 5).toString('latin1') === 'data:' ? line.subarray(line[5] === SPACE ? 6 : 5) : Buffer.alloc(0);
      this.#startOverflow(this.#data.length > 0 ? [...this.#data, value] : [value]);
      this.#partial = [];
      this.#data = [];
      this.#partialBytes = this.#dataBytes = 0;
      this.#partialDropped = true;
    }
  }

  #addData(value: Buffer): void {
    if (this.#overflow !== undefined) {
      this.#overflow += value.length + 1;
      this.#keepTail(Buffer.concat([NEWLINE, value]));
      return;
    }
    this.#dataBytes += value.length + (this.#data.length > 0 ? 1 : 0);
    this.#data.push(value);
    if (this.maxEventBytes !== undefined && this.#dataBytes > this.maxEventBytes) {
      this.#overflow = this.#dataBytes;
      this.#startOverflow(this.#data);
      this.#data = [];
      this.#dataBytes = 0;
    }
  }

  /** The event's data lines so far, as it goes over the cap: keep its two ends only. */
  #startOverflow(lines: Buffer[]): void {
    if (this.#overflowHead !== undefined) return;
    const data = Buffer.concat(lines.flatMap((l, k) => (k === 0 ? [l] : [NEWLINE, l])));
    this.#overflowHead = Buffer.from(data.subarray(0, KEEP_BYTES));
    this.#overflowTail = Buffer.from(data.subarray(Math.max(0, data.length - KEEP_BYTES)));
  }

  #keepTail(piece: Buffer): void {
    const joined = piece.length >= KEEP_BYTES ? piece : Buffer.concat([this.#overflowTail, piece]);
    this.#overflowTail = Buffer.from(joined.subarray(Math.max(0, joined.length - KEEP_BYTES)));
  }

  #dispatch(): SseEvent | undefined {
    if (this.#pendingId !== undefined) {
      // An empty id resets the last event id (HTML standard); nothing to resume from then.
      this.lastEventId = this.#pendingId === '' ? undefined : this.#pendingId;
      this.sawId = this.lastEventId !== undefined;
      this.#pendingId = undefined;
    }
    const event = this.#event || 'message';
    this.#event = '';
    const lines = this.#data;
    this.#data = [];
    this.#dataBytes = 0;
    if (this.#overflow !== undefined) {
      const tooLarge = this.#overflow;
      const head = this.#overflowHead ?? Buffer.alloc(0);
      const tail = this.#overflowTail;
      this.#overflow = undefined;
      this.#overflowHead = undefined;
      this.#overflowTail = Buffer.alloc(0);
      return { event, data: Buffer.alloc(0), tooLarge, head, tail };
    }
    // One data line (the usual case) is passed on as is; several are joined with LF.
    const data = lines.length === 1 ? (lines[0] as Buffer) : Buffer.concat(lines.flatMap((l, k) => (k === 0 ? [l] : [NEWLINE, l])));
    // The standard dispatches nothing for an empty data buffer (priming events).
    return data.length === 0 ? undefined : { event, data };
  }
}
