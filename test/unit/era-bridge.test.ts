/**
 * The era bridge's pieces (src/transport/era-bridge/): the initialize answer from
 * server/discover, the per-request _meta, the listen stream's notifications for a 2025 host,
 * and --protocol / MCP_PROTOCOL.
 */
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { parseRemote } from '../../src/transport/remote-transport.js';
import { HostProfile } from '../../src/transport/era-bridge/host-profile.js';
import { initializeAnswer, modernDiscoverResult } from '../../src/transport/era-bridge/initialize-answer.js';
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
    expect(listen.relayable(n({ method: 'notifications/cancelled', params: { requestId: 'mcp-signing-proxy-listen-1' } }))).toBeUndefined();
    const changed = listen.relayable(n({ method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'mcp-signing-proxy-listen-1' } } }))!;
    expect(JSON.parse(changed.bytes.toString())).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: {} });
    const updated = listen.relayable(n({ method: 'notifications/resources/updated', params: { uri: 'file:///a', _meta: { 'io.modelcontextprotocol/subscriptionId': 'x', other: 1 } } }))!;
    expect(JSON.parse(updated.bytes.toString()).params).toEqual({ uri: 'file:///a', _meta: { other: 1 } });
    const progress = n({ method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    expect(listen.relayable(progress)).toBe(progress);
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
