import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A helper script that prints a fresh token each run and counts its runs. */
function helperScript(body: string): { command: string; runs: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'msp-helper-'));
  const counter = join(dir, 'runs');
  writeFileSync(counter, '0');
  const script = join(dir, 'helper.mjs');
  writeFileSync(script, `import { readFileSync, writeFileSync } from 'node:fs';
const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
writeFileSync(${JSON.stringify(counter)}, String(n));
${body}`);
  return { command: `${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`, runs: () => Number(readFileSync(counter, 'utf8')) };
}

async function server(accept: (token: string | undefined) => boolean): Promise<McpTestServer> {
  const s = await startMcpServer({
    wrap: (inner) => async (req, res, body) => {
      if (!accept(req.headers['x-api-key'] as string | undefined)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
        return;
      }
      await inner(req, res, body);
    },
  });
  cleanups.push(() => s.close());
  return s;
}

function proxy(env: Record<string, string>): RawProxy {
  const p = spawnRaw({ MCP_LOG_LEVEL: 'debug', ...env });
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

describe('headers helper through the spawned proxy', () => {
  it('runs once per TTL, without stdin; its output never reaches stdout or the log', async () => {
    // Reading stdin must not hang the helper: it gets EOF at once.
    const h = helperScript(`process.stdin.resume(); process.stdin.on('end', () => console.log(JSON.stringify({ 'X-Api-Key': 'CANARYHELPER' + n })));
process.stderr.write('debug: token CANARYSTDERR');`);
    const s = await server((t) => t?.startsWith('CANARYHELPER') ?? false);
    const p = proxy({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: h.command });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    for (let id = 1; id <= 3; id++) {
      p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${id}` } } });
      await p.waitFor((m) => m.id === id && m.result);
    }
    expect(h.runs()).toBe(1);
    expect(s.requests.every((r) => r.headers['x-api-key'] === 'CANARYHELPER1')).toBe(true);
    p.child.stdin.end();
    await p.exited;
    expect(p.stderr()).toContain('headers helper ran');
    expect(p.stderr()).toContain('x-api-key');
    expect(p.stderr() + p.lines.join('\n')).not.toMatch(/CANARY/);
  });

  it('re-runs the helper on 401 and retries once with the new headers', async () => {
    const h = helperScript(`console.log(JSON.stringify({ 'X-Api-Key': 'gen' + n }));`);
    let minimum = 1;
    const s = await server((t) => Number(t?.slice(3) ?? 0) >= minimum);
    const p = proxy({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: h.command });
    p.send(INIT);
    await p.waitFor((m) => m.id === 0 && m.result);
    minimum = 2; // the server rotated its keys: gen1 is now rejected
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'after rotation' } } });
    const r = await p.waitFor((m) => m.id === 1);
    expect(r.result.content[0].text).toBe('after rotation');
    expect(h.runs()).toBe(2);
  });

  it('a failing or hanging helper gives one clear error per request, naming the flag', async () => {
    const s = await server(() => true);
    const failing = helperScript(`process.stderr.write('CANARYFAIL'); process.exit(3);`);
    const p = proxy({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: failing.command });
    p.send(INIT);
    const e = await p.waitFor((m) => m.id === 0);
    expect(e.error.message).toContain('headers helper exited with code 3');
    expect(e.error.message).toContain('MCP_HEADERS_HELPER');
    expect(e.error.data.code).toBe('ESP_HEADERS_HELPER_FAILED');

    const hanging = helperScript(`setTimeout(() => {}, 60_000);`);
    const q = proxy({ MCP_ENDPOINT: s.url, MCP_HEADERS_HELPER: hanging.command, MCP_HEADERS_HELPER_TIMEOUT: '1' });
    q.send(INIT);
    const t = await q.waitFor((m) => m.id === 0);
    expect(t.error.data.code).toBe('ESP_HEADERS_HELPER_TIMEOUT');
    expect(p.stderr() + q.stderr()).not.toContain('CANARY');
    expect(s.requests).toHaveLength(0);
  });
});
