/**
 * `npm run demo`: the main job end to end on this machine, no AWS account needed.
 *
 * A local MCP server behind an independent SigV4 verifier (the stand-in for API Gateway
 * IAM auth) and a local STS are started on 127.0.0.1. The built proxy is launched the way
 * Claude Code launches it, assumes a role through STS, signs every request, and a real MCP
 * client lists tools and calls them through it. Then the same with a wrong secret, to show
 * the error a user would see.
 */
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { startFakeSts } from '../test/helpers/fake-sts.js';
import { startMcpServer } from '../test/helpers/mcp-server.js';
import { createSigV4VerifyingHandler, type VerificationRecord } from '../test/helpers/sigv4-server.js';
import { connectClient } from '../test/helpers/spawn-proxy.js';

const SOURCE_KEY = 'AKIDDEMOSOURCE000001';
const SOURCE_SECRET = 'demo-source-secret-do-not-use';
const ROLE = 'arn:aws:iam::123456789012:role/mcp-demo-role';
const say = (s = '') => process.stdout.write(s + '\n');

const sts = await startFakeSts({ credentials: { [SOURCE_KEY]: { secretAccessKey: SOURCE_SECRET } }, region: 'us-east-1' });
let records: VerificationRecord[] = [];
const server = await startMcpServer({
  wrap: (inner) => {
    const v = createSigV4VerifyingHandler(
      {
        service: 'execute-api',
        region: 'us-east-1',
        credentials: (akid) => sts.issued.find((c) => c.accessKeyId === akid),
      },
      inner,
    );
    records = v.records;
    return v.handler as (req: any, res: any, body: Buffer) => Promise<void>;
  },
});

const env = (secret: string) => ({
  MCP_ENDPOINT: server.url,
  MCP_SIGV4_SERVICE: 'execute-api',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: SOURCE_KEY,
  AWS_SECRET_ACCESS_KEY: secret,
  ASSUME_ROLE_ARN: ROLE,
  AWS_ENDPOINT_URL_STS: sts.url,
  MCP_LOG_LEVEL: 'warn',
});

let ok = true;
say('mcp-signing-proxy demo');
say(`  remote MCP server (SigV4-verifying, like API Gateway IAM auth): ${server.url}`);
say(`  local STS: ${sts.url}`);
say(`  role to assume: ${ROLE}\n`);

const c = await connectClient(env(SOURCE_SECRET));
try {
  const info = c.client.getServerVersion();
  say(`✔ initialize → ${info?.name} ${info?.version}`);
  const tools = await c.client.listTools();
  say(`✔ tools/list → ${tools.tools.map((t) => t.name).join(', ')}`);
  const echo = await c.client.callTool({ name: 'echo', arguments: { text: 'hello through SigV4 — café 🚀' } });
  say(`✔ tools/call echo → ${JSON.stringify((echo.content as Array<{ text: string }>)[0]?.text)}`);
  const steps: number[] = [];
  await c.client.callTool({ name: 'progress', arguments: { steps: 3 } }, CallToolResultSchema, { onprogress: (p) => steps.push(p.progress) });
  say(`✔ tools/call progress → notifications ${steps.join(', ')}`);
} catch (err) {
  ok = false;
  say(`✘ ${(err as Error).message}`);
  say(c.stderr());
}
await c.close();

const verified = records.filter((r) => r.result.ok);
const keys = new Set(verified.map((r) => (r.result.ok ? r.result.accessKeyId : '')));
const headers = verified[0]?.result.ok ? verified[0].result.signedHeaders.join(';') : '';
say(`\nThe server verified ${verified.length} of ${records.length} requests (POST, GET stream, DELETE),`);
say(`signed with the assumed role's key ${[...keys].join(', ')} — AssumeRole calls: ${sts.calls.length}.`);
say(`Signed headers: ${headers}`);
if (verified.length === 0 || verified.length !== records.length || !sts.issued.some((i) => keys.has(i.accessKeyId))) ok = false;

say('\nNow with a wrong source secret — what the user sees in Claude Code:');
const bad = await connectClient(env('wrong-secret')).catch((err: Error) => ({ error: err }));
if ('error' in bad) {
  say(`  ${bad.error.message.split('\nproxy stderr')[0]}`);
} else {
  const r = await bad.client.listTools().then(() => 'unexpectedly succeeded', (err: Error) => err.message);
  say(`  ${r}`);
  if (r === 'unexpectedly succeeded') ok = false;
  await bad.close();
}

await server.close();
await sts.close();
say(ok ? '\nDemo passed.' : '\nDemo FAILED.');
process.exit(ok ? 0 : 1);
