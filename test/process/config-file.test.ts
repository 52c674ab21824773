/**
 * The config file end to end: the built CLI, spawned as a host does, picks a server out of
 * one file and relays to it; flags and the environment win over the file; --print-config
 * shows the sources without secrets; a bad file reaches the host as the answer to initialize.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { BIN, connectClient, hermeticEnv } from '../helpers/spawn-proxy.js';

const DEV_TOKEN = 'DEV-TOKEN-MARKER-4b1e9d';
const PROD_TOKEN = 'PROD-TOKEN-MARKER-77c2aa';
const cleanups = useCleanups();
const dir = mkdtempSync(join(tmpdir(), 'msp-config-e2e-'));

function writeJson(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
}

describe('one config file, a dev and a prod server', () => {
  let dev: McpTestServer;
  let prod: McpTestServer;
  let config: string;

  beforeAll(async () => {
    [dev, prod] = await Promise.all([startMcpServer({ bearerToken: DEV_TOKEN }), startMcpServer({ bearerToken: PROD_TOKEN })]);
    writeFileSync(join(dir, 'prod-token'), `${PROD_TOKEN}\n`, { mode: 0o600 });
    config = writeJson('mcp.json', {
      defaults: { 'log-level': 'debug', 'connect-timeout': 5 },
      servers: {
        dev: { endpoint: dev.url, 'bearer-token': '${DEV_TOKEN}', header: ['X-Env: dev'] },
        // A relative path is taken from the file's directory, not the host's working directory.
        prod: { endpoint: prod.url, 'bearer-token-file': 'prod-token', 'log-level': 'warn' },
      },
    });
  });
  afterAll(async () => {
    await dev?.close();
    await prod?.close();
  });

  /** Connects, lists tools, and returns how many requests each server saw. */
  async function listThrough(env: Record<string, string>, args: string[]): Promise<{ dev: number; prod: number; tools: string[] }> {
    const before = { dev: dev.requests.length, prod: prod.requests.length };
    const c = await connectClient(env, args);
    cleanups.push(() => c.close());
    const tools = (await c.client.listTools()).tools.map((t) => t.name);
    return { dev: dev.requests.length - before.dev, prod: prod.requests.length - before.prod, tools };
  }

  it('--server dev reaches the dev server with its token and header', async () => {
    const seen = await listThrough({ DEV_TOKEN }, ['--config', config, '--server', 'dev']);
    expect(seen.tools).toContain('echo');
    expect(seen.dev).toBeGreaterThan(0);
    expect(seen.prod).toBe(0);
    expect(dev.requests.at(-1)?.headers['x-env']).toBe('dev');
  });

  it('MCP_PROXY_SERVER=prod reaches the prod server (token file relative to the config)', async () => {
    const seen = await listThrough({ MCP_PROXY_CONFIG: config, MCP_PROXY_SERVER: 'prod' }, []);
    expect(seen.tools).toContain('echo');
    expect(seen.prod).toBeGreaterThan(0);
    expect(seen.dev).toBe(0);
  });

  it('the environment beats the file: MCP_ENDPOINT and MCP_BEARER_TOKEN replace the dev entry', async () => {
    const seen = await listThrough({ MCP_ENDPOINT: prod.url, MCP_BEARER_TOKEN: PROD_TOKEN }, ['--config', config, '--server', 'dev']);
    expect(seen.prod).toBeGreaterThan(0);
    expect(seen.dev).toBe(0);
  });

  it('a flag beats the environment', async () => {
    const seen = await listThrough({ MCP_ENDPOINT: dev.url, MCP_BEARER_TOKEN: PROD_TOKEN }, [prod.url, '--config', config, '--server', 'dev']);
    expect(seen.prod).toBeGreaterThan(0);
    expect(seen.dev).toBe(0);
  });

  it('--print-config shows each value and its source, masks secrets, exits 0', () => {
    const r = spawnSync(process.execPath, [BIN, '--config', config, '--server', 'dev', '--print-config', '--connect-timeout', '3'], {
      env: hermeticEnv({ DEV_TOKEN, MCP_LOG_LEVEL: 'info', MCP_CLIENT_KEY_PASSPHRASE: 'PASSPHRASE-MARKER-19' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^endpoint +${dev.url.replace(/[.?]/g, '\\$&')} +config server dev$`, 'm'));
    expect(r.stdout).toMatch(/^bearer-token +\*\*\*\* +config server dev$/m);
    expect(r.stdout).toMatch(/^header +X-Env: \*\*\*\* +config server dev$/m);
    expect(r.stdout).toMatch(/^log-level +info +env MCP_LOG_LEVEL$/m);
    expect(r.stdout).toMatch(/^connect-timeout +3 +flag$/m);
    expect(r.stdout).toMatch(/^max-connections +32 +default$/m);
    expect(r.stdout).toMatch(/^client-key-passphrase +\*\*\*\* +env MCP_CLIENT_KEY_PASSPHRASE$/m);
    expect(r.stdout).not.toMatch(/MARKER/);
  });
});

describe('a bad config file stops start-up, and the host is told', () => {
  it('a literal secret: the SDK client sees the message and the fix', async () => {
    const path = writeJson('literal.json', { servers: { dev: { endpoint: 'https://mcp.example.com/mcp', 'bearer-token': 'LITERAL-SECRET-MARKER' } } });
    const err = await connectClient({}, ['--config', path, '--server', 'dev']).then(
      (c) => (cleanups.push(() => c.close()), undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    const e = err as McpError;
    const shown = e.message.split('\nproxy stderr:')[0] as string;
    expect(shown).toContain(`mcp-signing-proxy: --config / MCP_PROXY_CONFIG file ${path} servers.dev "bearer-token" holds a literal secret`);
    expect(shown).toContain('fix: write "bearer-token": "${VAR}"');
    expect((e.data as { code?: string }).code).toBe('ESP_CONFIG');
    expect(e.message).not.toContain('LITERAL-SECRET-MARKER');
  });

  it('an unknown key names the closest valid one; exit 2', () => {
    const path = writeJson('typo.json', { servers: { prod: { endpoint: 'https://mcp.example.com/mcp', 'rol-arn': 'arn:aws:iam::123456789012:role/r' } } });
    const r = spawnSync(process.execPath, [BIN, '--config', path, '--server', 'prod'], { env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `mcp-signing-proxy: --config / MCP_PROXY_CONFIG file ${path} servers.prod has unknown key "rol-arn"\n` +
        '  fix: did you mean "role-arn"? keys are the flag names without the dashes (mcp-signing-proxy --help)\n',
    );
  });

  it('an unknown server lists the servers', async () => {
    const path = writeJson('servers.json', { servers: { dev: {}, prod: {} } });
    const err = await connectClient({ MCP_PROXY_SERVER: 'staging' }, ['--config', path]).then(
      (c) => (cleanups.push(() => c.close()), undefined),
      (e: unknown) => e,
    );
    expect((err as McpError).message).toContain(`mcp-signing-proxy: --server / MCP_PROXY_SERVER "staging" is not in ${path} (fix: servers in the file: dev, prod)`);
  });
});
