import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { INIT, initializedProxy, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';
import { closedPort, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { startMcpServer } from '../helpers/mcp-server.js';

const TOKEN = 'CANARY-TOKEN-faults-91b2';
const cleanups = useCleanups();

const proxyEnv = (env: Record<string, string>) => ({ MCP_BEARER_TOKEN: TOKEN, MCP_LOG_LEVEL: 'debug', ...env });

function proxy(env: Record<string, string>): RawProxy {
  const p = spawnRaw(proxyEnv(env));
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

/** A bearer-protected SDK server and a spawned proxy that has answered initialize. */
async function initialized(): Promise<{ s: Awaited<ReturnType<typeof startMcpServer>>; p: RawProxy }> {
  const s = await startMcpServer({ bearerToken: TOKEN });
  cleanups.push(() => s.close());
  const p = await initializedProxy(proxyEnv({ MCP_ENDPOINT: s.url }), cleanups, { notified: false });
  return { s, p };
}

function server(handle: Parameters<typeof startScriptedServer>[0]): Promise<ScriptedServer> {
  return startScriptedServer(handle).then((s) => (cleanups.push(() => s.close()), s));
}

/** Sends initialize + two requests and returns the errors, one per request id. */
async function threeErrors(p: RawProxy): Promise<any[]> {
  p.send(INIT);
  p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', arguments: {} } });
  const out = await Promise.all([0, 1, 2].map((id) => p.waitFor((m) => m.id === id)));
  await new Promise((r) => setTimeout(r, 100));
  for (const id of [0, 1, 2]) expect(p.lines.filter((l) => JSON.parse(l).id === id)).toHaveLength(1);
  for (const m of out) {
    expect(m.error.code).toBe(-32603);
    expect(m.error.message).toMatch(/^mcp-signing-proxy: /);
    expect(JSON.stringify(m)).not.toContain(TOKEN);
  }
  expect(p.stderr()).not.toContain(TOKEN);
  return out;
}

describe('upstream faults: one clear JSON-RPC error per request', () => {
  it('connection refused', async () => {
    const p = proxy({ MCP_ENDPOINT: `http://127.0.0.1:${await closedPort()}/mcp` });
    const [e] = await threeErrors(p);
    expect(e.error.message).toContain('connection refused');
    expect(e.error.data.code).toBe('ECONNREFUSED');
  });

  it('remote down mid-session: requests after it died get errors', async () => {
    const s = await startMcpServer({ bearerToken: TOKEN });
    const p = await initializedProxy(proxyEnv({ MCP_ENDPOINT: s.url }), cleanups, { notified: false });
    await s.close();
    p.send({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    const e = await p.waitFor((m) => m.id === 5);
    expect(e.error.message).toMatch(/connection refused|closed the connection|reset/);
  });

  it('HTTP 500', async () => {
    const s = await server((_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<html>secret stack trace</html>'));
    const [e] = await threeErrors(proxy({ MCP_ENDPOINT: s.url }));
    expect(e.error.data.httpStatus).toBe(500);
    expect(e.error.message).not.toContain('stack trace');
  });

  it('HTTP 401 names the bearer token', async () => {
    const s = await server((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}'));
    const [e] = await threeErrors(proxy({ MCP_ENDPOINT: s.url }));
    expect(e.error.data.httpStatus).toBe(401);
    expect(e.error.message).toContain('MCP_BEARER_TOKEN');
  });

  it('a redirect to another origin is refused and the target receives nothing', async () => {
    const target = await server((_req, res) => res.writeHead(200).end('{}'));
    for (const status of [301, 302, 307, 308]) {
      const s = await server((_req, res) => res.writeHead(status, { location: target.url }).end());
      const [e] = await threeErrors(proxy({ MCP_ENDPOINT: s.url }));
      expect(e.error.data.httpStatus).toBe(status);
      expect(e.error.message).toContain('another origin');
    }
    expect(target.hits).toHaveLength(0);
  });
});

describe('session expiry (HTTP 404)', () => {
  it('re-initializes transparently once and retries the request', async () => {
    const { s, p } = await initialized();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'one' } } });
    await p.waitFor((m) => m.id === 1);
    const firstSession = s.requests.find((r) => r.headers['mcp-session-id'])!.headers['mcp-session-id'];
    await s.expireSessions();
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'two' } } });
    const r = await p.waitFor((m) => m.id === 2);
    expect(r.result.content[0].text).toBe('two');
    const inits = s.requests.filter((q) => q.body.includes('"initialize"'));
    expect(inits).toHaveLength(2);
    expect(JSON.parse(inits[1]!.body).id).toMatch(/^mcp-signing-proxy-reinit-/);
    const last = s.requests.at(-1)!;
    expect(last.headers['mcp-session-id']).not.toBe(firstSession);
    // The proxy's own initialize response never reaches the client.
    expect(p.lines.filter((l) => l.includes('mcp-signing-proxy-reinit'))).toHaveLength(0);
  });
});

describe('lifecycle', () => {
  it('SIGTERM with requests in flight: each gets an answer, one DELETE, exit 0 within 2 s', async () => {
    const { s, p } = await initialized();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (const id of [1, 2, 3]) p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 10_000 } } });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    for (const id of [1, 2, 3]) {
      const answers = p.lines.map((l) => JSON.parse(l)).filter((m) => m.id === id);
      expect(answers).toHaveLength(1);
      expect(answers[0].error.message).toContain('shutting down');
    }
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('a cancelled request is released: never answered, its stream closed, no shutdown wait for it', async () => {
    const { s, p } = await initialized();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: { ms: 10_000 } } });
    await new Promise((r) => setTimeout(r, 200));
    p.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9, reason: 'user pressed Esc' } });
    p.send({ jsonrpc: '2.0', id: 10, method: 'ping' });
    await p.waitFor((m) => m.id === 10);
    await new Promise((r) => setTimeout(r, 200));
    p.child.stdin.end();
    await p.exited;
    // Nothing left in flight at shutdown: no grace spent waiting for the cancelled call.
    expect(p.stderr()).toMatch(/"inFlight":0,"msg":"shutting down"/);
    expect(p.lines.map((l) => JSON.parse(l)).filter((m) => m.id === 9)).toHaveLength(0);
    expect(s.requests.some((r) => r.body.includes('notifications/cancelled'))).toBe(true);
  });

  it('a second initialize from the client closes the old session instead of orphaning it', async () => {
    const { s, p } = await initialized();
    p.send({ ...INIT, id: 'again' });
    await p.waitFor((m) => m.id === 'again' && m.result);
    p.send({ jsonrpc: '2.0', id: 11, method: 'ping' });
    await p.waitFor((m) => m.id === 11);
    const deletes = s.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    const ping = s.requests.find((r) => r.body.includes('"id":11'))!;
    expect(ping.headers['mcp-session-id']).toBeDefined();
    expect(ping.headers['mcp-session-id']).not.toBe(deletes[0]!.headers['mcp-session-id']);
  });

  it('stdin EOF: exit 0 within 2 s', async () => {
    const { s, p } = await initialized();
    const t0 = Date.now();
    p.child.stdin.end();
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('a broken stdout pipe is a quiet shutdown', async () => {
    const { s, p } = await initialized();
    p.child.stdout.destroy();
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(p.stderr()).not.toMatch(/Uncaught|at .*\.js:\d+/);
  });
});

describe('configuration errors stop start-up with the flag and the fix', () => {
  const cases: Array<[string, Record<string, string>, string[], RegExp]> = [
    ['no endpoint', {}, [], /MCP_ENDPOINT/],
    ['plain http to a remote host', { MCP_ENDPOINT: 'http://mcp.example.com/mcp' }, [], /--allow-http/],
    ['unknown flag', { MCP_ENDPOINT: 'https://mcp.example.com/mcp' }, ['--bogus'], /--bogus[\s\S]*--help/],
    ['token as a flag', {}, ['--bearer-token', 'x'], /MCP_BEARER_TOKEN/],
    ['unset header variable', { MCP_ENDPOINT: 'https://mcp.example.com/mcp' }, ['--header', 'X-Api-Key: ${NOPE_VAR}'], /NOPE_VAR/],
    ['custom domain without --service', { MCP_ENDPOINT: 'https://mcp.example.com/mcp', ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/r' }, [], /--service/],
  ];
  for (const [name, env, args, re] of cases) {
    it(name, async () => {
      const p = spawnRaw(env, args);
      const exit = await p.exited;
      expect(exit.code).toBe(2);
      expect(p.stderr()).toMatch(re);
      expect(p.stderr()).toContain('fix:');
      expect(p.lines).toHaveLength(0);
    });
  }
});
