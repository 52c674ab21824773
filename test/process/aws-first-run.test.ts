/**
 * What a new SigV4 user meets at the first start, through the spawned proxy: the region
 * taken from the AWS profile, errors that name the credential source actually used, and a
 * stderr free of the AWS SDK's multi-line Node-version warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startFakeSts, type FakeSts } from '../helpers/fake-sts.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { startScriptedServer } from '../helpers/scripted-server.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../helpers/sigv4-server.js';
import type { VerifierCredential } from '../helpers/sigv4-verifier.js';
import { connectClient, type ConnectedClient } from '../helpers/spawn-proxy.js';

const REGION = 'eu-west-1';
const KEY = 'AKIDFIRSTRUN00000001';
const SECRET = 'CANARYSECRETfirstrun01';
const ROLE = 'arn:aws:iam::123456789012:role/mcp-first-run';

const cleanups = useCleanups();

async function signedServer(lookup: (akid: string) => VerifierCredential | undefined): Promise<{ server: McpTestServer; records: () => VerificationRecord[] }> {
  let records: VerificationRecord[] = [];
  const server = await startMcpServer({
    wrap: (inner) => {
      const v = createSigV4VerifyingHandler({ service: 'execute-api', region: REGION, credentials: lookup }, inner);
      records = v.records;
      return v.handler as never;
    },
  });
  cleanups.push(() => server.close());
  return { server, records: () => records };
}

async function connect(env: Record<string, string>): Promise<ConnectedClient> {
  const c = await connectClient(env);
  cleanups.push(() => c.close());
  return c;
}

/** The client-visible part of a failed connect (connectClient appends the proxy's stderr). */
async function connectError(env: Record<string, string>): Promise<{ client: string; stderr: string }> {
  const err = await connectClient(env).then(
    async (c) => {
      await c.close();
      return expect.unreachable('expected the connection to fail');
    },
    (e: Error) => e,
  );
  const [client = '', stderr = ''] = err.message.split('\nproxy stderr');
  expect(err.message).not.toContain('CANARY');
  return { client, stderr };
}

/** A temp HOME with an AWS config (and credentials) file; env pointing at them. */
function awsFiles(config: string, credentials = ''): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'msp-firstrun-'));
  writeFileSync(join(home, 'config'), config);
  writeFileSync(join(home, 'credentials'), credentials);
  return { HOME: home, AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
}

async function fakeSts(): Promise<FakeSts> {
  const sts = await startFakeSts({ credentials: { [KEY]: { secretAccessKey: SECRET } }, region: REGION, secretPrefix: 'CANARYASSUMED' });
  cleanups.push(() => sts.close());
  return sts;
}

describe('signing region from the AWS profile', () => {
  it('AWS_PROFILE=dev with region only in [profile dev] starts and signs for that region', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const files = awsFiles(`[profile dev]\nregion = ${REGION}\nsso_region = us-east-1\n`, `[dev]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`);
    // A loopback URL names no region, as a custom domain does; no AWS_REGION anywhere.
    const c = await connect({ ...files, MCP_ENDPOINT: s.server.url, MCP_SIGV4_SERVICE: 'execute-api', AWS_PROFILE: 'dev' });
    const tools = await c.client.listTools();
    expect(tools.tools.length).toBeGreaterThan(0);
    expect(s.records().length).toBeGreaterThan(0);
    expect(s.records().every((r) => r.result.ok)).toBe(true);
  });
});

describe('errors name the credential source actually used', () => {
  it('a wrong source secret in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the demo) names the environment keys', async () => {
    const sts = await fakeSts();
    const s = await signedServer(() => undefined);
    const { client } = await connectError({
      MCP_ENDPOINT: s.server.url,
      MCP_SIGV4_SERVICE: 'execute-api',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: KEY,
      AWS_SECRET_ACCESS_KEY: 'CANARYwrongsecret',
      ASSUME_ROLE_ARN: ROLE,
      AWS_ENDPOINT_URL_STS: sts.url,
    });
    expect(client).toContain(`the source credentials (environment keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) used to assume ${ROLE} were rejected by STS`);
    expect(client).not.toContain('profile "default"');
    expect(client).not.toContain('aws sso login');
  });

  it('a signature mismatch at the server names the profile whose keys signed', async () => {
    const s = await signedServer((akid) => (akid === KEY ? { secretAccessKey: SECRET } : undefined));
    const files = awsFiles('', `[dev]\naws_access_key_id = ${KEY}\naws_secret_access_key = CANARYwrongsecret\n`);
    const { client } = await connectError({ ...files, MCP_ENDPOINT: s.server.url, MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: REGION, AWS_PROFILE: 'dev' });
    expect(client).toMatch(/different SigV4 signature .*signed with credentials from the static keys of profile "dev"/);
  });

  it('a credential_process that prints expired credentials says exactly that, briefly', async () => {
    const home = mkdtempSync(join(tmpdir(), 'msp-firstrun-'));
    const script = join(home, 'creds.mjs');
    const past = new Date(Date.now() - 3600_000).toISOString();
    writeFileSync(script, `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: '${KEY}', SecretAccessKey: '${SECRET}', SessionToken: 'CANARYTOKEN', Expiration: '${past}' }));`);
    const files = awsFiles(`[profile proc]\ncredential_process = ${process.execPath} ${script}\n`);
    const s = await signedServer(() => undefined);
    const { client } = await connectError({ ...files, MCP_ENDPOINT: s.server.url, MCP_SIGV4_SERVICE: 'execute-api', AWS_REGION: REGION, AWS_PROFILE: 'proc' });
    expect(client).toContain('mcp-signing-proxy: the credential_process of profile "proc" returned expired credentials');
    expect(client).not.toContain('no AWS credentials found');
    expect(client.length).toBeLessThan(500);
  });
});

describe('a server that wants credentials nobody configured', () => {
  it.each([401, 403])('HTTP %i with signer none and no headers says that no credentials are configured', async (status) => {
    const server = await startScriptedServer((_req, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end('Unauthorized'));
    cleanups.push(() => server.close());
    const { client } = await connectError({ MCP_ENDPOINT: server.url });
    expect(client).toContain(`the server rejected the request as unauthorized (HTTP ${status}); no credentials are configured`);
    expect(client).toMatch(/MCP_BEARER_TOKEN/);
    expect(client).toMatch(/--signer sigv4/);
  });
});

describe('stderr at a SigV4 start', () => {
  it('no multi-line AWS SDK warning (NodeVersionSupportWarning on Node 20): every stderr line is one of ours', async () => {
    const sts = await fakeSts();
    const s = await signedServer((akid) => {
      const issued = sts.issued.find((i) => i.accessKeyId === akid);
      return issued === undefined ? undefined : { secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken };
    });
    // hermeticEnv switches the warning off for every other test; a host does not.
    const c = await connect({
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '',
      MCP_ENDPOINT: s.server.url,
      MCP_SIGV4_SERVICE: 'execute-api',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      ASSUME_ROLE_ARN: ROLE,
      AWS_ENDPOINT_URL_STS: sts.url,
    });
    await c.client.listTools();
    expect(sts.calls.length).toBe(1); // an SDK client (STS) was built: where the SDK warns
    await c.close();
    const stderr = c.stderr();
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr).not.toContain('AWS SDK for JavaScript (v3)');
    const foreign = stderr.split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(foreign).toEqual([]);
  });
});
