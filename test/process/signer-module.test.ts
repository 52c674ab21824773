/**
 * --signer-module through the built CLI: examples/hmac-signer.mjs against a loopback server
 * that verifies every signature, and the way a module's failures are reported.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer, type Handler, type McpTestServer } from '../helpers/mcp-server.js';
import { INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const EXAMPLE = join(import.meta.dirname, '../../examples/hmac-signer.mjs');
const SECRET = 'hmac-Secret-0123456789abcdef';

/** The verifying side of examples/hmac-signer.mjs; 401 for anything that does not verify. */
function verifyHmac(secret: string, outcomes: string[]): (inner: Handler) => Handler {
  return (inner) => async (req: http.IncomingMessage, res, body) => {
    const ts = req.headers['x-signature-timestamp'] as string | undefined;
    const digest = createHash('sha256').update(body).digest('hex');
    const sig = /(?:^|,)signature=([0-9a-f]{64})$/.exec((req.headers['x-signature'] as string | undefined) ?? '')?.[1];
    const expected = createHmac('sha256', secret).update([req.method, req.url, ts, digest].join('\n')).digest('hex');
    const fresh = ts !== undefined && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
    const ok = sig !== undefined && fresh && req.headers['x-content-sha256'] === digest && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
    outcomes.push(ok ? 'ok' : 'bad');
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      return;
    }
    await inner(req, res, body);
  };
}

async function server(secret: string, outcomes: string[]): Promise<McpTestServer> {
  const s = await startMcpServer({ wrap: verifyHmac(secret, outcomes) });
  cleanups.push(() => s.close());
  return s;
}

function proxy(env: Record<string, string>, args: string[]): RawProxy {
  const p = spawnRaw({ MCP_LOG_LEVEL: 'debug', ...env }, args);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

function moduleFile(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'msp-signer-')), 'signer.mjs');
  writeFileSync(file, source);
  return file;
}

describe('--signer-module', () => {
  it('examples/hmac-signer.mjs signs every request (body included) so that the server verifies it', async () => {
    const outcomes: string[] = [];
    const s = await server(SECRET, outcomes);
    const p = proxy({ MCP_ENDPOINT: s.url, HMAC_SIGNER_SECRET: SECRET, HMAC_SIGNER_KEY_ID: 'k1' }, ['--signer-module', EXAMPLE, '-H', 'X-Tenant: t1']);
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'grüße ✓' } } });
    expect((await p.waitFor((m) => m.id === 1)).result?.content?.[0]?.text).toBe('grüße ✓');
    expect(outcomes.length).toBeGreaterThanOrEqual(3);
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
    // Last in the chain: it sees the static header the chain added before it.
    expect(s.requests.every((r) => r.headers['x-tenant'] === 't1' && String(r.headers['x-signature']).startsWith('keyId=k1,'))).toBe(true);
    expect(p.stderr()).not.toContain(SECRET);
  });

  it('with the wrong secret the server refuses, and the answer is an error, not a hang', async () => {
    const outcomes: string[] = [];
    const s = await server(SECRET, outcomes);
    const p = proxy({ MCP_ENDPOINT: s.url, HMAC_SIGNER_SECRET: 'another-secret-value' }, ['--signer-module', EXAMPLE]);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).error?.message).toMatch(/401/);
    expect(outcomes).toEqual(['bad']);
  });

  it('a module error is reported by its class, not its message; one meant for users (code + hint) is shown', async () => {
    const s = await server(SECRET, []);
    const leaky = moduleFile(`export async function sign() { throw new TypeError('cannot sign with key SUPERSECRETKEY42'); }`);
    const p = proxy({ MCP_ENDPOINT: s.url }, ['--signer-module', leaky]);
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0);
    expect(answer.error?.message).toMatch(/signer module signer\.mjs failed in sign \(TypeError\)/);
    expect(p.lines.join('\n') + p.stderr()).not.toContain('SUPERSECRETKEY42');

    const p2 = proxy({ MCP_ENDPOINT: s.url }, ['--signer-module', EXAMPLE]);
    p2.send(INIT);
    const a2 = await p2.waitFor((m) => m.id === 0);
    expect(a2.error?.message).toMatch(/HMAC_SIGNER_SECRET is not set[\s\S]*set HMAC_SIGNER_SECRET/);
  });

  it('a module that cannot be loaded or exports no sign() stops the start-up, naming the flag', async () => {
    for (const [file, pattern] of [
      [moduleFile('export const nothing = 1;'), /exports no sign function/],
      [moduleFile('export function sign( {'), /could not be loaded \(SyntaxError\)/],
      ['/nonexistent/signer.mjs', /could not be loaded \(ERR_MODULE_NOT_FOUND\)/],
    ] as const) {
      const p = proxy({ MCP_ENDPOINT: 'https://mcp.example.com/mcp' }, ['--signer-module', file]);
      p.send(INIT);
      const answer = await p.waitFor((m) => m.id === 0);
      expect(answer.error?.message).toMatch(/--signer-module \/ MCP_SIGNER_MODULE/);
      expect(answer.error?.message).toMatch(pattern);
    }
  });
});
