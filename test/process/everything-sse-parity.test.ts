/**
 * Acceptance for legacy HTTP+SSE: the reference server `@modelcontextprotocol/server-everything`
 * in `sse` mode gives the same messages to the SDK's SSEClientTransport (direct) and to a
 * host through the spawned proxy (auto-detection), for one scripted session: tools,
 * resources, prompts, completion, logging, progress, and the server's sampling,
 * elicitation and roots requests. Messages are compared as JSON-RPC, raw (no SDK Client on
 * either side), so what is compared is what each transport delivers.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startEverythingSse, type EverythingServer } from '../helpers/everything-sse.js';
import { spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

interface Peer {
  received: any[];
  send(msg: object): void;
}

/** Answers every request the server sends, the same way on both sides. */
function answerServer(msg: any): object | undefined {
  if (msg.method === undefined || msg.id === undefined) return undefined;
  switch (msg.method) {
    case 'sampling/createMessage':
      return { role: 'assistant', content: { type: 'text', text: 'sampled text' }, model: 'test-model', stopReason: 'endTurn' };
    case 'elicitation/create':
      return { action: 'accept', content: { name: 'Ada' } };
    case 'roots/list':
      return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
    default:
      return {};
  }
}

async function waitFor(peer: Peer, pred: (m: any) => boolean, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = peer.received.find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(peer.received).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const SCRIPT: Array<{ id: number; method: string; params: object }> = [
  { id: 2, method: 'tools/list', params: {} },
  { id: 3, method: 'tools/call', params: { name: 'echo', arguments: { message: 'ünïcödé 🚀' } } },
  { id: 4, method: 'tools/call', params: { name: 'get-sum', arguments: { a: 2, b: 40 } } },
  { id: 5, method: 'resources/list', params: {} },
  { id: 6, method: 'resources/templates/list', params: {} },
  { id: 8, method: 'prompts/list', params: {} },
  { id: 9, method: 'prompts/get', params: { name: 'simple-prompt', arguments: {} } },
  { id: 10, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'E' } } },
  { id: 11, method: 'logging/setLevel', params: { level: 'debug' } },
  { id: 12, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 }, _meta: { progressToken: 'lro' } } },
  { id: 13, method: 'tools/call', params: { name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 20 } } },
  { id: 14, method: 'tools/call', params: { name: 'trigger-elicitation-request', arguments: {} } },
  { id: 15, method: 'tools/call', params: { name: 'get-roots-list', arguments: {} } },
];

/** Runs the script; returns the answers by id, progress values, and the methods of the server's requests. */
async function session(peer: Peer): Promise<{ answers: Record<number, unknown>; progress: number[]; serverRequests: string[] }> {
  peer.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'parity', version: '1' } } });
  const answers: Record<number, unknown> = { 1: (await waitFor(peer, (m) => m.id === 1 && m.method === undefined)).result };
  peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  // The server asks for roots 350 ms after initialized; let that settle first.
  await waitFor(peer, (m) => m.method === 'roots/list');
  for (const step of SCRIPT) {
    if (step.id === 7) continue;
    peer.send({ jsonrpc: '2.0', ...step });
    const answer = await waitFor(peer, (m) => m.id === step.id && m.method === undefined);
    answers[step.id] = answer.result ?? answer.error;
    if (step.id === 5) {
      const first = (answer.result.resources as Array<{ uri: string }>)[0]!.uri;
      peer.send({ jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: first } });
      answers[7] = (await waitFor(peer, (m) => m.id === 7 && m.method === undefined)).result;
    }
  }
  return {
    answers,
    progress: peer.received.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress),
    serverRequests: peer.received.filter((m) => m.method !== undefined && m.id !== undefined).map((m) => m.method),
  };
}

/** Values that differ between any two runs (timestamps, random ids), not between transports. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => (typeof v === 'string' && /^(timestamp|createdAt|lastUpdatedAt|requestId|sessionId)$/i.test(key) ? '<varies>' : v));
}

describe('server-everything in sse mode: direct and through the proxy', () => {
  let server: EverythingServer;
  beforeAll(async () => {
    server = await startEverythingSse();
  });
  afterAll(() => server.close());

  it('gives the same answers, progress and server requests', async () => {
    const transport = new SSEClientTransport(new URL(server.url));
    const direct: Peer = { received: [], send: (m) => void transport.send(m as never) };
    transport.onmessage = (m) => {
      direct.received.push(m);
      const answer = answerServer(m);
      if (answer !== undefined) void transport.send({ jsonrpc: '2.0', id: (m as { id: number }).id, result: answer } as never);
    };
    await transport.start();
    cleanups.push(() => transport.close());
    const viaDirect = await session(direct);

    const p = spawnRaw({ MCP_ENDPOINT: server.url });
    cleanups.push(() => p.child.kill());
    const proxied: Peer = { received: [], send: (m) => p.send(m) };
    let seen = 0;
    const pump = setInterval(() => {
      for (; seen < p.lines.length; seen++) {
        const m = JSON.parse(p.lines[seen]!);
        proxied.received.push(m);
        const answer = answerServer(m);
        if (answer !== undefined) p.send({ jsonrpc: '2.0', id: m.id, result: answer });
      }
    }, 5);
    cleanups.push(() => clearInterval(pump));
    const viaProxy = await session(proxied);

    expect(normalize(viaProxy.answers)).toEqual(normalize(viaDirect.answers));
    expect(viaProxy.progress).toEqual(viaDirect.progress);
    expect(viaDirect.progress).toEqual([1, 2, 3]);
    expect(viaProxy.serverRequests).toEqual(viaDirect.serverRequests);
    expect(new Set(viaDirect.serverRequests)).toEqual(new Set(['roots/list', 'sampling/createMessage', 'elicitation/create']));
    expect((viaDirect.answers[2] as { tools: unknown[] }).tools.length).toBeGreaterThan(10);
    // The server's requests were answered through the proxy and their answers used.
    const text = JSON.stringify(viaProxy.answers);
    for (const expected of ['ünïcödé 🚀', 'sampled text', 'Ada', 'file:///work/project', 'Engineering']) expect(text).toContain(expected);
    expect(p.stderr()).toContain('"transport":"sse"');
  });
});
