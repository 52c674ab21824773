/**
 * What a SigV4 start-up loads (README, "Performance"): environment keys, with or without
 * an assumed role, sign and call STS without the AWS SDK; a profile still goes through the
 * SDK's chain. Observed in the spawned CLI through module hooks that record every import.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startFakeSts } from '../helpers/fake-sts.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import type { VerifierCredential } from '../helpers/sigv4-verifier.js';
import { initializedProxy } from '../helpers/spawn-proxy.js';

const REGION = 'eu-west-1';
const KEY = 'AKIDLOADING000000001';
const SECRET = 'loading-secret-0001';
const ROLE = 'arn:aws:iam::123456789012:role/loading';
const HOOK = pathToFileURL(resolve(import.meta.dirname, '../helpers/record-imports.mjs')).href;

const cleanups = useCleanups();

async function signedServer(lookup: (akid: string) => VerifierCredential | undefined): Promise<{ url: string; records: () => VerificationRecord[] }> {
  let records: VerificationRecord[] = [];
  const server = await startMcpServer({
    wrap: (inner) => {
      const v = createSigV4VerifyingHandler({ service: 'execute-api', region: REGION, credentials: lookup }, inner);
      records = v.records;
      return v.handler as never;
    },
  });
  cleanups.push(() => server.close());
  return { url: server.url, records: () => records };
}

/** Starts the proxy, initializes, makes one call; returns the packages it imported. */
async function packagesLoaded(env: Record<string, string>): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'msp-imports-')), 'imports.txt');
  writeFileSync(file, '');
  const p = await initializedProxy({ MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: REGION, NODE_OPTIONS: `--import ${HOOK}`, RECORD_IMPORTS_FILE: file, ...env }, cleanups);
  p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
  expect((await p.waitFor((m) => m.id === 1, 20_000)).result).toBeDefined();
  const packages = readFileSync(file, 'utf8')
    .split('\n')
    .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(packages)];
}

const awsPackages = (packages: string[]): string[] => packages.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@smithy/'));

describe('SigV4 start-up loads the AWS SDK only where it is needed', () => {
  it('environment keys: signed requests, no @aws-sdk or @smithy module', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const packages = await packagesLoaded({ MCP_ENDPOINT: s.url, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET });
    expect(s.records().length).toBeGreaterThan(0);
    for (const r of s.records()) expect(r.result).toMatchObject({ ok: true, accessKeyId: KEY });
    expect(awsPackages(packages)).toEqual([]);
  });

  it('environment keys + assumed role (AWS_ENDPOINT_URL_STS): one AssumeRole, no @aws-sdk or @smithy module', async () => {
    const sts = await startFakeSts({ credentials: { [KEY]: { secretAccessKey: SECRET } }, region: REGION });
    cleanups.push(() => sts.close());
    const s = await signedServer((akid) => {
      const issued = sts.issued.find((i) => i.accessKeyId === akid);
      return issued && { secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken };
    });
    const packages = await packagesLoaded({ MCP_ENDPOINT: s.url, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, ASSUME_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: sts.url });
    expect(sts.calls).toMatchObject([{ status: 200, signedBy: KEY }]);
    for (const r of s.records()) expect(r.result).toMatchObject({ ok: true, accessKeyId: sts.issued[0]!.accessKeyId });
    expect(awsPackages(packages)).toEqual([]);
  });

  it('a profile: the SDK chain loads and its keys sign', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const home = mkdtempSync(join(tmpdir(), 'msp-profile-'));
    const credentials = join(home, 'credentials');
    writeFileSync(credentials, `[dev]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`);
    const packages = await packagesLoaded({ MCP_ENDPOINT: s.url, AWS_PROFILE: 'dev', AWS_SHARED_CREDENTIALS_FILE: credentials });
    for (const r of s.records()) expect(r.result).toMatchObject({ ok: true, accessKeyId: KEY });
    expect(awsPackages(packages)).toContain('@aws-sdk/credential-providers');
  });
});
