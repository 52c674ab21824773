import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/json-depth.js';
import { compactJson, JsonDepthError, scanEnvelope } from '../../src/transport/envelope-scan.js';

const scan = (text: string) => scanEnvelope(Buffer.from(text, 'utf8'));

/** What scanEnvelope should report, computed with JSON.parse. */
function expected(text: string) {
  const v = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['jsonrpc', 'id', 'method']) if (k in v) out[k] = v[k];
  for (const k of ['result', 'error', 'params']) if (k in v) out[k] = true;
  return out;
}

/** The verdict of JSON.parse: 'object', 'other' (valid, not an object) or 'invalid'. */
function parseVerdict(text: string): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? 'object' : 'other';
}

function scanVerdict(text: string): string {
  try {
    return scan(text) === undefined ? 'other' : 'object';
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return 'invalid';
  }
}

// A small deterministic generator of awkward JSON values.
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 7));
  const strings = ['', 'plain', 'quote " inside', 'backslash \\ end\\', '\\"', 'brace { [ ] } , :', 'ünï 🚀', '\n\t\r\u0001\u001f', '"}', '\u2028 \ud800'];
  switch (k) {
    case 0: return strings[Math.floor(r() * strings.length)];
    case 1: return [0, -0.5, 1e21, 1.5e-7, -123456789, 0.25, 2 ** 53][Math.floor(r() * 7)];
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`${strings[i % strings.length]}k${i}`, value(r, depth + 1)]));
  }
}

function message(r: () => number, n: number): Record<string, unknown> {
  const msg: Record<string, unknown> = { jsonrpc: '2.0' };
  const shape = n % 4;
  if (shape !== 3) msg.id = r() < 0.5 ? n : `id-"${n}"\\`;
  if (shape === 0 || shape === 3) msg.method = 'tools/call';
  if (shape === 0 || shape === 3) msg.params = value(r, 0);
  if (shape === 1) msg.result = value(r, 0);
  if (shape === 2) msg.error = { code: -1, message: 'x', data: value(r, 0) };
  msg.extra = value(r, 0);
  return msg;
}

describe('scanEnvelope', () => {
  it('agrees with JSON.parse on 2000 generated messages, compact and spaced', () => {
    const r = rng(7);
    for (let n = 0; n < 2000; n++) {
      const msg = message(r, n);
      for (const text of [JSON.stringify(msg), JSON.stringify(msg, null, 1), ` \t${JSON.stringify(msg)}\r\n`]) {
        expect(scan(text), text).toEqual(expected(text));
      }
    }
  });

  it('agrees with JSON.parse on whether 10000 mutated messages are JSON', () => {
    const r = rng(11);
    const pieces = ['', ',', ']', '}', '"', '\\', '\\q', '\\u12', '\t', '\u0000', 'tru', 'NaN', '-', '01', '1.', '.5', '1e', '+1', 'nul', ':', ' ', '[', '{', 'é'];
    for (let n = 0; n < 10000; n++) {
      const text = JSON.stringify(message(r, n));
      const at = Math.floor(r() * (text.length + 1));
      const cut = Math.floor(r() * 3);
      const mutated = text.slice(0, at) + pieces[Math.floor(r() * pieces.length)] + text.slice(at + cut);
      expect(scanVerdict(mutated), mutated).toBe(parseVerdict(mutated));
    }
  });

  it('agrees with JSON.parse on 20000 random token soups', () => {
    const r = rng(3);
    const tokens = ['{', '}', '[', ']', '"', '\\', ',', ':', ' ', '\n', 'a', 'u', '0', '1', '-', '.', 'e', 'E', '+', 'true', 'false', 'null', 'tru', '\u0001', 'é', '"id"', '"x"', '00', '\\u00e9', '\\q', '\\n', 'NaN'];
    for (let n = 0; n < 20000; n++) {
      let text = '';
      for (let k = Math.floor(r() * 12); k > 0; k--) text += tokens[Math.floor(r() * tokens.length)];
      expect(scanVerdict(text), text).toBe(parseVerdict(text));
    }
  });

  it('finds stop bytes in long strings at every alignment (the 4-bytes-at-a-time path)', () => {
    for (let offset = 0; offset < 4; offset++) {
      for (let at = 0; at < 24; at++) {
        for (const bad of ['\t', '\u0000', '\u001f', '\\q', '"']) {
          const body = 'x'.repeat(at) + bad + 'y'.repeat(40);
          const text = `{"jsonrpc":"2.0","id":1,"result":"${body}"}`;
          // A Buffer at an odd byte offset inside a larger allocation.
          const backing = Buffer.alloc(offset + Buffer.byteLength(text));
          backing.write(text, offset);
          const verdict = (() => {
            try {
              return scanEnvelope(backing.subarray(offset)) === undefined ? 'other' : 'object';
            } catch {
              return 'invalid';
            }
          })();
          expect(verdict, JSON.stringify({ offset, at, bad })).toBe(parseVerdict(text));
        }
      }
    }
  });

  it('finds the id after a 4 MB result', () => {
    const text = JSON.stringify({ result: { content: [{ type: 'text', text: 'x"\\é\n'.repeat(800_000) }] }, jsonrpc: '2.0', id: 42 });
    expect(scan(text)).toEqual({ result: true, jsonrpc: '2.0', id: 42 });
  });

  it('reads escaped keys as JSON.parse does', () => {
    expect(scan('{"\\u0069d":7,"jsonrpc":"2.0","\\u0072esult":{}}')).toEqual({ id: 7, jsonrpc: '2.0', result: true });
  });

  it.each([
    ['NaN', '{"jsonrpc":"2.0","id":1,"result":{"n":NaN}}'],
    ['a raw tab in a string', '{"jsonrpc":"2.0","id":1,"result":"a\tb"}'],
    ['an unknown escape', '{"jsonrpc":"2.0","id":1,"result":"a\\qb"}'],
    ['a short \\u escape', '{"jsonrpc":"2.0","id":1,"result":"\\u12g4"}'],
    ['a trailing comma in an array', '{"jsonrpc":"2.0","id":1,"result":[1,2,]}'],
    ['a trailing comma in an object', '{"jsonrpc":"2.0","id":1,"result":{"a":1,}}'],
    ['a trailing comma at the top', '{"jsonrpc":"2.0","id":1,}'],
    ['tru', '{"jsonrpc":"2.0","id":1,"result":tru}'],
    ['a leading zero', '{"jsonrpc":"2.0","id":1,"result":01}'],
    ['a bare dot', '{"jsonrpc":"2.0","id":1,"result":1.}'],
    ['truncated', '{"jsonrpc":"2.0","id":1,"result":{"a":"b"'],
    ['unterminated string', '{"jsonrpc":"2.0","id":1,"result":"abc'],
    ['trailing garbage', '{"jsonrpc":"2.0","id":1} x'],
    ['two values', '{"jsonrpc":"2.0","id":1}{}'],
    ['missing colon', '{"id" 1}'],
    ['bad id literal', '{"id":nul}'],
    ['empty', ''],
    ['mismatched brackets', '{"jsonrpc":"2.0","id":1,"result":{"a":[1}]}'],
    ['a raw control character', '{"jsonrpc":"2.0","id":1,"result":"a\u0001b"}'],
    ['a single-quoted string', "{'id':1}"],
  ])('refuses %s', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => scan(text)).toThrow(SyntaxError);
  });

  it.each([
    ['an array', '[{"jsonrpc":"2.0","id":1}]'],
    ['a scalar', '42'],
    ['a string', '"x"'],
  ])('accepts %s as JSON that is not an object', (_name, text) => {
    expect(scan(text)).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels without parsing, and accepts ${MAX_JSON_DEPTH}`, () => {
    const nest = (levels: number) => `{"jsonrpc":"2.0","id":1,"result":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    expect(scan(nest(MAX_JSON_DEPTH))).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(() => scan(nest(MAX_JSON_DEPTH + 1))).toThrow(JsonDepthError);
    expect(() => scan('['.repeat(10_000_000))).toThrow(JsonDepthError);
  });
});

describe('compactJson', () => {
  it('equals JSON.stringify of the parsed value for 2000 pretty-printed messages', () => {
    const r = rng(5);
    for (let n = 0; n < 2000; n++) {
      const msg = message(r, n);
      const pretty = Buffer.from(JSON.stringify(msg, null, n % 3));
      scanEnvelope(pretty);
      expect(compactJson(pretty).toString()).toBe(JSON.stringify(msg));
    }
  });
});
