/**
 * The era bridge's pieces (src/transport/era-bridge/): the initialize answer from
 * server/discover, the per-request _meta, the listen stream's notifications for a 2025 host,
 * and --protocol / MCP_PROTOCOL.
 */
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { ConfigError, ProtocolError } from '../../src/errors.js';
import { createJsonLogger } from '../../src/logging/json-logger.js';
import { createLogger, serializeError } from '../../src/logging/logger.js';
import { parseRemote } from '../../src/transport/remote-transport.js';
import { HostProfile } from '../../src/transport/era-bridge/host-profile.js';
import { initializeAnswer, modernDiscoverResult } from '../../src/transport/era-bridge/initialize-answer.js';
import { LegacyResults } from '../../src/transport/era-bridge/legacy-result.js';
import { Listen } from '../../src/transport/era-bridge/listen.js';
import { modernRequest } from '../../src/transport/era-bridge/modern-request.js';

const init = (params: object) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params }));
const HOST = HostProfile.fromInitialize(init({ protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'claude-code', version: '2.1' } }));
const DISCOVER = {
  jsonrpc: '2.0',
  id: 'd',
  result: { supportedVersions: ['2026-07-28'], capabilities: { tools: { listChanged: true } }, instructions: 'be nice', resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '3' } } },
};

describe('the initialize answer', () => {
  it('comes from a 2026-07-28 discovery result, in the host’s version when the bridge speaks it', () => {
    const discover = modernDiscoverResult(DISCOVER)!;
    expect(JSON.parse(initializeAnswer(0, discover, HOST))).toEqual({
      jsonrpc: '2.0',
      id: 0,
      result: { protocolVersion: '2025-11-25', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 's', version: '3' }, instructions: 'be nice' },
    });
    const old = HostProfile.fromInitialize(init({ protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'h', version: '1' } }));
    expect(old.answerVersion()).toBe('2025-03-26');
    const future = HostProfile.fromInitialize(init({ protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 'h', version: '1' } }));
    expect(future.answerVersion()).toBe('2025-11-25');
  });

  it('is not made from an error, or from a server that does not list 2026-07-28', () => {
    expect(modernDiscoverResult({ jsonrpc: '2.0', id: 'd', error: { code: -32601, message: 'Method not found' } })).toBeUndefined();
    expect(modernDiscoverResult({ jsonrpc: '2.0', id: 'd', result: { supportedVersions: ['2027-01-01'], capabilities: {} } })).toBeUndefined();
    expect(modernDiscoverResult({ jsonrpc: '2.0', id: 'd', result: {} })).toBeUndefined();
  });
});

describe('a host request as a 2026-07-28 request', () => {
  it('keeps the host’s params and _meta keys, adds the revision’s, and on a retry the answers and state', () => {
    const host = HostProfile.fromInitialize(init({ protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'h', version: '1' } }));
    host.logLevel = 'warning';
    const msg = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x', arguments: { a: 1 }, requestState: 'stale', _meta: { progressToken: 7, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } } };
    const first = modernRequest(msg, 7, host);
    expect(first.info).toMatchObject({ kind: 'request', id: 7, method: 'tools/call', name: 'x', protocolVersion: '2026-07-28' });
    expect(JSON.parse(first.body.toString()).params).toEqual({
      name: 'x',
      arguments: { a: 1 },
      requestState: 'stale',
      _meta: {
        progressToken: 7,
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'h', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
        'io.modelcontextprotocol/logLevel': 'warning',
      },
    });
    const retry = JSON.parse(modernRequest(msg, 'r-1', host, { inputResponses: { k: { action: 'decline' } }, requestState: undefined }).body.toString());
    expect(retry.id).toBe('r-1');
    expect(retry.params.inputResponses).toEqual({ k: { action: 'decline' } });
    // MRTR: no requestState in a retry unless the server sent one.
    expect('requestState' in retry.params).toBe(false);
    expect(msg.params.requestState).toBe('stale');
  });

  it('knows which capability each input request needs', () => {
    expect(HOST.missingCapability('elicitation/create')).toBeUndefined();
    expect(HOST.missingCapability('sampling/createMessage')).toBe('sampling');
    expect(HOST.missingCapability('roots/list')).toBe('roots');
    expect(HOST.missingCapability('elicitation/create', { mode: 'url', url: 'https://example.com' })).toBe('elicitation.url');
  });
});

describe('the listen stream, for a 2025 host', () => {
  const opened: Array<{ id: string; notifications: object }> = [];
  const listen = new Listen(async (id, notifications, signal) => {
    opened.push({ id, notifications });
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  }, createLogger('silent'));

  it('asks for what the server offers and re-issues the listen when the host subscribes', () => {
    listen.start({ tools: { listChanged: true }, prompts: {}, resources: { subscribe: true, listChanged: true } });
    listen.subscribe('file:///a', true);
    listen.subscribe('file:///a', true);
    listen.subscribe('file:///a', false);
    expect(opened).toEqual([
      { id: 'mcp-signing-proxy-listen-1', notifications: { toolsListChanged: true, resourcesListChanged: true } },
      { id: 'mcp-signing-proxy-listen-2', notifications: { toolsListChanged: true, resourcesListChanged: true, resourceSubscriptions: ['file:///a'] } },
      { id: 'mcp-signing-proxy-listen-3', notifications: { toolsListChanged: true, resourcesListChanged: true } },
    ]);
    listen.stop();
  });

  it('drops the acknowledgement and the teardown, and strips the subscription id', () => {
    const n = (v: object) => parseRemote(JSON.stringify({ jsonrpc: '2.0', ...v }));
    expect(listen.relayable(n({ method: 'notifications/subscriptions/acknowledged', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'mcp-signing-proxy-listen-1' } } }))).toBeUndefined();
    // By method, whether or not the server tagged it with the subscription id.
    expect(listen.relayable(n({ method: 'notifications/subscriptions/acknowledged', params: {} }))).toBeUndefined();
    expect(listen.relayable(n({ method: 'notifications/subscriptions/acknowledged' }))).toBeUndefined();
    expect(listen.relayable(n({ method: 'notifications/cancelled', params: { requestId: 'mcp-signing-proxy-listen-1' } }))).toBeUndefined();
    const changed = listen.relayable(n({ method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'mcp-signing-proxy-listen-1' } } }))!;
    expect(JSON.parse(changed.bytes.toString())).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: {} });
    const updated = listen.relayable(n({ method: 'notifications/resources/updated', params: { uri: 'file:///a', _meta: { 'io.modelcontextprotocol/subscriptionId': 'x', other: 1 } } }))!;
    expect(JSON.parse(updated.bytes.toString()).params).toEqual({ uri: 'file:///a', _meta: { other: 1 } });
    const progress = n({ method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    expect(listen.relayable(progress)).toBe(progress);
  });
});

describe('when the listen stream ends, for a 2025 host', () => {
  type End = { result?: object; error?: object } | Error | undefined;
  /** A Listen whose streams end as `ends` says, one per open; the last one stays open. */
  function listenEnding(ends: End[], lostPauseMs = 20) {
    const opened: string[] = [];
    const listen = new Listen(
      async (id, _notifications, signal) => {
        opened.push(id);
        const end = ends.shift();
        if (end instanceof Error) throw end;
        if (end !== undefined || ends.length > 0) return end;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return undefined;
      },
      createLogger('silent'),
      { lostPauseMs },
    );
    return { listen, opened };
  }
  const lost = () => new ProtocolError('ESP_LISTEN_LOST', 'the stream closed 8 times in a row');
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };
  const TOOLS = { tools: { listChanged: true } };

  it('is not listened to again after the server ended it gracefully, refused it or failed it: the transport already re-issues dropped streams', async () => {
    const ends: End[] = [{ result: { resultType: 'complete' } }, { error: { code: -32601, message: 'Method not found' } }, new ProtocolError('ESP_HTTP_403', 'forbidden')];
    await Promise.all(
      ends.map(async (end) => {
        const { listen, opened } = listenEnding([end]);
        listen.start(TOOLS);
        // Longer than any pause the bridge ever used before it left re-issuing to the transport (1 s).
        await new Promise((r) => setTimeout(r, 1200));
        expect(opened).toEqual(['mcp-signing-proxy-listen-1']);
        // A new subscription set is a new listen.
        listen.subscribe('file:///a', true);
        expect(opened).toEqual(['mcp-signing-proxy-listen-1', 'mcp-signing-proxy-listen-2']);
        listen.stop();
      }),
    );
  });

  it('listens again after the transport gave up, after a pause that doubles; the acknowledgement starts it afresh; stop ends the wait', async () => {
    const lines: Array<{ msg: string; pauseMs?: number }> = [];
    const log = createJsonLogger({ level: 'warn', base: {}, serializers: { err: serializeError }, redact: { paths: [], censor: '[redacted]' } }, { write: (l) => void lines.push(JSON.parse(l)) });
    const opened: string[] = [];
    let listen!: Listen;
    // Lost twice, then acknowledged and lost again, then open for good.
    const script = [lost(), lost(), 'ack', undefined];
    listen = new Listen(
      async (id, _notifications, signal) => {
        opened.push(id);
        const step = script.shift();
        if (step === 'ack') {
          listen.relayable(parseRemote(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': id } } })));
          throw lost();
        }
        if (step instanceof Error) throw step;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return undefined;
      },
      log,
      { lostPauseMs: 10 },
    );
    listen.start(TOOLS);
    await until(() => opened.length === 4);
    expect(lines.map((l) => l.pauseMs)).toEqual([10, 20, 10]);
    expect(lines[0]?.msg).toMatch(/keeps dropping the notification stream; listening again after a pause/);
    listen.stop();

    // Stopped during the pause: nothing is sent again.
    const stopped = listenEnding([lost()], 100);
    stopped.listen.start(TOOLS);
    await until(() => stopped.opened.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    stopped.listen.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped.opened).toEqual(['mcp-signing-proxy-listen-1']);
  });
});

describe('a 2026-07-28 response, for a 2025 host', () => {
  const legacy = new LegacyResults();
  const forLegacyHost = (m: ReturnType<typeof parseRemote>, method: string, tool?: string) => legacy.shape(m, method, tool);
  const msg = (v: object) => parseRemote(JSON.stringify({ jsonrpc: '2.0', id: 3, ...v }));
  const SERVER_INFO = { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '1' } };

  it('loses resultType, the cache fields of cacheable results and the server identity; keeps everything else', () => {
    const list = forLegacyHost(msg({ result: { tools: [{ name: 't', inputSchema: { type: 'object' } }], resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: SERVER_INFO } }), 'tools/list');
    expect(JSON.parse(list.bytes.toString())).toEqual({ jsonrpc: '2.0', id: 3, result: { tools: [{ name: 't', inputSchema: { type: 'object' } }] } });
    expect(list.info).toMatchObject({ kind: 'response', id: 3 });
    const call = forLegacyHost(msg({ result: { content: [], resultType: 'complete', ttlMs: 5, _meta: { ...SERVER_INFO, trace: 'x' } } }), 'tools/call');
    // ttlMs means nothing on a tools/call result: a tool's own field stays.
    expect(JSON.parse(call.bytes.toString()).result).toEqual({ content: [], ttlMs: 5, _meta: { trace: 'x' } });
  });

  it('edits only the members it must, whatever the spacing, escapes and nesting of the rest', () => {
    const text = 'a "quoted" } ] { [ \\ \u00e9 ' + 'x'.repeat(10_000);
    const raw = `{ "jsonrpc" : "2.0" ,\t"id": "r\\"1",\r\n "result" : { "content" : [ { "type": "text", "text": ${JSON.stringify(text)} } ], "isError": false, "n": -1.5e3, "z": null,\n "resultType" : "complete", "_meta": { "io.modelcontextprotocol/serverInfo": { "name": "s" }, "k": [1, {"a": "}"}] } , "structuredContent" : "done" } }`;
    const shaped = legacy.shape(parseRemote(raw), 'tools/call', 't');
    expect(JSON.parse(shaped.bytes.toString())).toEqual({
      jsonrpc: '2.0',
      id: 'r"1',
      result: { content: [{ type: 'text', text }], isError: false, n: -1500, z: null, _meta: { k: [1, { a: '}' }] }, structuredContent: { result: 'done' } },
    });
    expect(shaped.info).toMatchObject({ kind: 'response', id: 'r"1' });
    // The untouched members are the same bytes.
    expect(shaped.bytes.includes(JSON.stringify(text))).toBe(true);
  });

  it('relays a response without those fields byte for byte', () => {
    const plain = parseRemote('{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"a  b"}]}}');
    expect(forLegacyHost(plain, 'tools/call')).toBe(plain);
    const other = msg({ error: { code: -32602, message: 'Resource not found' } });
    expect(forLegacyHost(other, 'resources/read')).toBe(other);
  });

  it('wraps a tool output that is not an object, and its schema, as { result }, as 2025-11-25 needs', () => {
    const legacy2 = new LegacyResults();
    const arraySchema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', items: { $ref: '#/$defs/item' }, $defs: { item: { type: 'string', default: { $ref: '#/keep' } } } };
    const anyOf = { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'null' }] };
    const list = legacy2.shape(msg({ result: { tools: [{ name: 'arr', outputSchema: arraySchema }, { name: 'either', outputSchema: anyOf }, { name: 'obj', outputSchema: { type: 'object' } }, { name: 'none' }] } }), 'tools/list');
    const tools = JSON.parse(list.bytes.toString()).result.tools;
    expect(tools[0].outputSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { result: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', items: { $ref: '#/properties/result/$defs/item' }, $defs: { item: { type: 'string', default: { $ref: '#/keep' } } } } },
      required: ['result'],
    });
    expect(tools[1].outputSchema).toEqual({ type: 'object', properties: { result: anyOf }, required: ['result'] });
    expect(tools.slice(2)).toEqual([{ name: 'obj', outputSchema: { type: 'object' } }, { name: 'none' }]);
    const call = (tool: string, structuredContent: unknown) => JSON.parse(legacy2.shape(msg({ result: { content: [], structuredContent } }), 'tools/call', tool).bytes.toString()).result.structuredContent;
    expect(call('arr', ['a'])).toEqual({ result: ['a'] });
    // The schema of `either` was wrapped: an object output of it is wrapped too.
    expect(call('either', { a: 'x' })).toEqual({ result: { a: 'x' } });
    expect(call('obj', { a: 'x' })).toEqual({ a: 'x' });
    expect(call('unlisted', 7)).toEqual({ result: 7 });
  });

  it('explains the revision’s own error codes, keeping code and data', () => {
    const e = (code: number, data?: object) => JSON.parse(forLegacyHost(msg({ error: { code, message: 'said the server', ...(data && { data }) } }), 'tools/call').bytes.toString()).error;
    expect(e(-32020)).toMatchObject({ code: -32020, message: expect.stringMatching(/^mcp-signing-proxy: the server answered with the MCP 2026-07-28 error HeaderMismatch \(-32020\): said the server \(fix: /) });
    expect(e(-32021, { requiredCapabilities: { sampling: {} } })).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } }, message: expect.stringMatching(/MissingRequiredClientCapability .*enable it in the client/) });
    expect(e(-32022, { supported: ['2027-01-01'] })).toMatchObject({ code: -32022, data: { supported: ['2027-01-01'] }, message: expect.stringMatching(/UnsupportedProtocolVersion .*--protocol passthrough/) });
  });
});

describe('--protocol / MCP_PROTOCOL', () => {
  const url = 'https://mcp.example.com/mcp';
  const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(argv), env);

  it('defaults to auto; the flag wins over the environment', () => {
    expect(cfg([url]).protocol).toBe('auto');
    expect(cfg([url], { MCP_PROTOCOL: 'bridge' }).protocol).toBe('bridge');
    expect(cfg([url, '--protocol', 'passthrough'], { MCP_PROTOCOL: 'bridge' }).protocol).toBe('passthrough');
  });

  it('refuses a bad value, and the bridge over legacy HTTP+SSE, naming the flag and the variable', () => {
    expect(() => cfg([url, '--protocol', 'modern'])).toThrow(ConfigError);
    expect(() => cfg([url], { MCP_PROTOCOL: 'modern' })).toThrow(/^--protocol \/ MCP_PROTOCOL must be auto, passthrough or bridge \(got "modern"\)$/);
    expect(() => cfg([url, '--protocol', 'bridge', '--transport', 'sse'])).toThrow(/--protocol bridge \/ MCP_PROTOCOL=bridge needs Streamable HTTP/);
  });
});
