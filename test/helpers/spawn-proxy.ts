/**
 * Runs the built CLI the way a host does (MCP stdio transport, https://modelcontextprotocol.io/specification/2025-11-25/basic/transports): as a child process over
 * stdio, with an explicit, hermetic environment.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Cleanup } from './cleanups.js';
import { createLineSplitter } from './line-splitter.js';

/** The package root, found from here whether this file runs from test/ or compiled (.build/). */
function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin/mcp-signing-proxy.js'))) return dir;
  }
  throw new Error('package root not found');
}

export const BIN = join(packageRoot(import.meta.dirname), 'bin/mcp-signing-proxy.js');

/** PATH and a temp HOME; no AWS, proxy or MCP variables from the developer's shell. */
export function hermeticEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'msp-home-'));
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_PROXY: '127.0.0.1,localhost',
    ...extra,
  };
}

export interface ConnectedClient {
  client: Client;
  transport: StdioClientTransport;
  stderr(): string;
  close(): Promise<void>;
}

/** An SDK Client (elicitation + roots, as Claude Code declares) talking to the spawned proxy. */
export async function connectClient(env: Record<string, string>, args: string[] = []): Promise<ConnectedClient> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, ...args], env: hermeticEnv(env), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'test-host', version: '1.0.0' }, { capabilities: { elicitation: {}, roots: { listChanged: true } } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
  try {
    await client.connect(transport);
  } catch (e) {
    (e as Error).message += `\nproxy stderr:\n${err.slice(-4000)}`;
    throw e;
  }
  return { client, transport, stderr: () => err, close: () => client.close() };
}

export interface RawProxy {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far, as written. */
  lines: string[];
  stderr(): string;
  send(line: string | object): void;
  /** Resolves with the first parsed stdout message matching `pred`. */
  waitFor(pred: (msg: any) => boolean, timeoutMs?: number): Promise<any>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** The proxy with raw pipes, for framing, large-line and lifecycle tests. */
export function spawnRaw(env: Record<string, string>, args: string[] = []): RawProxy {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: hermeticEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ pred: (m: any) => boolean; resolve: (m: any) => void }> = [];
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on(
    'data',
    createLineSplitter((line) => {
      lines.push(line);
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      for (const w of [...waiters]) {
        if (w.pred(msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    }),
  );
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  return {
    child,
    lines,
    stderr: () => err,
    send(line) {
      child.stdin.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\n');
    },
    waitFor(pred, timeoutMs = 10_000) {
      for (const l of lines) {
        try {
          const m = JSON.parse(l);
          if (pred(m)) return Promise.resolve(m);
        } catch {
          // not JSON: the purity assertions catch it
        }
      }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for a message; stdout so far: ${lines.join('\n').slice(0, 2000)}\nstderr: ${err.slice(-2000)}`)), timeoutMs);
        waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
    exited,
  };
}

export const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/**
 * A spawned proxy that is killed when the test's cleanups run (see cleanups.ts) and has
 * answered initialize with a result; unless `notified: false`, notifications/initialized
 * has been sent too.
 */
export async function initializedProxy(
  env: Record<string, string>,
  cleanups: Cleanup[],
  { notified = true, args = [] }: { notified?: boolean; args?: string[] } = {},
): Promise<RawProxy> {
  const p = spawnRaw(env, args);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  p.send(INIT);
  await p.waitFor((m) => m.id === 0 && m.result);
  if (notified) p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return p;
}
