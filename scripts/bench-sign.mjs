/**
 * Per-request cost of the SigV4 signer (target ≤ 0.15 ms): signs a typical 1 KB MCP
 * tools/call POST with temporary credentials, N times after a warm-up, and prints mean,
 * p50 and p99. Informational only; timings are never asserted (shared, noisy machines).
 *
 *   npm run build && node scripts/bench-sign.mjs [N]
 */
import { createLogger } from '../dist/logging/logger.js';
import { createSigV4Signer } from '../dist/signers/sigv4.js';

const N = Number(process.argv[2] ?? 20_000);
const WARMUP = 2_000;
const TARGET_US = 150;

// A memoised source answers from memory on the hot path, so a resolved promise models it.
const credentials = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjE'.padEnd(900, 'x'),
  expiration: new Date(Date.now() + 3_600_000),
};
const signer = createSigV4Signer({ service: 'execute-api', region: 'us-east-1', credentials: async () => credentials });

const body = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 42,
    method: 'tools/call',
    params: { name: 'search_documents', arguments: { query: 'quarterly revenue by region — café 🚀', filter: 'x'.repeat(860) } },
  }),
  'utf8',
);
const request = {
  method: 'POST',
  url: new URL('https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/mcp'),
  headers: {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
    'mcp-session-id': '5f0c2a5e-9a52-4d4c-8f6e-3c2d1b0a9f87',
  },
  body,
};
const ctx = { now: Date.now, attempt: 1, logger: createLogger('silent') };

for (let i = 0; i < WARMUP; i++) await signer.sign(request, ctx);

const samples = new Float64Array(N);
for (let i = 0; i < N; i++) {
  const start = process.hrtime.bigint();
  await signer.sign(request, ctx);
  samples[i] = Number(process.hrtime.bigint() - start) / 1000;
}
samples.sort();
const mean = samples.reduce((a, b) => a + b, 0) / N;
const pct = (p) => samples[Math.min(N - 1, Math.floor((p / 100) * N))];
const fmt = (us) => `${us.toFixed(1)} µs`;

console.log(`SigV4 sign, ${body.length}-byte POST, ${N} signs after ${WARMUP} warm-up (Node ${process.version})`);
console.log(`  mean ${fmt(mean)}   p50 ${fmt(pct(50))}   p99 ${fmt(pct(99))}   max ${fmt(samples[N - 1])}`);
console.log(`  target ≤ ${TARGET_US} µs per request: ${mean <= TARGET_US ? 'met' : 'NOT met'} (mean)`);
