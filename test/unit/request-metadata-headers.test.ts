/**
 * The headers every Streamable HTTP request carries (MCP 2026-07-28, "Request Metadata",
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http):
 * value encoding, MCP-Protocol-Version from _meta, Mcp-Method / Mcp-Name, x-mcp-header.
 */
import { describe, expect, it } from 'vitest';
import { describeMessage } from '../../src/jsonrpc.js';
import { toolHeadersHook } from '../../src/relay/tool-headers-hook.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { headerValue } from '../../src/transport/streamable-http/header-value.js';
import { SessionState } from '../../src/transport/streamable-http/session-state.js';
import { paramHeadersOf, ToolHeaders } from '../../src/transport/streamable-http/tool-headers.js';
import { Agent } from '../../src/transport/undici.js';
import { captureLog } from '../helpers/log-capture.js';

const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

describe('headerValue', () => {
  it('sends visible ASCII, inner spaces and tabs as they are', () => {
    expect(headerValue('tools/call')).toBe('tools/call');
    expect(headerValue('file:///a b\tc')).toBe('file:///a b\tc');
  });
  it('encodes non-ASCII, control characters and edge whitespace as =?base64?…?=', () => {
    expect(headerValue('file:///home/josé/notes.txt')).toBe('=?base64?ZmlsZTovLy9ob21lL2pvc8OpL25vdGVzLnR4dA==?=');
    expect(headerValue('a\nb')).toBe(b64('a\nb'));
    expect(headerValue(' lead')).toBe(b64(' lead'));
    expect(headerValue('trail\t')).toBe(b64('trail\t'));
    expect(headerValue('日本')).toBe(b64('日本'));
  });
  it('encodes a plain value that looks like the encoded form', () => {
    expect(headerValue('=?base64?aGk=?=')).toBe(b64('=?base64?aGk=?='));
    expect(headerValue('=?BASE64?x?=')).toBe(b64('=?BASE64?x?='));
  });
  it('leaves out a value too long for any server\'s header limit (the body still carries it)', () => {
    expect(headerValue('x'.repeat(4096))).toBe('x'.repeat(4096));
    expect(headerValue('x'.repeat(20_000))).toBeUndefined();
  });
});

describe('describeMessage', () => {
  it('reads the per-message protocol version and the task id', () => {
    const meta = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } };
    expect(describeMessage({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: meta })?.protocolVersion).toBe('2026-07-28');
    expect(describeMessage({ jsonrpc: '2.0', method: 'notifications/x', params: meta })?.protocolVersion).toBe('2026-07-28');
    expect(describeMessage({ jsonrpc: '2.0', id: 1, method: 'ping' })?.protocolVersion).toBeUndefined();
    expect(describeMessage({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { taskId: 't-1' } })?.name).toBe('t-1');
  });
});

function state(toolHeaders?: ToolHeaders): SessionState {
  const log = captureLog();
  return new SessionState(new URL('http://127.0.0.1:1/mcp'), new HttpClient({ dispatcher: new Agent(), signers: [], logger: log.logger }), log.logger, toolHeaders);
}
const headersOf = (s: SessionState, msg: Record<string, unknown>) => s.headers(describeMessage(msg), undefined, Buffer.from(JSON.stringify(msg)));

describe('SessionState.headers', () => {
  it('takes MCP-Protocol-Version from the message _meta first, else the negotiated version', () => {
    const s = state();
    s.protocolVersion = '2025-11-25';
    const modern = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } };
    expect(headersOf(s, modern)['mcp-protocol-version']).toBe('2026-07-28');
    expect(headersOf(s, { jsonrpc: '2.0', id: 2, method: 'ping' })['mcp-protocol-version']).toBe('2025-11-25');
    expect(headersOf(state(), { jsonrpc: '2.0', id: 2, method: 'ping' })['mcp-protocol-version']).toBeUndefined();
  });
  it('sets Mcp-Method on requests and notifications and encodes Mcp-Name rather than dropping it', () => {
    const s = state();
    expect(headersOf(s, { jsonrpc: '2.0', method: 'notifications/initialized' })['mcp-method']).toBe('notifications/initialized');
    const read = headersOf(s, { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///home/josé/notes.txt' } });
    expect(read['mcp-method']).toBe('resources/read');
    expect(read['mcp-name']).toBe(b64('file:///home/josé/notes.txt'));
    expect(headersOf(s, { jsonrpc: '2.0', id: 1, method: 'tasks/cancel', params: { taskId: 'tâche' } })['mcp-name']).toBe(b64('tâche'));
  });
  it('mirrors annotated tools/call arguments into Mcp-Param-*', () => {
    const t = new ToolHeaders();
    const found = paramHeadersOf({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'integer', 'x-mcp-header': 'Count' }, dry: { type: 'boolean', 'x-mcp-header': 'Dry' }, opt: { type: 'string', 'x-mcp-header': 'Opt' }, nested: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } } } });
    if (!('headers' in found)) throw new Error('expected valid');
    t.set('deploy', found.headers);
    const h = headersOf(state(t), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: { region: 'eu-wést-1', n: 42, dry: false, opt: null, nested: { zone: 'a' } } } });
    expect(h).toMatchObject({ 'mcp-param-region': b64('eu-wést-1'), 'mcp-param-count': '42', 'mcp-param-dry': 'false', 'mcp-param-zone': 'a' });
    expect(h['mcp-param-opt']).toBeUndefined();
    expect(headersOf(state(t), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'other', arguments: { region: 'x' } } })['mcp-param-region']).toBeUndefined();
  });
});

describe('paramHeadersOf', () => {
  const invalid = (schema: unknown) => 'invalid' in paramHeadersOf(schema);
  it('accepts annotations on primitive properties reached through properties', () => {
    expect(paramHeadersOf({ type: 'object', properties: { a: { type: ['string', 'null'], 'x-mcp-header': 'A' } } })).toEqual({ headers: [{ path: ['a'], header: 'A' }] });
    expect(paramHeadersOf({ type: 'object' })).toEqual({ headers: [] });
  });
  it('rejects bad names, duplicates, non-primitive types and annotations outside properties', () => {
    expect(invalid({ properties: { a: { type: 'string', 'x-mcp-header': '' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: 'string', 'x-mcp-header': 'Has Space' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: 'object', 'x-mcp-header': 'A' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: 'number', 'x-mcp-header': 'A' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: ['integer', 'number'], 'x-mcp-header': 'A' } } })).toBe(true);
    expect(invalid({ properties: { a: { type: 'integer', 'x-mcp-header': 'A' }, b: { type: 'boolean', 'x-mcp-header': 'B' } } })).toBe(false);
    expect(invalid({ properties: { a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } } })).toBe(true);
    expect(invalid({ properties: { a: { anyOf: [{ type: 'string', 'x-mcp-header': 'A' }] } } })).toBe(true);
    expect(invalid({ $defs: { r: { type: 'string', 'x-mcp-header': 'A' } }, properties: { a: { $ref: '#/$defs/r' } } })).toBe(true);
    expect(invalid({ type: 'string', 'x-mcp-header': 'Root' })).toBe(true);
  });
});

describe('toolHeadersHook', () => {
  const list = (id: number, cursor?: string) => ({ id, method: 'tools/list', name: undefined, startedAt: 0, body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor === undefined ? {} : { cursor } })) });
  const response = (id: number, tools: unknown[]) => {
    const v = { jsonrpc: '2.0', id, result: { tools } };
    return { bytes: Buffer.from(JSON.stringify(v)), info: describeMessage(v) };
  };
  const good = (name: string, header = 'Region') => ({ name, inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': header } } } });

  it('records every page, removes tools with invalid annotations with a warning naming them, and starts afresh on a new listing', async () => {
    const t = new ToolHeaders();
    const log = captureLog();
    const hook = toolHeadersHook(t, log.logger);
    expect(await hook.onServerMessage!(response(1, [good('a')]), list(1))).toBeUndefined();
    const verdict = await hook.onServerMessage!(response(2, [good('b'), good('bad', 'no good'), { name: 'plain' }]), list(2, 'page2'));
    expect(verdict && 'rewrite' in verdict && JSON.parse(verdict.rewrite.toString()).result.tools.map((x: any) => x.name)).toEqual(['b', 'plain']);
    expect(log.warnings(/invalid x-mcp-header/).map((e) => e.tool)).toEqual(['bad']);
    expect(t.headersFor('a', { region: 'r' })).toEqual({ 'mcp-param-region': 'r' });
    expect(t.headersFor('b', { region: 'r' })).toEqual({ 'mcp-param-region': 'r' });
    await hook.onServerMessage!(response(3, [good('b', 'Zone')]), list(3));
    expect(t.headersFor('a', { region: 'r' })).toEqual({});
    expect(t.headersFor('b', { region: 'r' })).toEqual({ 'mcp-param-zone': 'r' });
  });

  it('leaves other responses unparsed', async () => {
    const hook = toolHeadersHook(new ToolHeaders(), captureLog().logger);
    const notJson = { bytes: Buffer.from('not json'), info: { kind: 'response' as const, id: 1, method: undefined, name: undefined } };
    expect(await hook.onServerMessage!(notJson, { ...list(1), method: 'tools/call' })).toBeUndefined();
  });
});
