import { describe, expect, it } from 'vitest';
import { LineFramer } from '../../src/stdio/line-framer.js';

function frame(max: number, chunks: Array<string | Buffer>) {
  const lines: string[] = [];
  const over: number[] = [];
  const f = new LineFramer(max, (l) => lines.push(l.toString('utf8')), (n) => over.push(n));
  for (const c of chunks) f.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return { lines, over, f };
}

describe('LineFramer', () => {
  it('splits on newlines across chunk boundaries', () => {
    const { lines } = frame(100, ['ab', 'c\nde', 'f\n\ng', 'h\n']);
    expect(lines).toEqual(['abc', 'def', '', 'gh']);
  });

  it('emits a final unterminated line at end()', () => {
    const { lines, f } = frame(100, ['abc\nxyz']);
    f.end();
    expect(lines).toEqual(['abc', 'xyz']);
  });

  it('discards an oversized line and reports its size once, then keeps going', () => {
    const { lines, over } = frame(10, ['0123456789', 'ABCDE', 'FG\nok\n']);
    expect(over).toEqual([17]);
    expect(lines).toEqual(['ok']);
  });

  it('keeps the limit inclusive', () => {
    const { lines, over } = frame(3, ['abc\nabcd\n']);
    expect(lines).toEqual(['abc']);
    expect(over).toEqual([4]);
  });
});
