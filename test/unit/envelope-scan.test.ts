import { describe, expect, it } from 'vitest';
import { scanEnvelope } from '../../src/transport/envelope-scan.js';

/** What scanEnvelope should report, computed with JSON.parse. */
function expected(text: string) {
  const v = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['jsonrpc', 'id', 'method']) if (k in v) out[k] = v[k];
  for (const k of ['result', 'error', 'params']) if (k in v) out[k] = true;
  return out;
}

// A small deterministic generator of awkward JSON values.
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 7));
  const strings = ['', 'plain', 'quote " inside', 'backslash \\ end\\', '\\"', 'brace { [ ] } , :', 'ünï 🚀', '\n\t\r', '"}'];
  switch (k) {
    case 0: return strings[Math.floor(r() * strings.length)];
    case 1: return Math.floor(r() * 1e6) - 5e5 + (r() < 0.3 ? 0.25 : 0);
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`${strings[i % strings.length]}k${i}`, value(r, depth + 1)]));
  }
}

describe('scanEnvelope', () => {
  it('agrees with JSON.parse on 2000 generated messages, compact and spaced', () => {
    const r = rng(7);
    for (let n = 0; n < 2000; n++) {
      const msg: Record<string, unknown> = { jsonrpc: '2.0' };
      const shape = n % 4;
      if (shape !== 3) msg.id = r() < 0.5 ? n : `id-"${n}"\\`;
      if (shape === 0 || shape === 3) msg.method = 'tools/call';
      if (shape === 0 || shape === 3) msg.params = value(r, 0);
      if (shape === 1) msg.result = value(r, 0);
      if (shape === 2) msg.error = { code: -1, message: 'x', data: value(r, 0) };
      msg.extra = value(r, 0);
      for (const text of [JSON.stringify(msg), JSON.stringify(msg, null, 1)]) {
        expect(scanEnvelope(text), text).toEqual(expected(text));
      }
    }
  });

  it('finds the id after a 4 MB result', () => {
    const text = JSON.stringify({ result: { content: [{ type: 'text', text: 'x"\\'.repeat(1_400_000) }] }, jsonrpc: '2.0', id: 42 });
    expect(scanEnvelope(text)).toEqual({ result: true, jsonrpc: '2.0', id: 42 });
  });

  it.each([
    ['truncated', '{"jsonrpc":"2.0","id":1,"result":{"a":"b"'],
    ['unterminated string', '{"jsonrpc":"2.0","id":1,"result":"abc'],
    ['trailing garbage', '{"jsonrpc":"2.0","id":1} x'],
    ['array', '[{"jsonrpc":"2.0","id":1}]'],
    ['scalar', '42'],
    ['missing colon', '{"id" 1}'],
    ['bad id literal', '{"id":nul}'],
    ['empty', ''],
    ['mismatched brackets', '{"jsonrpc":"2.0","id":1,"result":{"a":[1}]}'],
    ['a raw control character', '{"jsonrpc":"2.0","id":1,"result":"a\u0001b"}'],
  ])('refuses %s', (_name, text) => {
    expect(scanEnvelope(text)).toBeUndefined();
  });
});
