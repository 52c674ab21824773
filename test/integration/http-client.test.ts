import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { HttpClient } from '../../src/transport/http-client.js';
import { Agent } from '../../src/transport/undici.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function client(): HttpClient {
  return new HttpClient({ dispatcher: new Agent(), signers: [], logger: createLogger('silent') });
}

const post = (url: string) => ({ method: 'POST' as const, url: new URL(url), headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });

describe('HttpClient retry on Retry-After', () => {
  it('retries a 429 with a short Retry-After once, then returns the answer', async () => {
    let n = 0;
    const s = await startScriptedServer((_req, res) => (n++ === 0 ? res.writeHead(429, { 'retry-after': '0' }).end() : res.writeHead(200).end('ok')));
    servers.push(s);
    const res = await client().send(post(s.url));
    expect(res.status).toBe(200);
    expect((await res.bytes()).toString('utf8')).toBe('ok');
    expect(s.hits).toHaveLength(2);
  });

  it.each([['3600'], ['soon'], [undefined]])('does not retry with Retry-After %s', async (after) => {
    const s = await startScriptedServer((_req, res) => res.writeHead(429, after === undefined ? {} : { 'retry-after': after }).end());
    servers.push(s);
    const res = await client().send(post(s.url));
    expect(res.status).toBe(429);
    res.discard();
    expect(s.hits).toHaveLength(1);
  });

  it('retries only once', async () => {
    const s = await startScriptedServer((_req, res) => res.writeHead(503, { 'retry-after': '0' }).end());
    servers.push(s);
    const res = await client().send(post(s.url));
    expect(res.status).toBe(503);
    res.discard();
    expect(s.hits).toHaveLength(2);
  });
});

describe('HttpClient 401/403 messages say what was sent', () => {
  it.each([
    [{ clientCertificate: false }, 'no credentials are configured'],
    [{ clientCertificate: true }, 'the proxy presented the client certificate and sent no other credential'],
  ])('%o', async (opts, text) => {
    const s = await startScriptedServer((_req, res) => res.writeHead(403).end());
    servers.push(s);
    const http = new HttpClient({ dispatcher: new Agent(), signers: [], logger: createLogger('silent'), ...opts });
    await expect(http.send(post(s.url))).rejects.toThrow(text);
  });
});
