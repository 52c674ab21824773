/**
 * Every host configuration in examples/ starts the proxy, as that host would launch it, up
 * to the point where it needs the network. Each file is read with its host's real format
 * (JSON, TOML), each server's command and args are mapped onto the built CLI, and its env
 * is passed with the placeholders a host would expand filled in. The proxy must get past
 * configuration: its answer to initialize is a network or credential error, never ESP_CONFIG.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { BIN, INIT, spawnRaw } from '../helpers/spawn-proxy.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const PACKAGE = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { name: string };

interface ServerEntry {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Codex: variables forwarded from the host's own environment. */
  env_vars?: string[];
  /** VS Code: the transport. */
  type?: string;
}

/** The servers of one example file, read the way its host reads it. */
function servers(file: string): Record<string, ServerEntry> {
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  if (file.endsWith('.toml')) return (parseToml(text) as unknown as { mcp_servers: Record<string, ServerEntry> }).mcp_servers;
  const json = JSON.parse(text) as { mcpServers?: Record<string, ServerEntry>; servers?: Record<string, ServerEntry> };
  // VS Code's .vscode/mcp.json uses "servers"; the others use "mcpServers".
  const found = file.startsWith('vscode') ? json.servers : json.mcpServers;
  if (found === undefined) throw new Error(`${file}: no ${file.startsWith('vscode') ? 'servers' : 'mcpServers'} key`);
  return found;
}

/** The proxy's own arguments, after the launcher a host runs (npx, cmd /c npx, node PATH). */
function proxyArgs(s: ServerEntry): string[] {
  const a = s.args ?? [];
  const npx = (rest: string[]): string[] => {
    expect(rest.slice(0, 2)).toEqual(['-y', PACKAGE.name]);
    return rest.slice(2);
  };
  if (s.command === 'npx') return npx(a);
  if (s.command === 'cmd') {
    expect(a.slice(0, 2)).toEqual(['/c', 'npx']);
    return npx(a.slice(2));
  }
  if (s.command === 'node') {
    expect(a[0]).toMatch(/^\/.*\/bin\/mcp-signing-proxy\.js$/);
    return a.slice(1);
  }
  throw new Error(`unknown launcher ${s.command}`);
}

/** What a host expands (${VAR}, ${env:VAR}, ${input:id}) becomes a dummy value here. */
function expand(value: string): string {
  return value.replace(/\$\{(?:env:|input:)?[\w-]+\}/g, 'example-placeholder-value');
}

let pki: TestPki;
let aws: { config: string; credentials: string };
beforeAll(async () => {
  pki = await createTestPki();
  // Every profile an example names, with static keys: enough to sign, nothing to reach.
  const dir = mkdtempSync(join(tmpdir(), 'msp-examples-aws-'));
  aws = { config: join(dir, 'config'), credentials: join(dir, 'credentials') };
  const profiles = ['default', 'dev', 'my-dev-profile'];
  writeFileSync(aws.config, profiles.map((p) => `[${p === 'default' ? p : `profile ${p}`}]\nregion = us-east-1\n`).join('\n'));
  writeFileSync(aws.credentials, profiles.map((p) => `[${p}]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n`).join('\n'));
});
afterAll(() => pki?.cleanup());

/** Files an example points at on the author's machine, replaced by real test files. */
function localFiles(): Record<string, string> {
  return { MCP_CLIENT_CERT: pki.clientOne.certPath, MCP_CLIENT_KEY: pki.clientOne.keyPath, MCP_CA_CERT: pki.ca.certPath };
}

const cleanups = useCleanups();
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') || f.endsWith('.toml'));

describe('examples/', () => {
  it('holds the host configurations the README promises', () => {
    expect(files).toEqual(expect.arrayContaining(['claude-code.mcp.json', 'claude-desktop.json', 'claude-desktop-windows.json', 'cursor.mcp.json', 'vscode.mcp.json', 'codex.config.toml', 'from-clone.mcp.json']));
  });

  it('VS Code entries declare the stdio transport', () => {
    for (const s of Object.values(servers('vscode.mcp.json'))) expect(s.type).toBe('stdio');
  });

  const cases = files.flatMap((file) => Object.keys(servers(file)).map((name) => [file, name] as const));
  it.each(cases)('%s: %s gets past configuration to the network', async (file, name) => {
    const s = servers(file)[name] as ServerEntry;
    const env: Record<string, string> = { AWS_CONFIG_FILE: aws.config, AWS_SHARED_CREDENTIALS_FILE: aws.credentials };
    for (const v of s.env_vars ?? []) env[v] = 'example-forwarded-value';
    for (const [k, v] of Object.entries(s.env ?? {})) env[k] = localFiles()[k] ?? expand(v);
    // PATH from an example is for finding npx on the user's machine; we run node directly.
    delete env.PATH;
    // Bound the wait on a network that is not there.
    env.MCP_CONNECT_TIMEOUT ??= '3';
    const p = spawnRaw(env, proxyArgs(s));
    cleanups.push(() => void p.child.kill('SIGKILL'));
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0, 25_000);
    expect(answer.error, `${BIN} answered initialize with a result, which needs a network`).toBeDefined();
    expect(answer.error.data?.code, `${answer.error.message}\n${p.stderr()}`).not.toBe('ESP_CONFIG');
    // The signer the example means: AWS settings sign with SigV4, a token with bearer.
    const startup = p.stderr().split('\n').find((l) => l.includes('"mcp-signing-proxy starting"'));
    expect(startup, p.stderr()).toBeDefined();
    const signer = env.AWS_PROFILE !== undefined || env.ASSUME_ROLE_ARN !== undefined ? 'sigv4' : env.MCP_BEARER_TOKEN !== undefined ? 'bearer' : 'none';
    expect(JSON.parse(startup as string).signer).toBe(signer);
  }, 30_000);
});
