/**
 * 401/403 handling and token rotation for bearer tokens through the spawned proxy: a token file that is
 * rotated mid-session is picked up (a 401 forces a re-read and one retry), a corrupt swap
 * keeps the last good token, and a rejection with nothing new gives one clear error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { INIT, spawnRaw } from '../helpers/spawn-proxy.js';
import { startFakeMcp } from '../helpers/catalogue-upstream.js';

const A = 'CANARYROTA-first-aaaa';
const B = 'CANARYROTB-second-bbbbbbbb';
const C = 'CANARYROTC-third-cccccccccccc';
const cleanups = useCleanups();

describe('bearer token file rotation', () => {
  it('rotation is picked up with one retry; a corrupt swap keeps the old token; then one clear 401 error', async () => {
    let accepted = A;
    // The fake answers 401 unless the currently accepted token is presented.
    const dir = mkdtempSync(join(tmpdir(), 'msp-rot-'));
    const file = join(dir, 'token');
    writeFileSync(file, `${A}\n`);
    const gate = await startFakeMcp({
      onInitialize: (m, res, req) => forward(m, res, req),
      onRequest: (m, res, req) => forward(m, res, req),
    });
    cleanups.push(() => gate.close());
    async function forward(m: any, res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) {
      if (req.headers.authorization !== `Bearer ${accepted}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      const body = m.method === 'initialize'
        ? { jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'g', version: '1' } } }
        : { jsonrpc: '2.0', id: m.id, result: { ok: true } };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' }).end(JSON.stringify(body));
    }

    const p = spawnRaw({ MCP_ENDPOINT: gate.url, MCP_BEARER_TOKEN_FILE: file, MCP_LOG_LEVEL: 'trace' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    // 1. Rotate: the next request is rejected once with A, re-read, retried with B.
    writeFileSync(file, `${B}\n`);
    accepted = B;
    p.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect((await p.waitFor((m) => m.id === 1)).result).toEqual({ ok: true });
    const pings1 = gate.hits.filter((h) => h.msg?.id === 1);
    expect(pings1.length).toBeGreaterThanOrEqual(1);
    expect(pings1.length).toBeLessThanOrEqual(2);
    expect(pings1.at(-1)!.headers.authorization).toBe(`Bearer ${B}`);

    // 2. A corrupt swap (empty file) keeps B.
    writeFileSync(file, '');
    await new Promise((r) => setTimeout(r, 1100)); // past the 1 s re-check interval
    p.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect((await p.waitFor((m) => m.id === 2)).result).toEqual({ ok: true });
    expect(gate.hits.filter((h) => h.msg?.id === 2).map((h) => h.headers.authorization)).toEqual([`Bearer ${B}`]);

    // 3. The server moves on to C but the file offers nothing new: one error, one attempt.
    accepted = C;
    p.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
    const e = await p.waitFor((m) => m.id === 3);
    expect(e.error.data.code).toBe('ESP_BEARER_REJECTED');
    expect(e.error.message).toContain(file);
    expect(gate.hits.filter((h) => h.msg?.id === 3)).toHaveLength(1);

    await new Promise((r) => setTimeout(r, 200));
    expect(p.lines.map((l) => JSON.parse(l)).filter((m) => [1, 2, 3].includes(m.id))).toHaveLength(3);
    for (const t of [A, B, C]) {
      expect(p.stderr()).not.toContain(t);
      expect(p.lines.join('\n')).not.toContain(t);
    }
  });
});
