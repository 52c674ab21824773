import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INIT, spawnRaw } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

// Marker credentials: if any of these shows up anywhere, a secret leaked (logs, errors, debug output).
const TOKEN = 'CANARYTOKEN0a1b2c3d';
const HEADER_SECRET = 'CANARYHEADER9z8y7x';
const PROXY_PASSWORD = 'CANARYPROXYPW5566';
const FILE_TOKEN = 'CANARYFILETOKEN4455';
const MARKERS = [TOKEN, HEADER_SECRET, PROXY_PASSWORD, FILE_TOKEN];

function expectClean(text: string, where: string) {
  for (const m of MARKERS) expect(text.includes(m), `${m} found in ${where}`).toBe(false);
}

describe('secrets never appear in stdout, stderr or the log file (trace level)', () => {
  let server: McpTestServer;
  const dir = mkdtempSync(join(tmpdir(), 'msp-canary-'));
  beforeAll(async () => {
    server = await startMcpServer({ bearerToken: TOKEN });
  });
  afterAll(async () => server.close());

  async function run(env: Record<string, string>, args: string[] = []) {
    const logFile = join(dir, `log-${Math.random().toString(16).slice(2)}.jsonl`);
    const p = spawnRaw({ MCP_LOG_LEVEL: 'trace', ...env }, [...args, '--log-file', logFile]);
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    const r = await p.waitFor((m) => m.id === 1);
    p.child.stdin.end();
    await p.exited;
    const log = readFileSync(logFile, 'utf8');
    return { r, p, log, logFile };
  }

  it('working bearer session with a secret static header and proxy credentials in the environment', async () => {
    const { r, p, log, logFile } = await run(
      { MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN: TOKEN, HTTPS_PROXY: `http://user:${PROXY_PASSWORD}@127.0.0.1:9`, NO_PROXY: '127.0.0.1' },
      ['--header', `X-Api-Key: ${HEADER_SECRET}`],
    );
    expect(r.result).toBeDefined();
    expect(log).toContain('mcp-signing-proxy starting');
    expect(log).toContain('x-api-key'); // header names are logged …
    expect(log).toContain('connecting directly to the MCP server (NO_PROXY)'); // the route, never the proxy's userinfo
    expectClean(p.lines.join('\n') + p.stderr() + log, 'a working session');
    const sid = server.requests.find((q) => q.headers['mcp-session-id'])?.headers['mcp-session-id'] as string;
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.includes(sid)).toBe(false); // session ids are bearer-like: hashed in logs
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
  });

  it('rejected token, from a file', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${FILE_TOKEN}\n`);
    const { r, p, log } = await run({ MCP_ENDPOINT: server.url, MCP_BEARER_TOKEN_FILE: tokenFile });
    expect(r.error.data.httpStatus).toBe(401);
    expectClean(p.lines.join('\n') + p.stderr() + log, 'a rejected session');
  });

  it('an upstream error body that echoes the credentials is summarised, not copied', async () => {
    const echo = await startScriptedServer((req, res) => {
      res.writeHead(req.method === 'POST' ? 500 : 405, { 'content-type': 'text/plain' }).end(`you sent ${req.headers.authorization} and ${req.headers['x-api-key']}`);
    });
    try {
      const { r, p, log } = await run({ MCP_ENDPOINT: echo.url, MCP_BEARER_TOKEN: TOKEN }, ['--header', `X-Api-Key: ${HEADER_SECRET}`]).catch(async () => {
        throw new Error('proxy did not answer');
      });
      expect(r.error).toBeDefined();
      expectClean(p.lines.join('\n') + p.stderr() + log, 'an echoing error body');
    } finally {
      await echo.close();
    }
  });
});
