/**
 * The relay's hook seam, in process: a transport double that answers from a script stands
 * in for the server (the spawned-CLI tests run the real one), a PassThrough for stdout.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PolicyError, ProxyError } from '../../src/errors.js';
import { describeMessage, type ClientMessageInfo } from '../../src/jsonrpc.js';
import { Relay } from '../../src/proxy.js';
import type { RelayHook, RequestContext, RequestEnd } from '../../src/relay/hooks.js';
import { StdoutWriter } from '../../src/stdio/stdout-writer.js';
import type { RemoteMessage, RemoteTransport } from '../../src/transport/remote-transport.js';
import { captureLog } from '../helpers/log-capture.js';

function remote(value: object): RemoteMessage {
  return { bytes: Buffer.from(JSON.stringify(value)), info: describeMessage(value) };
}

type Script = (info: ClientMessageInfo, relay: Relay) => Promise<void> | void;

function harness(hooks: RelayHook[], script: Script = (info, relay) => relay.deliver(remote({ jsonrpc: '2.0', id: info.id, result: { echo: info.method } }))) {
  const out = new PassThrough();
  const lines: any[] = [];
  let buf = '';
  let raw = '';
  out.on('data', (c: Buffer) => {
    raw += c.toString('utf8');
    buf += c.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const log = captureLog();
  const relay = new Relay({ writer: new StdoutWriter(out, () => {}), logger: log.logger, hooks, graceMs: 20 });
  const sent: ClientMessageInfo[] = [];
  const transport: RemoteTransport = {
    start() {},
    async send(_body, info) {
      sent.push(info);
      if (info.kind === 'request') await script(info, relay);
    },
    async terminate() {},
    close() {},
  };
  relay.attach(transport);
  const send = (msg: object) => relay.handleLine(Buffer.from(JSON.stringify(msg)));
  const waitFor = async (pred: (m: any) => boolean): Promise<any> => {
    for (let i = 0; i < 200; i++) {
      const m = lines.find(pred);
      if (m !== undefined) return m;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no such line; have ${JSON.stringify(lines)}`);
  };
  return { relay, lines, sent, send, waitFor, log, raw: () => raw };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('relay hooks: client requests', () => {
  it('a refusal is answered locally through the error mapper and never sent', async () => {
    const ends: Array<[RequestContext, RequestEnd]> = [];
    const h = harness([{
      name: 'test policy',
      onRequest: (req) => (req.name === 'rm' ? { refuse: new PolicyError('tool "rm" is not allowed by --deny-tools', '--deny-tools', 'remove it') } : undefined),
      onEnd: (req, end) => ends.push([req, end]),
    }]);
    const before = Date.now();
    h.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'rm', arguments: {} } });
    const answer = await h.waitFor((m) => m.id === 7);
    expect(answer.error).toEqual({
      code: -32602,
      message: 'mcp-signing-proxy: tool "rm" is not allowed by --deny-tools (fix: remove it)',
      data: { code: 'ESP_POLICY_DENIED', hint: 'remove it' },
    });
    expect(h.sent).toEqual([]);
    expect(ends).toHaveLength(1);
    const [req, end] = ends[0]!;
    expect(req).toMatchObject({ id: 7, method: 'tools/call', name: 'rm' });
    expect(req.startedAt).toBeGreaterThanOrEqual(before);
    expect(end).toMatchObject({ outcome: 'refused', by: 'test policy', error: { code: -32602 } });
    expect(end.outcome === 'refused' && end.refusal).toBeInstanceOf(PolicyError);

    h.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'ls' } });
    expect((await h.waitFor((m) => m.id === 8)).result).toEqual({ echo: 'tools/call' });
    expect(h.sent.map((i) => i.name)).toEqual(['ls']);
  });

  it('the first refusing hook wins; a hook that throws refuses (fails closed)', async () => {
    const seen: string[] = [];
    const h = harness([
      { name: 'a', onRequest: (req) => void seen.push(`a:${req.method}`) },
      { name: 'b', onRequest: () => { throw new Error('secret detail'); } },
      { name: 'c', onRequest: (req) => void seen.push(`c:${req.method}`) },
    ]);
    h.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const answer = await h.waitFor((m) => m.id === 1);
    expect(answer.error.message).toBe('mcp-signing-proxy: b failed on ping; the request was not sent (fix: see the proxy log on stderr)');
    expect(answer.error.message).not.toContain('secret detail');
    expect(seen).toEqual(['a:ping']);
    expect(h.sent).toEqual([]);
  });

  it('notifications and client responses do not pass through onRequest', async () => {
    const seen: string[] = [];
    const h = harness([{ name: 'x', onRequest: (req) => void seen.push(req.method) }]);
    h.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    h.send({ jsonrpc: '2.0', id: 's1', result: {} });
    await settle();
    expect(seen).toEqual([]);
    expect(h.sent.map((i) => i.kind)).toEqual(['notification', 'response']);
  });

  it('with hooks, a notification that names a request method is dropped, not sent past them', async () => {
    const h = harness([{ name: 'policy', onRequest: () => undefined }]);
    h.send({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'delete_service' } });
    h.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await settle();
    expect(h.sent.map((i) => i.method)).toEqual(['notifications/cancelled']);
    expect(h.lines).toEqual([]);
  });
});

describe('relay hooks: server messages', () => {
  it('a response hook knows the request it answers; rewrites chain in order', async () => {
    const seen: Array<[string | undefined, string]> = [];
    const h = harness(
      [
        {
          name: 'first',
          onServerMessage: (msg, req) => {
            seen.push([req?.method, msg.bytes.toString()]);
            return req?.method === 'tools/list' ? { rewrite: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { tools: [] } })) } : undefined;
          },
        },
        { name: 'second', onServerMessage: async (msg, req) => void seen.push([req?.method, msg.bytes.toString()]) },
      ],
      async (info, relay) => {
        await relay.deliver(remote({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } }));
        await relay.deliver(remote({ jsonrpc: '2.0', id: info.id, result: { tools: [{ name: 'a' }] } }));
      },
    );
    h.send({ jsonrpc: '2.0', id: 'L', method: 'tools/list' });
    expect((await h.waitFor((m) => m.id === 'L')).result).toEqual({ tools: [] });
    expect(seen.map(([m]) => m)).toEqual([undefined, undefined, 'tools/list', 'tools/list']);
    expect(seen[3]?.[1]).toBe('{"jsonrpc":"2.0","id":"L","result":{"tools":[]}}');
    expect(h.lines[0]).toMatchObject({ method: 'notifications/progress' });
  });

  it('a dropped response still gets its request an answer; a dropped notification is gone', async () => {
    const ends: RequestEnd[] = [];
    const h = harness(
      [{ name: 'dropper', onServerMessage: () => ({ drop: 'not for you' }), onEnd: (_r, e) => ends.push(e) }],
      async (info, relay) => {
        await relay.deliver(remote({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } }));
        await relay.deliver(remote({ jsonrpc: '2.0', id: info.id, result: { secret: 1 } }));
      },
    );
    h.send({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'x://y' } });
    const answer = await h.waitFor((m) => m.id === 2);
    expect(answer.error.message).toMatch(/^mcp-signing-proxy: the proxy did not relay the server's answer to resources\/read: not for you/);
    await settle();
    expect(h.lines).toHaveLength(1);
    expect(ends.map((e) => e.outcome)).toEqual(['error']);
  });

  it('a hook that throws on a response fails closed: the original is never written', async () => {
    const h = harness([{ name: 'broken', onServerMessage: () => { throw new SyntaxError('bad'); } }]);
    h.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    const answer = await h.waitFor((m) => m.id === 3);
    expect(answer.error.message).toMatch(/broken failed/);
    expect(answer.result).toBeUndefined();
  });

  it('a response whose request was cancelled while an async hook ran is not written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = harness([{ name: 'slow', onServerMessage: async () => { await gate; return undefined; } }]);
    h.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'a' } });
    await settle();
    h.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
    release();
    await settle();
    expect(h.lines).toEqual([]);
  });
});

describe('relay hooks: the end of each request', () => {
  it('reports response, error, cancelled and shutdown, once each, with the request', async () => {
    const ends: Array<[string, string]> = [];
    let hang!: () => void;
    const h = harness([{ name: 'audit', onEnd: (req, end) => ends.push([`${req.method}#${req.id}`, end.outcome]) }], async (info, relay) => {
      if (info.name === 'ok') return relay.deliver(remote({ jsonrpc: '2.0', id: info.id, result: {} }));
      if (info.name === 'fail') throw new ProxyError('ESP_TEST', 'upstream broke');
      await new Promise<void>((r) => (hang = r));
    });
    h.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ok' } });
    h.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fail' } });
    h.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'hang' } });
    h.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'hang' } });
    await h.waitFor((m) => m.id === 2);
    h.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } });
    await h.relay.shutdown('test');
    hang();
    expect(ends).toEqual([
      ['tools/call#1', 'response'],
      ['tools/call#2', 'error'],
      ['tools/call#3', 'cancelled'],
      ['tools/call#4', 'shutdown'],
    ]);
    expect((await h.waitFor((m) => m.id === 4)).error.data.code).toBe('ESP_SHUTDOWN');
  });
});

describe('locally made errors share the mapper', () => {
  it('an oversized line gets -32600 with a code and the fix', async () => {
    const h = harness([]);
    h.relay.handleOversized(5000, 1024);
    const answer = await h.waitFor((m) => m.id === null);
    expect(answer.error).toEqual({
      code: -32600,
      message: 'mcp-signing-proxy: invalid request: the line is 5000 bytes, over the 1024-byte limit (fix: raise --max-line-bytes / MCP_MAX_LINE_BYTES)',
      data: { code: 'ESP_LINE_TOO_LONG', hint: 'raise --max-line-bytes / MCP_MAX_LINE_BYTES' },
    });
  });

  it('without hooks the server bytes are written as they came', async () => {
    const bytes = Buffer.from('{"jsonrpc":"2.0","id":9,"result":{"a":1.0}}');
    const h = harness([], (_info, relay) => relay.deliver({ bytes, info: describeMessage(JSON.parse(bytes.toString())) }));
    h.send({ jsonrpc: '2.0', id: 9, method: 'x' });
    await h.waitFor((m) => m.id === 9);
    expect(h.raw()).toBe(`${bytes.toString()}\n`);
  });
});
