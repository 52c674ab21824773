// Start-up cost of the answers that need no relay: `node -e 0` against --help, --version
// and a configuration error, interleaved in one run. Pass a second bin path (another build)
// to compare it side by side. Usage: node scripts/bench-startup.mjs [OTHER_BIN] (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = 40;
const bins = { this: fileURLToPath(new URL('../bin/mcp-signing-proxy.js', import.meta.url)) };
if (process.argv[2]) bins.other = process.argv[2];
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

// An empty ES module: the floor for any ESM entry (the ESM loader's own start-up).
const empty = join(mkdtempSync(join(tmpdir(), 'msp-bench-')), 'empty.mjs');
writeFileSync(empty, '');
const cases = { 'node -e 0': ['-e', '0'], 'node empty.mjs': [empty] };
for (const [name, bin] of Object.entries(bins)) {
  cases[`${name} --help`] = [bin, '--help'];
  cases[`${name} --version`] = [bin, '--version'];
  cases[`${name} config error`] = [bin];
}
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [k, args] of Object.entries(cases)) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, args, { stdio: 'ignore', env });
    times[k].push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const base = median(times['node -e 0']);
for (const [k, v] of Object.entries(times)) {
  const m = median(v);
  console.log(`${k.padEnd(24)} median ${m.toFixed(1).padStart(6)} ms  (${(m / base).toFixed(2)}× node -e 0)`);
}
