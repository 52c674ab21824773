import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/transport/sse-parser.js';

const enc = (s: string) => new TextEncoder().encode(s);
/** Events with their data decoded, for comparison. */
const decoded = (evs: SseEvent[]) => evs.map((e) => ({ event: e.event, data: e.data.toString('utf8') }));

describe('SseParser', () => {
  it('parses events split at any byte, including inside a multi-byte character and CRLF', () => {
    const text = 'id: 1\r\ndata: {"a":"é🚀"}\r\n\r\n: keep-alive\n\nevent: message\ndata: x\ndata: y\n\n';
    const bytes = enc(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new SseParser();
      const evs = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
      expect(decoded(evs)).toEqual([
        { event: 'message', data: '{"a":"é🚀"}' },
        { event: 'message', data: 'x\ny' },
      ]);
      expect(p.lastEventId).toBe('1');
    }
  });

  it('tracks priming events (id, empty data) and retry without emitting them', () => {
    const p = new SseParser();
    expect(p.push(enc('id: prime-7\nretry: 2500\ndata:\n\n'))).toEqual([]);
    expect(p.sawId).toBe(true);
    expect(p.lastEventId).toBe('prime-7');
    expect(p.retryMs).toBe(2500);
  });

  it('an empty id resets the last event id: nothing to resume from', () => {
    const p = new SseParser();
    p.push(enc('id: 5\ndata: a\n\n'));
    expect(p.lastEventId).toBe('5');
    p.push(enc('id:\ndata: b\n\n'));
    expect(p.lastEventId).toBeUndefined();
    expect(p.sawId).toBe(false);
  });

  it('handles a lone CR as a line end and a BOM at the start', () => {
    const p = new SseParser();
    expect(decoded(p.push(enc('\ufeffdata: a\r\rdata: b\r\r')))).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
  });

  it('keeps the event name for non-message events', () => {
    const p = new SseParser();
    expect(decoded(p.push(enc('event: endpoint\ndata: /x\n\n')))).toEqual([{ event: 'endpoint', data: '/x' }]);
  });

  it('drops a BOM split across chunks, only at the start of the stream', () => {
    const p = new SseParser();
    const bytes = enc('\ufeffdata: a\n\n\ufeffdata: b\n\n');
    expect([...p.push(bytes.subarray(0, 1)), ...p.push(bytes.subarray(1, 2))]).toEqual([]);
    // The second BOM is part of a field name ("\ufeffdata"), which is ignored.
    expect(decoded(p.push(bytes.subarray(2)))).toEqual([{ event: 'message', data: 'a' }]);
  });

  it('drops an unterminated final event', () => {
    const p = new SseParser();
    p.push(enc('data: partial'));
    expect(p.end()).toEqual([]);
  });

  it('keeps the first and last 4 KiB of an event over maxEventBytes, in whatever chunks it arrives', () => {
    const data = `{"result":{"text":"${'x'.repeat(100_000)}"},"jsonrpc":"2.0","id":7}`;
    const bytes = enc(`data: ${data}\n\n`);
    for (const size of [1000, 7, bytes.length]) {
      const p = new SseParser();
      p.maxEventBytes = 10_000;
      const evs: SseEvent[] = [];
      for (let i = 0; i < bytes.length; i += size) evs.push(...p.push(bytes.subarray(i, i + size)));
      expect(evs).toHaveLength(1);
      expect(evs[0]?.tooLarge).toBeGreaterThan(10_000);
      expect(evs[0]?.head?.toString('utf8')).toBe(data.slice(0, 4096));
      expect(evs[0]?.tail?.toString('utf8')).toBe(data.slice(-4096));
    }
  });
});
