import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { retryRules } from '../../src/transport/retry-rules.js';
import { Agent } from '../../src/transport/undici.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const IDEMPOTENT = ['initialize', 'ping', 'tools/list', 'resources/list', 'resources/templates/list', 'resources/read', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel'];

describe('the retry table', () => {
  it.each(IDEMPOTENT)('%s gets every rule, the transient one included', (method) => {
    expect([...retryRules(method)].sort()).toEqual(['auth-refresh', 'connect', 'retry-after', 'session-expired', 'transient']);
  });

  it.each(['tools/call', 'sampling/createMessage', 'resources/subscribe', 'notifications/cancelled', 'x/unknown', undefined])('%s is never retried after it may have reached the server', (method) => {
    expect(retryRules(method).has('transient')).toBe(false);
    expect([...retryRules(method)].sort()).toEqual(['auth-refresh', 'connect', 'retry-after', 'session-expired']);
  });
});

function client(): HttpClient {
  return new HttpClient({ dispatcher: new Agent(), signers: [], logger: createLogger('silent') });
}
const post = (url: string) => ({ method: 'POST' as const, url: new URL(url), headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });

/** Fails the first request with `fail`, answers 200 "ok" after. */
async function failOnce(fail: 'reset' | number, headers: Record<string, string> = {}): Promise<ScriptedServer> {
  let n = 0;
  const s = await startScriptedServer((req, res) => {
    if (n++ > 0) return void res.writeHead(200).end('ok');
    if (fail === 'reset') req.socket.destroy();
    else res.writeHead(fail, headers).end();
  });
  servers.push(s);
  return s;
}

describe('HttpClient: transient failures', () => {
  it.each([502, 503, 504])('retries %i without Retry-After once for tools/list', async (status) => {
    const s = await failOnce(status);
    const res = await client().send(post(s.url), undefined, 'call', retryRules('tools/list'));
    expect(res.status).toBe(200);
    res.discard();
    expect(s.hits).toHaveLength(2);
  });

  it('retries a connection reset before the response headers once for resources/read', async () => {
    const s = await failOnce('reset');
    const res = await client().send(post(s.url), undefined, 'call', retryRules('resources/read'));
    expect(res.status).toBe(200);
    res.discard();
    expect(s.hits).toHaveLength(2);
  });

  it.each([502, 503, 504])('does not retry %i for tools/call', async (status) => {
    const s = await failOnce(status);
    const res = await client().send(post(s.url), undefined, 'call', retryRules('tools/call'));
    expect(res.status).toBe(status);
    res.discard();
    expect(s.hits).toHaveLength(1);
  });

  it('does not retry a connection reset for tools/call', async () => {
    const s = await failOnce('reset');
    await expect(client().send(post(s.url), undefined, 'call', retryRules('tools/call'))).rejects.toThrow(/closed the connection|reset/);
    expect(s.hits).toHaveLength(1);
  });

  it('takes a long Retry-After on a 503 as the answer, even for tools/list', async () => {
    const s = await failOnce(503, { 'retry-after': '3600' });
    const res = await client().send(post(s.url), undefined, 'call', retryRules('tools/list'));
    expect(res.status).toBe(503);
    res.discard();
    expect(s.hits).toHaveLength(1);
  });

  it('retries only once', async () => {
    const s = await startScriptedServer((_req, res) => res.writeHead(502).end());
    servers.push(s);
    const res = await client().send(post(s.url), undefined, 'call', retryRules('ping'));
    expect(res.status).toBe(502);
    res.discard();
    expect(s.hits).toHaveLength(2);
  });
});
