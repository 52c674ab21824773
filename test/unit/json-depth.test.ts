import { describe, expect, it } from 'vitest';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/json-depth.js';

const deep = (s: string, max?: number) => exceedsJsonDepth(Buffer.from(s), max);

describe('exceedsJsonDepth', () => {
  it('counts arrays and objects outside strings only', () => {
    expect(deep('{"a":[[1]]}', 3)).toBe(false);
    expect(deep('{"a":[[[1]]]}', 3)).toBe(true);
    expect(deep('{"a":"[[[[{{{{"}', 1)).toBe(false);
    // An escaped quote does not end the string; an escaped backslash before one does.
    expect(deep('{"a":"\\"[[[["}', 1)).toBe(false);
    expect(deep('{"a":"\\\\","b":[[[1]]]}', 3)).toBe(true);
  });

  it('allows the limit and refuses one level more', () => {
    expect(deep('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBe(false);
    expect(deep('['.repeat(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('leaves malformed text to the parser', () => {
    expect(deep('{"unterminated [[[[', 1)).toBe(false);
    expect(deep(']]]]{', 1)).toBe(false);
  });
});
