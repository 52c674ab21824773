/**
 * Legacy HTTP+SSE (2024-11-05) servers through the built CLI, as a host runs it: found by
 * auto-detection or chosen with --transport / MCP_TRANSPORT, with every signer (bearer,
 * SigV4 with the ?sessionId= query signed, mTLS), and a hostile `endpoint` event.
 */
import plain from 'node:http';
import type { ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startLegacySseServer, type LegacySseServerOptions, type LegacySseTestServer } from '../helpers/legacy-sse-server.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import { connectClient, INIT, spawnRaw, type ConnectedClient } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const TOKEN = 'CANARYLEGACYTOKEN42';

async function legacy(opts: LegacySseServerOptions = {}): Promise<LegacySseTestServer> {
  const s = await startLegacySseServer(opts);
  cleanups.push(() => s.close());
  return s;
}

async function client(env: Record<string, string>, args: string[] = []): Promise<ConnectedClient> {
  const c = await connectClient({ MCP_LOG_LEVEL: 'debug', ...env }, args);
  cleanups.push(() => c.close());
  return c;
}

/** tools/list, a call, a call with progress and a server→client request (elicitation). */
async function workload(c: ConnectedClient): Promise<void> {
  const tools = await c.client.listTools();
  expect(tools.tools.map((t) => t.name)).toEqual(['echo', 'progress', 'ask', 'slow']);
  const r = await c.client.callTool({ name: 'echo', arguments: { text: 'ünïcödé 🚀 legacy' } });
  expect(r.content).toEqual([{ type: 'text', text: 'ünïcödé 🚀 legacy' }]);
  const steps: number[] = [];
  const p = await c.client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, { onprogress: (n) => void steps.push(n.progress) });
  expect(p.content).toEqual([{ type: 'text', text: 'done 3' }]);
  expect(steps).toEqual([1, 2, 3]);
  const a = await c.client.callTool({ name: 'ask', arguments: {} });
  expect(JSON.parse((a.content as Array<{ text: string }>)[0]!.text)).toEqual({ action: 'accept', content: { name: 'Ada' } });
}

describe('legacy HTTP+SSE servers through the proxy', () => {
  it('auto-detects a legacy server with a bearer token: every GET and POST carries it; it is never logged', async () => {
    const s = await legacy({ bearerToken: TOKEN });
    const c = await client({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN });
    await workload(c);
    // The probe: one Streamable POST of initialize to /sse (404), then the legacy session.
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/sse' });
    expect(s.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(s.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(c.stderr()).toContain('"transport":"sse"');
    expect(c.stderr()).not.toContain(TOKEN);
  });

  it('--transport sse with SigV4: every GET and POST verified independently, the ?sessionId= query signed as a query', async () => {
    let records: VerificationRecord[] = [];
    const s = await legacy({
      wrap: (inner) => {
        const v = createSigV4VerifyingHandler({ service: 'execute-api', region: 'eu-west-1', credentials: (akid) => (akid === 'AKIDLEGACY0000000001' ? { secretAccessKey: 'CANARYLEGACYSECRET' } : undefined) }, inner);
        records = v.records;
        return v.handler as never;
      },
    });
    const c = await client(
      { MCP_ENDPOINT: s.url, MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDLEGACY0000000001', AWS_SECRET_ACCESS_KEY: 'CANARYLEGACYSECRET' },
      ['--transport', 'sse'],
    );
    await workload(c);
    expect(s.requests[0]).toMatchObject({ method: 'GET', url: '/sse' });
    const posts = records.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(4);
    expect(posts.every((r) => r.rawPath.startsWith('/messages?sessionId='))).toBe(true);
    for (const r of records) expect(r.result).toMatchObject({ ok: true });
    expect(c.stderr()).not.toContain('CANARYLEGACYSECRET');
  });

  describe('mTLS', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await createTestPki();
    });
    afterAll(() => pki.cleanup());

    it('MCP_TRANSPORT=sse-only over mutual TLS: every request presents the client certificate', async () => {
      const tls: ServerOptions = { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true };
      const s = await legacy({ tls });
      const c = await client({ MCP_ENDPOINT: s.url, MCP_TRANSPORT: 'sse-only', MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.clientOne.keyPath, MCP_CA_CERT: pki.ca.certPath });
      await workload(c);
      expect(s.requests.length).toBeGreaterThan(5);
      expect(s.requests.every((r) => r.peerCn === 'client-one')).toBe(true);
    });
  });

  it('refuses an endpoint event that names another origin: the bearer token never goes there', async () => {
    const elsewhere: string[] = [];
    const other = plain.createServer((req, res) => {
      elsewhere.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(202).end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (other.closeAllConnections(), other.close(() => resolve()))));
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const hostile = plain.createServer((req, res) => {
      if (req.method !== 'GET') return void res.writeHead(405).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: endpoint\ndata: ${otherOrigin}/messages?sessionId=stolen\n\n`);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (hostile.closeAllConnections(), hostile.close(() => resolve()))));
    const p = spawnRaw({ MCP_ENDPOINT: `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/sse`, MCP_BEARER_TOKEN: TOKEN });
    cleanups.push(() => p.child.kill());
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0);
    expect(answer.error.data.code).toBe('ESP_ENDPOINT_ORIGIN');
    expect(answer.error.message).toContain(`another origin (${otherOrigin}) than MCP_ENDPOINT`);
    expect(answer.error.message).toContain('credentials never leave the configured origin');
    expect(elsewhere).toEqual([]);
    expect(p.lines.join('\n') + p.stderr()).not.toContain(TOKEN);
  });
});

describe('--check names the transport it used', () => {
  it('legacy server: auto falls back and says so', async () => {
    const s = await legacy();
    const p = spawnRaw({ MCP_ENDPOINT: s.url }, ['--check']);
    expect((await p.exited).code).toBe(0);
    expect(p.lines.join('\n')).toContain('✓ mcp: legacy-remote 1.0.0, protocol 2025-11-25 (initialize), transport sse;');
  });

  it('Streamable server: no fallback, no legacy GET', async () => {
    const s = await startMcpServer();
    cleanups.push(() => s.close());
    const p = spawnRaw({ MCP_ENDPOINT: s.url }, ['--check']);
    expect((await p.exited).code).toBe(0);
    expect(p.lines.join('\n')).toContain(', transport streamable-http;');
    expect(s.requests.filter((r) => r.method === 'GET' && r.headers['mcp-session-id'] === undefined)).toEqual([]);
  });

  it('401: no fallback, the real error', async () => {
    const s = await legacy({ bearerToken: TOKEN });
    const p = spawnRaw({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: 'CANARYWRONGLEGACY' }, ['--check']);
    expect((await p.exited).code).toBe(1);
    // The 401 to server/discover says nothing about the era: no initialize, no SSE fallback.
    expect(p.lines.join('\n')).toMatch(/✗ mcp: server\/discover: mcp-signing-proxy: the server rejected the bearer token \(HTTP 401\)/);
    expect(s.requests.map((r) => r.method)).toEqual(['POST']);
  });
});
