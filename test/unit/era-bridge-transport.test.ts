/**
 * The era bridge's transport over a scripted inner transport (a 2026-07-28 server's
 * answers): rounds of client input, the host profile of a second initialize, URL-mode
 * elicitation and the capabilities it needs.
 */
import { describe, expect, it } from 'vitest';
import { describeMessage, type ClientMessageInfo } from '../../src/jsonrpc.js';
import { createLogger } from '../../src/logging/logger.js';
import { EraBridgeTransport } from '../../src/transport/era-bridge/transport.js';
import { MAX_INPUT_REQUESTS } from '../../src/transport/era-bridge/input-rounds.js';
import { parseRemote, type Deliver, type RemoteTransport } from '../../src/transport/remote-transport.js';

type Json = Record<string, any>;
const DISCOVER = { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '1' } } };

/** A 2026-07-28 server: `answer` gives the result of each request but server/discover. */
function server(answer: (req: Json) => Json) {
  const got: Json[] = [];
  let toBridge: Deliver = async () => undefined;
  const inner: RemoteTransport = {
    start: (d) => void (toBridge = d),
    async send(body) {
      const req = JSON.parse(Buffer.from(body).toString()) as Json;
      got.push(req);
      if (req.id === undefined) return;
      const result = req.method === 'server/discover' ? DISCOVER : answer(req);
      await toBridge(parseRemote(JSON.stringify({ jsonrpc: '2.0', id: req.id, result })));
    },
    terminate: async () => undefined,
    close: () => undefined,
  };
  return { inner, got };
}

/** The bridge with a host on the other side: what the host sent and got. */
async function bridged(answer: (req: Json) => Json, capabilities: Json = { elicitation: {} }, protocolVersion = '2025-11-25') {
  const { inner, got } = server(answer);
  const bridge = new EraBridgeTransport(inner, 'bridge', createLogger('silent'));
  const host: Json[] = [];
  bridge.start(async (m) => void host.push(JSON.parse(m.bytes.toString())));
  const send = (v: Json, signal?: AbortSignal) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...v }));
    return bridge.send(body, describeMessage(JSON.parse(body.toString())) as ClientMessageInfo, () => false, signal);
  };
  await send({ id: 0, method: 'initialize', params: { protocolVersion, capabilities, clientInfo: { name: 'h', version: '1' } } });
  return { bridge, send, host, got };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};
const inputRequired = (inputRequests: Json) => ({ resultType: 'input_required', inputRequests });
const form = (message: string) => ({ method: 'elicitation/create', params: { mode: 'form', message, requestedSchema: { type: 'object', properties: {} } } });

describe('a round of client input', () => {
  it('fails on the first input the host fails, and cancels on the host the ones still open', async () => {
    const { send, host, got } = await bridged(() => inputRequired({ a: form('first'), b: form('second'), c: form('third') }));
    const call = send({ id: 1, method: 'tools/call', params: { name: 't', arguments: {} } });
    const outcome = call.then(() => 'resolved', (err: Error) => err);
    await until(() => host.filter((m) => m.method === 'elicitation/create').length === 3);
    const asked = host.filter((m) => m.method === 'elicitation/create');
    await send({ id: asked[0]!.id, result: { action: 'accept', content: {} } });
    await send({ id: asked[1]!.id, error: { code: -32603, message: 'dialog crashed' } });
    expect(await outcome).toMatchObject({ code: 'ESP_CLIENT_INPUT_FAILED', message: expect.stringContaining('dialog crashed') });
    const cancelled = host.filter((m) => m.method === 'notifications/cancelled');
    expect(cancelled).toEqual([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: asked[2]!.id, reason: 'another input the server needs for tools/call failed' } }]);
    // No retry went to the server.
    expect(got.filter((r) => r.method === 'tools/call')).toHaveLength(1);
  });

  it(`is refused past ${MAX_INPUT_REQUESTS} inputs, with nothing sent to the host`, async () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, form(`q${i}`)]));
    const { send, host } = await bridged(() => inputRequired(many));
    await expect(send({ id: 1, method: 'tools/call', params: { name: 't', arguments: {} } })).rejects.toMatchObject({
      code: 'ESP_INPUT_REQUESTS',
      message: `the server asked for 5000 client inputs at once to finish tools/call; the proxy asks a client for at most ${MAX_INPUT_REQUESTS} per round`,
    });
    expect(host.filter((m) => m.method !== undefined)).toEqual([]);
  });

  it('asks up to the cap', async () => {
    const some = Object.fromEntries(Array.from({ length: MAX_INPUT_REQUESTS }, (_, i) => [`k${i}`, form(`q${i}`)]));
    const { send, host } = await bridged((req) => (req.params.inputResponses ? { content: [], resultType: 'complete' } : inputRequired(some)));
    const call = send({ id: 1, method: 'tools/call', params: { name: 't', arguments: {} } });
    await until(() => host.filter((m) => m.method === 'elicitation/create').length === MAX_INPUT_REQUESTS);
    for (const m of host.filter((x) => x.method === 'elicitation/create')) await send({ id: m.id, result: { action: 'decline' } });
    await call;
    expect(host.at(-1)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [] } });
  });
});

describe('URL-mode elicitation', () => {
  const url = { method: 'elicitation/create', params: { mode: 'url', message: 'sign in', url: 'https://example.com/login' } };
  const call = { id: 1, method: 'tools/call', params: { name: 't', arguments: {} } };

  for (const [who, version, capabilities] of [
    ['a 2025-11-25 host with the form-only elicitation: {}', '2025-11-25', { elicitation: {} }],
    ['a 2025-11-25 host with elicitation.form only', '2025-11-25', { elicitation: { form: {} } }],
    ['a 2025-06-18 host', '2025-06-18', { elicitation: {} }],
  ] as const) {
    it(`is answered with -32021 naming elicitation.url for ${who}, and not sent`, async () => {
      const { send, host } = await bridged(() => inputRequired({ login: url }), capabilities, version);
      await send(call);
      expect(host.filter((m) => m.method === 'elicitation/create')).toEqual([]);
      expect(host.at(-1)).toMatchObject({ id: 1, error: { code: -32021, message: expect.stringContaining('did not declare the elicitation.url capability'), data: { requiredCapabilities: { elicitation: { url: {} } } } } });
    });
  }

  it('is sent to a host that declares elicitation.url', async () => {
    const { send, host } = await bridged(() => inputRequired({ login: url }), { elicitation: { form: {}, url: {} } });
    void send(call).catch(() => undefined);
    await until(() => host.some((m) => m.method === 'elicitation/create'));
    expect(host.find((m) => m.method === 'elicitation/create')!.params).toMatchObject({ mode: 'url', url: 'https://example.com/login' });
  });
});

describe('a second initialize from the host', () => {
  it('replaces the host profile: version, capabilities and clientInfo', async () => {
    const { send, host, got } = await bridged(() => ({ content: [], resultType: 'complete' }));
    await send({ id: 5, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { roots: {} }, clientInfo: { name: 'h2', version: '2' } } });
    expect(host.at(-1)).toMatchObject({ id: 5, result: { protocolVersion: '2025-06-18' } });
    await send({ id: 6, method: 'tools/call', params: { name: 't', arguments: {} } });
    expect(got.at(-1)!.params._meta).toMatchObject({ 'io.modelcontextprotocol/clientInfo': { name: 'h2', version: '2' }, 'io.modelcontextprotocol/clientCapabilities': { roots: {} } });
  });
});
