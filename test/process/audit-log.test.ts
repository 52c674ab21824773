/**
 * The audit log through the spawned proxy (README "Audit log"): one line per call and per
 * refusal with the right outcome, a hash chain the documented command verifies, and a log
 * that can fail, rotate or turn into a FIFO without the relay noticing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { result, startFakeMcp, type FakeMcp } from '../helpers/catalogue-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { INIT, initializedProxy, type RawProxy, spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

/** The verification command exactly as the README documents it, reading the log on stdin. */
const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const VERIFY = /\n(node -e '[^\n]*prev[^\n]*') < audit\.jsonl\n/.exec(README)?.[1] as string;

function verify(file: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('sh', ['-c', `${VERIFY} < "$1"`, 'sh', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr) };
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'msp-audit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(): Promise<FakeMcp> {
  const s = await startFakeMcp({
    onRequest: (m, res) => {
      const json = (v: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      const name = m.params?.name;
      if (m.method === 'tools/call' && name === 'fails') return json(result(m.id, { content: [{ type: 'text', text: 'no' }], isError: true }));
      if (m.method === 'tools/call' && name === 'rpc_error') return json({ jsonrpc: '2.0', id: m.id, error: { code: -32001, message: 'nope' } });
      if (m.method === 'tools/call' && name === 'http_500') return res.writeHead(500).end('boom');
      if (m.method === 'tools/call' && name === 'slow') return; // never answered: cancelled, or shut down
      if (m.method === 'resources/read') return json(result(m.id, { contents: [{ uri: m.params.uri, text: 'hi' }] }));
      if (m.method === 'prompts/get') return json(result(m.id, { messages: [] }));
      json(result(m.id, { content: [{ type: 'text', text: `ran ${name}` }] }));
    },
  });
  cleanups.push(() => s.close());
  return s;
}

function proxy(s: FakeMcp, args: string[], env: Record<string, string> = {}): Promise<RawProxy> {
  return initializedProxy({ MCP_ENDPOINT: s.url, ...env }, cleanups, { args });
}

let nextId = 1;
async function call(p: RawProxy, method: string, params: object): Promise<any> {
  const id = nextId++;
  p.send({ jsonrpc: '2.0', id, method, params });
  return p.waitFor((m) => m.id === id);
}

function lines(file: string): any[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = (file: string) => (existsSync(file) ? lines(file).length : 0);

describe('--audit-log', () => {
  it('writes one line per outcome, 0600, with a hash chain the README command verifies', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.jsonl');
    const s = await server();
    const p = await proxy(s, ['--audit-log', log, '--deny-tools', 'drop_*'], { MCP_BEARER_TOKEN: 'tok-ABCDEF-123456' });
    expect((await call(p, 'tools/call', { name: 'echo', arguments: { q: 'x', n: 1, tags: ['a'], deep: { ok: true, none: null } } })).result).toBeDefined();
    await call(p, 'tools/call', { name: 'fails', arguments: {} });
    await call(p, 'tools/call', { name: 'rpc_error', arguments: {} });
    expect((await call(p, 'tools/call', { name: 'http_500', arguments: {} })).error.code).toBe(-32603);
    const denied = await call(p, 'tools/call', { name: 'drop_db', arguments: { really: true } });
    expect(denied.error.code).toBe(-32602);
    await call(p, 'resources/read', { uri: 'docs://readme' });
    await call(p, 'prompts/get', { name: 'summary', arguments: { topic: 't' } });
    // Not audited: nothing was used.
    await call(p, 'tools/list', {});
    const cancelledId = nextId++;
    p.send({ jsonrpc: '2.0', id: cancelledId, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await until(() => s.hits.some((h) => h.msg?.id === cancelledId));
    p.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: cancelledId } });
    await until(() => count(log) === 8);
    const shutdownId = nextId++;
    p.send({ jsonrpc: '2.0', id: shutdownId, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await until(() => s.hits.some((h) => h.msg?.id === shutdownId));
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);

    const all = lines(log);
    expect(all.map((l) => [l.method, l.name, l.outcome, l.code ?? l.rule ?? null])).toEqual([
      ['tools/call', 'echo', 'ok', null],
      ['tools/call', 'fails', 'tool_error', null],
      ['tools/call', 'rpc_error', 'error', -32001],
      ['tools/call', 'http_500', 'error', -32603],
      ['tools/call', 'drop_db', 'denied', '--deny-tools'],
      ['resources/read', 'docs://readme', 'ok', null],
      ['prompts/get', 'summary', 'ok', null],
      ['tools/call', 'slow', 'cancelled', null],
      ['tools/call', 'slow', 'shutdown', -32603],
    ]);
    const first = all[0];
    expect(Object.keys(first)).toEqual(['ts', 'endpoint', 'identity', 'method', 'name', 'id', 'args', 'outcome', 'ms', 'bytes', 'prev']);
    expect(first.endpoint).toBe(s.url);
    expect(first.identity).toEqual({ bearer: `sha256:${createHash('sha256').update('tok-ABCDEF-123456').digest('hex').slice(0, 12)}` });
    expect(first.args).toEqual({ q: 'string', n: 'number', tags: ['string'], deep: { ok: 'boolean', none: 'null' } });
    expect(first.bytes).toBe(p.lines.find((l) => JSON.parse(l).id === first.id)?.length);
    expect(first.prev).toBe('0'.repeat(64));
    expect(Number.isNaN(Date.parse(first.ts))).toBe(false);
    expect(all[7].bytes).toBe(0);
    expect(readFileSync(log, 'utf8')).not.toContain('tok-ABCDEF-123456');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(s.hits.filter((h) => h.msg?.params?.name === 'drop_db')).toHaveLength(0);

    const ok = verify(log);
    expect(ok.ok).toBe(true);
    expect(ok.out).toMatch(/^ok 9 lines/);
    // An edited line, or a line removed, breaks the chain.
    const text = readFileSync(log, 'utf8');
    writeFileSync(join(dir, 'edited.jsonl'), text.replace('"docs://readme"', '"docs://other"'));
    expect(verify(join(dir, 'edited.jsonl')).ok).toBe(false);
    writeFileSync(join(dir, 'cut.jsonl'), text.split('\n').filter((_, i) => i !== 3).join('\n'));
    expect(verify(join(dir, 'cut.jsonl'))).toMatchObject({ ok: false });
    expect(verify(join(dir, 'cut.jsonl')).out).toMatch(/line 4/);
  });

  it('--audit-args hash adds a SHA-256 of the canonical arguments; full keeps values with the secrets masked', async () => {
    const dir = tempDir();
    const s = await server();
    const hashed = join(dir, 'hash.jsonl');
    const p1 = await proxy(s, ['--audit-log', hashed, '--audit-args', 'hash']);
    await call(p1, 'tools/call', { name: 'echo', arguments: { b: 2, a: 'x' } });
    await until(() => count(hashed) === 1);
    expect(lines(hashed)[0].args).toEqual({ shape: { b: 'number', a: 'string' }, sha256: createHash('sha256').update('{"a":"x","b":2}').digest('hex') });

    const full = join(dir, 'full.jsonl');
    const url = `${s.url.replace('/mcp', '')}/sk-PATHSECRET-0123456789abcdef/mcp`;
    const p2 = spawnRaw({ MCP_ENDPOINT: url, MCP_BEARER_TOKEN: 'MARKER-BEARER-SECRET', MCP_HEADERS: 'X-Api-Key: MARKER-HEADER-SECRET' }, ['--audit-log', full, '--audit-args', 'full']);
    cleanups.push(() => void p2.child.kill('SIGKILL'));
    p2.send(INIT);
    await p2.waitFor((m) => m.id === 0);
    await call(p2, 'tools/call', { name: 'echo', arguments: { note: 'token is MARKER-BEARER-SECRET', key: 'MARKER-HEADER-SECRET', plain: 'visible' } });
    await until(() => count(full) === 1);
    p2.child.stdin.end();
    await p2.exited;
    const text = readFileSync(full, 'utf8');
    expect(lines(full)[0].args.plain).toBe('visible');
    for (const marker of ['MARKER-BEARER-SECRET', 'MARKER-HEADER-SECRET', 'PATHSECRET']) expect(text).not.toContain(marker);
    expect(p2.stderr()).toMatch(/IN FULL/);
  });

  it('keeps serving when the disk is full, logs the loss once and counts it', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.jsonl');
    const s = await server();
    const p = await proxy(s, ['--audit-log', log]);
    await call(p, 'tools/call', { name: 'echo', arguments: {} });
    await until(() => count(log) === 1);
    // Every write now fails with ENOSPC.
    rmSync(log);
    symlinkSync('/dev/full', log);
    for (let i = 0; i < 3; i++) expect((await call(p, 'tools/call', { name: 'echo', arguments: {} })).result).toBeDefined();
    await until(() => /lines could not be written/.test(p.stderr()));
    expect((await call(p, 'tools/call', { name: 'echo', arguments: {} })).result).toBeDefined();
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    const err = p.stderr();
    expect(err.match(/lines could not be written/g)).toHaveLength(1);
    expect(err).toMatch(/ENOSPC/);
    expect(err).toMatch(/"lost":4.*some lines were lost|some lines were lost.*"lost":4/);
  });

  it('notices a rotation (rename, then removal) and starts a new 0600 file with its own chain', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.jsonl');
    const s = await server();
    const p = await proxy(s, ['--audit-log', log]);
    await call(p, 'tools/call', { name: 'echo', arguments: {} });
    await call(p, 'tools/call', { name: 'echo', arguments: {} });
    await until(() => count(log) === 2);
    renameSync(log, `${log}.1`);
    await call(p, 'tools/call', { name: 'rotated', arguments: {} });
    await until(() => count(log) === 1);
    expect(lines(log)[0]).toMatchObject({ name: 'rotated', prev: '0'.repeat(64) });
    expect(statSync(log).mode & 0o777).toBe(0o600);
    rmSync(log);
    await call(p, 'tools/call', { name: 'removed', arguments: {} });
    await until(() => count(log) === 1);
    expect(lines(log)[0].name).toBe('removed');
    expect(verify(`${log}.1`).ok).toBe(true);
    expect(count(`${log}.1`)).toBe(2);
  });

  it('refuses a path that is not a regular file at start-up, and one that turns into a FIFO never blocks', async () => {
    const dir = tempDir();
    const s = await server();
    const bad = spawnRaw({ MCP_ENDPOINT: s.url }, ['--audit-log', dir]);
    cleanups.push(() => void bad.child.kill('SIGKILL'));
    bad.child.stdin.end();
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/mcp-signing-proxy: --audit-log \/ MCP_AUDIT_LOG .* is a directory/);

    const log = join(dir, 'audit.jsonl');
    const p = await proxy(s, ['--audit-log', log]);
    rmSync(log);
    execFileSync('mkfifo', [log]);
    expect((await call(p, 'tools/call', { name: 'echo', arguments: {} })).result).toBeDefined();
    await until(() => /not a regular file|ENOTREG/.test(p.stderr()));
    rmSync(log);
    mkdirSync(log);
    expect((await call(p, 'tools/call', { name: 'echo', arguments: {} })).result).toBeDefined();
    p.child.stdin.end();
    const exit = await p.exited;
    expect(exit.code).toBe(0);
  });
});
