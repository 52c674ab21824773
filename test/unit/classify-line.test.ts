import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/stdio/classify-line.js';

const c = (s: string | Buffer) => classifyLine(Buffer.isBuffer(s) ? s : Buffer.from(s));
const reply = (s: string | Buffer) => {
  const r = c(s);
  if (r.kind !== 'invalid') throw new Error(`expected invalid, got ${r.kind}`);
  return JSON.parse(r.reply);
};

describe('classifyLine', () => {
  it.each([
    ['C3 28', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
    ['overlong slash', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['lone surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['truncated 4-byte', Buffer.from([0x22, 0xf0, 0x9f, 0x98, 0x22])],
  ])('invalid UTF-8 (%s) is -32700 with id null', (_n, bytes) => {
    expect(reply(bytes)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('non-JSON is -32700', () => expect(reply('{oops').error.code).toBe(-32700));
  it('a batch is -32600', () => expect(reply('[{"jsonrpc":"2.0","id":1,"method":"ping"}]').error.code).toBe(-32600));
  it('a non-JSON-RPC object keeps its id', () => expect(reply('{"id":"a","foo":1}')).toMatchObject({ id: 'a', error: { code: -32600 } }));
  it('wrong jsonrpc version is -32600', () => expect(reply('{"jsonrpc":"1.0","id":4,"method":"ping"}')).toMatchObject({ id: 4, error: { code: -32600 } }));
  it('a request with id null is -32600', () => expect(reply('{"jsonrpc":"2.0","id":null,"method":"ping"}').error.code).toBe(-32600));
  it('a scalar is -32600', () => expect(reply('42').error.code).toBe(-32600));
  it('nesting over the limit is -32600 with id null, unparsed', () => {
    const r = reply(`{"jsonrpc":"2.0","id":1,"method":"x","params":${'['.repeat(1000)}${']'.repeat(1000)}}`);
    expect(r).toMatchObject({ id: null, error: { code: -32600 } });
    expect(r.error.message).toContain('deeper than 1000 levels');
    expect(c(`{"jsonrpc":"2.0","id":1,"method":"x","params":${'['.repeat(999)}${']'.repeat(999)}}`).kind).toBe('message');
  });

  it('skips blank and whitespace lines', () => {
    expect(c('').kind).toBe('skip');
    expect(c('  \r').kind).toBe('skip');
  });

  it('strips a BOM and a trailing CR but forwards the bytes otherwise unchanged', () => {
    const r = c('\ufeff{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"x":1}\r');
    expect(r.kind).toBe('message');
    if (r.kind !== 'message') return;
    expect(r.body.toString()).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"x":1}');
    expect(r.info).toEqual({ kind: 'request', id: 1, method: 'tools/call', name: 'echo' });
  });

  it('recognises notifications and responses', () => {
    const n = c('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(n.kind === 'message' && n.info.kind).toBe('notification');
    const r = c('{"jsonrpc":"2.0","id":"s1","result":{}}');
    expect(r.kind === 'message' && r.info).toMatchObject({ kind: 'response', id: 's1' });
    const e = c('{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}');
    expect(e.kind === 'message' && e.info.kind).toBe('response');
  });

  it('derives Mcp-Name from resources/read', () => {
    const r = c('{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a"}}');
    expect(r.kind === 'message' && r.info.name).toBe('file:///a');
  });
});

describe('duplicate keys', () => {
  it.each([
    ['params.name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_service","name":"echo"}}', 'params.name', 1],
    ['method', '{"jsonrpc":"2.0","id":2,"method":"tools/call","method":"ping","params":{}}', 'method', 2],
    ['id', '{"jsonrpc":"2.0","id":3,"id":4,"method":"ping"}', 'id', 4],
  ])('a duplicated %s is refused with -32600', (_what, text, key, id) => {
    const r = classifyLine(Buffer.from(text));
    expect(r.kind).toBe('invalid');
    const reply = JSON.parse((r as { reply: string }).reply);
    expect(reply.id).toBe(id);
    expect(reply.error.code).toBe(-32600);
    expect(reply.error.message).toContain(`the key "${key}" occurs twice`);
  });

  it('the same key in different objects, or deeper than params, is fine', () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"name":"a","x":{"name":"b","name":"c"}}}}';
    expect(classifyLine(Buffer.from(text)).kind).toBe('message');
  });
});

describe('a message that is both a request and a response', () => {
  it('is refused with -32600: it would skip the checks of one or the other', () => {
    const r = classifyLine(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"x","result":{"tools":[]}}'));
    expect(r.kind).toBe('invalid');
    expect(JSON.parse((r as { reply: string }).reply).error.code).toBe(-32600);
  });
});
