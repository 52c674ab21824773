import { describe, expect, it } from 'vitest';
import { StdoutWriter } from '../../src/stdio/stdout-writer.js';
import { MemoryStdout } from '../helpers/memory-stdout.js';

const note = (n: number) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: n } });
const resp = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, result: {} });
const tags = (out: MemoryStdout) => out.lines.map((m) => (m.method === undefined ? `r${m.id}` : m.method === 'marker' ? 'tick' : `n${m.params.progress}`));

describe('StdoutWriter: a response never shares a read with the notifications before it', () => {
  it('writes a response no notification preceded at once', () => {
    const out = new MemoryStdout();
    const w = new StdoutWriter(out, () => undefined);
    void w.writeResponse(resp(1));
    void w.writeResponse(resp(2));
    expect(tags(out)).toEqual(['r1', 'r2']);
  });

  it('holds a response behind notifications, then writes it after them', async () => {
    const out = new MemoryStdout();
    const w = new StdoutWriter(out, () => undefined);
    void w.write(note(1));
    void w.write(note(2));
    const done = w.writeResponse(resp(7));
    // A client reading between now and the response sees the notifications alone.
    expect(tags(out)).toEqual(['n1', 'n2']);
    await done;
    expect(tags(out)).toEqual(['n1', 'n2', 'r7']);
  });

  it('keeps responses queued behind one barrier in order, and the next plain response pays nothing', async () => {
    const out = new MemoryStdout();
    const w = new StdoutWriter(out, () => undefined);
    void w.write(note(1));
    const a = w.writeResponse(resp(1));
    const b = w.writeResponse(resp(2));
    await Promise.all([a, b]);
    expect(tags(out)).toEqual(['n1', 'r1', 'r2']);
    void w.writeResponse(resp(3));
    expect(tags(out)).toEqual(['n1', 'r1', 'r2', 'r3']);
  });

  it('does not hold a response whose notifications were written long enough before', async () => {
    const out = new MemoryStdout();
    const w = new StdoutWriter(out, () => undefined);
    void w.write(note(1));
    await new Promise((r) => setTimeout(r, 50));
    const done = w.writeResponse(resp(1));
    setImmediate(() => void w.write(JSON.stringify({ jsonrpc: '2.0', method: 'marker' })));
    await done;
    await new Promise((r) => setImmediate(r));
    expect(tags(out)).toEqual(['n1', 'r1', 'tick']);
  });
});
