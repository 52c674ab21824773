/** One dispatched server-sent event (HTML Living Standard, "Parsing an event stream"). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Incremental text/event-stream parser. Works on chunks as they arrive and never holds more
 * than the event being assembled, so a long stream costs no memory (failure-catalogue I4).
 * Tracks the last event id and the server's `retry:` for resumption (MCP 2025-11-25
 * transports: "Resumability and Redelivery").
 */
export class SseParser {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  /** True once any event carried an id: the stream can then be resumed with GET. */
  sawId = false;

  readonly #decoder = new TextDecoder('utf-8');
  #partial: string[] = [];
  #skipLeadingLf = false;
  #first = true;
  #data: string[] = [];
  #event = '';
  #pendingId: string | undefined;

  push(chunk: Uint8Array): SseEvent[] {
    return this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  end(): SseEvent[] {
    const out = this.#feed(this.#decoder.decode());
    // A final event without a blank line is discarded, as the standard says.
    return out;
  }

  #feed(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let s = text;
    if (this.#first && s.length > 0) {
      this.#first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let i = 0;
    if (this.#skipLeadingLf && s.charCodeAt(0) === 0x0a) i = 1;
    this.#skipLeadingLf = false;
    // Next LF / CR at or after i, found with indexOf (native) and cached until passed:
    // -2 = not searched yet, -1 = none left in this chunk.
    let lf = -2;
    let cr = -2;
    while (i < s.length) {
      if (lf !== -1 && lf < i) lf = s.indexOf('\n', i);
      if (cr !== -1 && cr < i) cr = s.indexOf('\r', i);
      let j = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (j === -1) {
        this.#partial.push(s.slice(i));
        break;
      }
      const piece = s.slice(i, j);
      const line = this.#partial.length === 0 ? piece : this.#partial.join('') + piece;
      this.#partial = [];
      if (j === cr) {
        if (j + 1 < s.length) {
          if (s.charCodeAt(j + 1) === 0x0a) j++;
        } else {
          this.#skipLeadingLf = true;
        }
      }
      i = j + 1;
      const ev = this.#line(line);
      if (ev !== undefined) out.push(ev);
    }
    return out;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.charCodeAt(0) === 0x3a) return undefined; // ":" comment (keep-alives)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#pendingId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
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
    const data = this.#data.join('\n');
    this.#data = [];
    // The standard dispatches nothing for an empty data buffer (priming events).
    return data === '' ? undefined : { event, data };
  }
}
