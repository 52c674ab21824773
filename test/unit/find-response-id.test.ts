import { describe, expect, it } from 'vitest';
import { findResponseId } from '../../src/transport/find-response-id.js';

const find = (text: string) => findResponseId(Buffer.from(text), Buffer.from(text));

describe('findResponseId', () => {
  it('finds a top-level id before or after the result, in text that is not JSON', () => {
    expect(find('{"jsonrpc":"2.0","id":3,"result":{oops}}')).toBe(3);
    expect(find('{ "id" : "a\\"b", "result": [')).toBe('a"b');
    expect(find('{"result":{"text":"cut off},"jsonrpc":"2.0","id":"r-1"}')).toBe('r-1');
    // Head and tail of a message whose middle was dropped.
    expect(findResponseId(Buffer.from('{"result":{"content":[{"text":"xxxx'), Buffer.from('xxxx"}]},"jsonrpc":"2.0","id":12}'))).toBe(12);
  });

  it('ignores ids that are not the top-level one, and messages that are server requests', () => {
    expect(find('{"result":{"id":5,"x":[{"id":6}]},"jsonrpc":"2.0"}')).toBeUndefined();
    expect(find('{"result":{"text":"\\"id\\":9}"}}')).toBeUndefined();
    expect(find('{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{oops}}')).toBeUndefined();
    expect(find('{"jsonrpc":"2.0","id":null,"error":{}}')).toBeUndefined();
    expect(find('not json at all')).toBeUndefined();
  });
});
