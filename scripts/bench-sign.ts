/**
 * Per-request cost of the SigV4 signer (target ≤ 0.15 ms), side by side with the AWS SDK's
 * signer (@smithy/signature-v4, a dev dependency: the implementation ours replaced) in one
 * run: both sign a typical 1 KB MCP tools/call POST with temporary credentials, in
 * alternating rounds after a warm-up, and the script prints mean, p50 and p99 of each.
 * Informational only; timings are never asserted (shared, noisy machines).
 *
 *   npx tsc -p tsconfig.tools.json && node .build/scripts/bench-sign.js [N]
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createLogger } from '../src/logging/logger.js';
import type { OutgoingRequest, SignContext } from '../src/signers/signer.js';
import { createSigV4Signer } from '../src/signers/sigv4.js';

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = 10;
const WARMUP = 2_000;
const TARGET_US = 150;
const SERVICE = 'execute-api';
const REGION = 'us-east-1';

// A memoised source answers from memory on the hot path, so a resolved promise models it.
const credentials = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjE'.padEnd(900, 'x'),
  expiration: new Date(Date.now() + 3_600_000),
};
const ours = createSigV4Signer({ service: SERVICE, region: REGION, credentials: async () => credentials });
const sdk = new SignatureV4({ service: SERVICE, region: REGION, credentials: async () => credentials, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: true });

const body = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 42,
    method: 'tools/call',
    params: { name: 'search_documents', arguments: { query: 'quarterly revenue by region — café 🚀', filter: 'x'.repeat(860) } },
  }),
  'utf8',
);
const request: OutgoingRequest = {
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
const ctx: SignContext = { now: Date.now, attempt: 1, logger: createLogger('silent') };

/** As the SDK path did per request: a smithy HttpRequest with the signable headers and Host. */
async function sdkSign(): Promise<void> {
  const { url } = request;
  await sdk.sign(new HttpRequest({ method: request.method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, headers: { ...request.headers, host: url.host }, body }), { signingDate: new Date() });
}
const oursSign = async (): Promise<void> => void (await ours.sign(request, ctx));

async function time(sign: () => Promise<void>, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await sign();
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  }
}

for (let i = 0; i < WARMUP; i++) {
  await oursSign();
  await sdkSign();
}
const samples = { ours: [] as number[], sdk: [] as number[] };
// Alternating rounds: a slow phase of the machine hits both alike.
for (let r = 0; r < ROUNDS; r++) {
  await time(oursSign, N / ROUNDS, samples.ours);
  await time(sdkSign, N / ROUNDS, samples.sdk);
}

interface Stats {
  mean: number;
  p50: number;
  p99: number;
}
function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50: at(50), p99: at(99) };
}
const fmt = (us: number): string => `${us.toFixed(1)} µs`;
const o = stats(samples.ours);
const s = stats(samples.sdk);

console.log(`SigV4 sign, ${body.length}-byte POST, ${samples.ours.length} signs each after ${WARMUP} warm-up, ${ROUNDS} alternating rounds (Node ${process.version})`);
console.log(`  ours (src/signers/sigv4.ts)       mean ${fmt(o.mean)}   p50 ${fmt(o.p50)}   p99 ${fmt(o.p99)}`);
console.log(`  SDK (@smithy/signature-v4)        mean ${fmt(s.mean)}   p50 ${fmt(s.p50)}   p99 ${fmt(s.p99)}`);
console.log(`  ours / SDK (p50): ${(o.p50 / s.p50).toFixed(2)}×; target ≤ ${TARGET_US} µs per request: ${o.mean <= TARGET_US ? 'met' : 'NOT met'} (mean)`);
