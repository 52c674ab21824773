/**
 * `--help`, `--version` and configuration errors are answered before the relay loads: a
 * module-resolution hook records every module the spawned CLI loads, and none may come
 * from node_modules (undici, pino, the AWS SDK).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, hermeticEnv } from '../helpers/spawn-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'msp-entry-'));
const hooks = join(dir, 'hooks.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MSP_LOADED_LOG, r.url + '\\n');
  return r;
}
`,
);
const register = join(dir, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);

/** Runs the CLI with `args`, stdin closed; returns its output and every module URL it loaded. */
function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', register, BIN, ...args], { env: hermeticEnv({ ...env, MSP_LOADED_LOG: log }), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('the entry loads only Node built-ins until the relay runs', () => {
  it.each([['--help'], ['-h'], ['--version'], ['-V'], ['-v']])('%s', (flag) => {
    const r = run([flag]);
    expect(r.status).toBe(0);
    expect(r.loaded.length).toBeGreaterThan(0);
    expect(r.loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    if (flag.toLowerCase() === '-v' || flag === '--version') expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    else expect(r.stdout).toContain('Usage: mcp-signing-proxy');
  });

  it('a configuration error, too', () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no remote endpoint configured');
    expect(r.loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
  });

  it('--print-config with a config file, too', () => {
    const config = join(dir, 'mcp.json');
    writeFileSync(config, JSON.stringify({ servers: { dev: { endpoint: 'https://mcp.example.com/mcp', 'role-arn': 'arn:aws:iam::123456789012:role/r' } } }));
    const r = run(['--config', config, '--server', 'dev', '--print-config']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^role-arn +arn:aws:iam::123456789012:role\/r +config server dev$/m);
    expect(r.loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
  });

  it('the relay does load its dependencies (the hook sees them)', () => {
    const credentials = join(dir, 'aws-credentials');
    writeFileSync(credentials, '[hook]\naws_access_key_id = AKIDHOOK\naws_secret_access_key = hook\n');
    const r = run(['--check'], { MCP_ENDPOINT: 'https://127.0.0.1:9/mcp', MCP_CONNECT_TIMEOUT: '1', MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: 'eu-west-1', AWS_PROFILE: 'hook', AWS_SHARED_CREDENTIALS_FILE: credentials });
    // (CommonJS requires bypass the hook, so look for the AWS SDK, which a profile imports;
    // environment keys need no SDK.)
    expect(r.loaded.some((u) => u.includes('/node_modules/@aws-sdk/'))).toBe(true);
  });

  it('only --check loads the doctor', () => {
    const doctor = (loaded: string[]) => loaded.filter((u) => /\/dist\/(check|report|caller-identity|sso-session)-[\w-]+\.js$/.test(u));
    const env = { MCP_ENDPOINT: 'http://127.0.0.1:9/mcp', MCP_CONNECT_TIMEOUT: '1', MCP_BEARER_TOKEN: 'x' };
    expect(doctor(run([], env).loaded)).toEqual([]);
    expect(doctor(run(['--check'], env).loaded)).not.toEqual([]);
  });

  it('a bearer relay loads no logging library: its JSON lines are written by our own module', () => {
    const r = run(['--check'], { MCP_ENDPOINT: 'https://127.0.0.1:9/mcp', MCP_CONNECT_TIMEOUT: '1', MCP_BEARER_TOKEN: 'x', MCP_LOG_LEVEL: 'info' });
    expect(r.loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    expect(r.stderr).toMatch(/^\{"level":30,"time":\d+,"pid":\d+,.*"msg":"mcp-signing-proxy starting"\}$/m);
  });
});
