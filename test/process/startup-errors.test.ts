/**
 * A start-up error must reach the host's UI, not only stderr: hosts show "failed to
 * connect" for a server that exits, so the proxy answers the client's initialize with the
 * same message and fix, then exits 2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { BIN, INIT, connectClient, hermeticEnv, spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();
const AWS_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp';
// A file where a directory is expected: the log file below it cannot be created.
const NOT_A_DIR = join(mkdtempSync(join(tmpdir(), 'msp-notdir-')), 'file');
writeFileSync(NOT_A_DIR, '');

describe('start-up errors are answered to the client', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['missing MCP_ENDPOINT', {}, 'no remote endpoint configured (fix: pass the MCP server URL as the first argument, with --endpoint URL, or set MCP_ENDPOINT)'],
    ['a bad URL', { MCP_ENDPOINT: 'mcp.example.com/mcp' }, 'MCP_ENDPOINT / --endpoint is not a valid URL (fix: use a full URL'],
    ['http:// to a remote host', { MCP_ENDPOINT: 'http://mcp.example.com/mcp' }, 'refusing plain http:// to mcp.example.com'],
    ['a bad role ARN', { MCP_ENDPOINT: AWS_URL, ASSUME_ROLE_ARN: 'arn:aws:iam::123:role/x' }, '--role-arn / ASSUME_ROLE_ARN "arn:aws:iam::123:role/x" is not an IAM role ARN'],
    ['a missing token file', { MCP_ENDPOINT: 'https://mcp.example.com/mcp', MCP_BEARER_TOKEN_FILE: '/nonexistent/token' }, '--bearer-token-file / MCP_BEARER_TOKEN_FILE /nonexistent/token cannot be read (ENOENT) (fix: check the path'],
    ['a log file that cannot be created', { MCP_ENDPOINT: 'https://mcp.example.com/mcp', MCP_BEARER_TOKEN: 'tok-123456', MCP_LOG_FILE: `${NOT_A_DIR}/proxy.log` }, `--log-file / MCP_LOG_FILE ${NOT_A_DIR}/proxy.log cannot be opened (`],
    ['a role ARN that is not one (not echoed: it may be a pasted key)', { MCP_ENDPOINT: AWS_URL, ASSUME_ROLE_ARN: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY' }, '--role-arn / ASSUME_ROLE_ARN is not an IAM role ARN (fix:'],
  ];
  for (const [name, env, text] of cases) {
    it(`${name}: the SDK client sees the message and the fix`, async () => {
      const err = await connectClient(env).then(
        (c) => (cleanups.push(() => c.close()), undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(McpError);
      const e = err as McpError;
      // connectClient appends the proxy's stderr; the part before it is what a host shows.
      const shown = e.message.split('\nproxy stderr:')[0] as string;
      expect(shown).toContain(`mcp-signing-proxy: ${text}`);
      expect(e.code).toBe(-32603);
      expect((e.data as { code?: string }).code).toBe('ESP_CONFIG');
    });
  }

  it('keeps the stderr message, answers only the first request, then exits 2', async () => {
    const p = spawnRaw({ MCP_ENDPOINT: 'http://mcp.example.com/mcp' });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send({ jsonrpc: '2.0', method: 'notifications/something' });
    p.send('not json');
    p.send({ ...INIT, id: 'first' });
    p.send({ ...INIT, id: 'second' });
    const { code } = await p.exited;
    expect(code).toBe(2);
    expect(p.stderr()).toMatch(/mcp-signing-proxy: refusing plain http:\/\/ to mcp\.example\.com.*\n {2}fix: use https:\/\//);
    expect(p.lines.map((l) => JSON.parse(l))).toEqual([
      { jsonrpc: '2.0', id: 'first', error: { code: -32603, message: expect.stringContaining('refusing plain http://'), data: expect.objectContaining({ code: 'ESP_CONFIG' }) } },
    ]);
  });

  it('reads the first request as the relay does: a BOM and a CR line end are not part of it', async () => {
    const p = spawnRaw({});
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.child.stdin.write(`\uFEFF${JSON.stringify({ ...INIT, id: 'bom' })}\r\n`);
    expect((await p.exited).code).toBe(2);
    expect(p.lines.map((l) => (JSON.parse(l) as { id: unknown }).id)).toEqual(['bom']);
  });

  it('exits 2 with stdin closed (CI, < /dev/null), writing nothing to stdout', async () => {
    const child = spawn(process.execPath, [BIN], { env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out).toBe('');
  });

  it('--check does not wait for or answer a request', async () => {
    const p = spawnRaw({}, ['--check']);
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    expect((await p.exited).code).toBe(2);
    expect(p.lines).toEqual([]);
    expect(p.stderr()).toContain('no remote endpoint configured');
  });
});
