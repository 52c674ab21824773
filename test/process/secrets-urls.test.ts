/**
 * Every URL and host the proxy prints — the start-up log, redirect and HTTP errors, TLS and
 * network errors — with marker secrets in the endpoint's path and query, in the bearer
 * token, in header values, in the proxy password and in the Location header: none of them
 * may reach stdout, stderr or the log file, at trace level.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, startScriptedServer } from '../helpers/scripted-server.js';
import { INIT, spawnRaw } from '../helpers/spawn-proxy.js';

// Key-like markers (the path heuristic catches these) and letter-only ones that no heuristic
// can tell from a path word: only the proxy's knowledge of its own secrets masks them.
const PATH_KEY = 'MARKER-SECRET-PATHKEY-7q3';
const QUERY_KEY = 'MARKER-SECRET-QUERY-9z1';
const BEARER = 'hunterbearer';
const HEADER_KEY = 'MARKER-SECRET-HEADER-4k8';
const HEADER_WORD = 'hunterheader';
const PROXY_PASSWORD = 'hunterproxypass';
const HELPER_VALUE = 'hunterhelper';
const LOCATION_KEY = 'MARKER-SECRET-LOCATION-5m2';
const LOCATION_QUERY = 'hunterlocquery';
const MARKERS = ['MARKER-SECRET', 'hunter'];

/** Endpoint path and query: a key segment, the bearer token as a segment, secrets in the query. */
const SECRET_PATH = `/v1/${PATH_KEY}/${BEARER}/mcp?key=${QUERY_KEY}&x=hunterquery`;
const MASKED_PATH = '/v1/…/…/mcp?…';

const SECRET_ENV = {
  MCP_LOG_LEVEL: 'trace',
  MCP_BEARER_TOKEN: BEARER,
  MCP_HEADERS_HELPER: `echo '{"X-Helper-Key": "${HELPER_VALUE}"}'`,
  // Read (and its password learned) but unused: the spawn helper exempts 127.0.0.1.
  HTTP_PROXY: `http://user:${PROXY_PASSWORD}@127.0.0.1:9`,
};
const SECRET_ARGS = ['--header', `X-Api-Key: ${HEADER_KEY}`, '--header', `X-Tenant: ${HEADER_WORD}`];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scripted(status: number, headers: Record<string, string> = {}): Promise<string> {
  const s = await startScriptedServer((_req, res) => res.writeHead(status, headers).end());
  cleanups.push(() => s.close());
  return new URL(s.url).origin;
}

/**
 * Runs one initialize at trace level, once logging to a file and once to stderr, and checks
 * no marker appears anywhere. Returns the error message the client saw.
 */
async function errorSeen(origin: string, env: Record<string, string> = {}): Promise<{ message: string; logs: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'msp-url-markers-'));
  let seen: { message: string; logs: string } | undefined;
  for (const logFile of [join(dir, 'proxy.log'), undefined]) {
    const p = spawnRaw({ ...SECRET_ENV, MCP_ENDPOINT: `${origin}${SECRET_PATH}`, ...env }, [...SECRET_ARGS, ...(logFile ? ['--log-file', logFile] : [])]);
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0, 15_000);
    p.child.stdin.end();
    await p.exited;
    const logs = logFile === undefined ? p.stderr() : readFileSync(logFile, 'utf8');
    expect(logs).toContain('mcp-signing-proxy starting');
    expect(logs).toContain(`${origin}${MASKED_PATH}`); // the start-up line names the endpoint, masked
    const everything = `${p.lines.join('\n')}\n${p.stderr()}\n${logs}`;
    for (const m of MARKERS) expect(everything.toLowerCase(), `${m} printed`).not.toContain(m.toLowerCase());
    expect(answer.error, JSON.stringify(answer)).toBeDefined();
    seen = { message: answer.error.message as string, logs };
  }
  return seen!;
}

describe('marker secrets appear in no printed URL (stdout, stderr, log file; trace level)', () => {
  it('a same-origin redirect with secrets in the Location path and query: the target is printed masked', async () => {
    // The Location quotes a key-like value, the bearer token, a header value and the helper's output.
    const origin = await scripted(307, { location: `/v1/${PATH_KEY}/${BEARER}/mcp/${LOCATION_KEY}/${HEADER_WORD}/${HELPER_VALUE}/login?token=${LOCATION_QUERY}` });
    const { message, logs } = await errorSeen(origin);
    expect(message).toContain(`HTTP 307 redirecting to ${origin}/v1/…/…/mcp/…/…/…/login?…;`);
    expect(logs).toContain('redirecting to'); // the log carries the same (masked) message
  });

  it('a redirect to another origin, with secrets in its host, path and query: the origin alone, masked', async () => {
    const origin = await scripted(302, { location: `http://${BEARER}.${PROXY_PASSWORD}.example:8080/${LOCATION_KEY}/x?t=${LOCATION_QUERY}` });
    const { message } = await errorSeen(origin);
    expect(message).toContain('redirecting to another origin (http://….….example:8080)');
  });

  it('a 404 names the path it tried, masked, and keeps the hint', async () => {
    const origin = await scripted(404);
    const { message } = await errorSeen(origin);
    expect(message).toContain(`the server answered HTTP 404 Not Found to initialize at ${origin}${MASKED_PATH}`);
    expect(message).toContain('check the path in MCP_ENDPOINT');
  });

  it('https to a plain HTTP port (TLS handshake failure)', async () => {
    const origin = (await scripted(200)).replace('http:', 'https:');
    const { message } = await errorSeen(origin);
    expect(message).toContain(new URL(origin).host);
  });

  it('https with an untrusted certificate', async () => {
    const pem = await generate([{ name: 'commonName', value: '127.0.0.1' }], { algorithm: 'sha256', keyType: 'ec' });
    const server = createHttpsServer({ key: pem.private, cert: pem.cert }, (_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
    const { message } = await errorSeen(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(message).toContain('is not trusted');
  });

  it('connection refused', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const { message } = await errorSeen(origin);
    expect(message).toContain(`connection refused by ${new URL(origin).host}`);
  });

  it('connection refused by an HTTP proxy whose URL holds a password', async () => {
    const proxy = `127.0.0.1:${await closedPort()}`;
    const origin = await scripted(200);
    const { message } = await errorSeen(origin, { HTTP_PROXY: `http://user:${PROXY_PASSWORD}@${proxy}`, NO_PROXY: '' });
    expect(message).toContain(`connection refused by the HTTP proxy http://${proxy}`);
  });
});
