#!/usr/bin/env node
/**
 * The "client" the MCP conformance suite grades (client mode,
 * https://github.com/modelcontextprotocol/conformance): an SDK client that talks to the
 * BUILT proxy over stdio, the way a host does, while the proxy talks to the suite's mock
 * server. The suite sees only the proxy's HTTP traffic, so the grade is the proxy's.
 *
 * Usage (the suite appends the mock server's URL):
 *   MCP_CONFORMANCE_SCENARIO=tools_call MCP_CONFORMANCE_PROTOCOL_VERSION=2025-11-25 \
 *     node scripts/conformance-driver.mjs http://localhost:PORT/mcp
 *
 * 2025 revisions are driven by the SDK v1 Client (initialize handshake); 2026-07-28 by the
 * SDK v2 Client pinned to that revision (per-request `_meta`, no initialize).
 * What each scenario expects the client to do is read from the suite's scenario sources.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin/mcp-signing-proxy.js');
const MODERN = '2026-07-28';

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
const url = process.argv.at(-1);
if (!scenario || !url?.startsWith('http')) {
  console.error('usage: MCP_CONFORMANCE_SCENARIO=<scenario> conformance-driver.mjs <server-url>');
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'msp-conformance-'));

/**
 * Scenarios whose mock authorization server hands out tokens for an authorization code only:
 * a person's browser login (README "OAuth" → "Browser login"). The proxy prints the
 * authorization URL (--no-browser) and the driver plays the person and the browser
 * (browser below). With the SDK v1 client the proxy runs the login itself
 * (--oauth-interactive). The SDK v2 client sends its first request, server/discover, from a
 * throw-away sibling process whose stderr it discards, so no person could see the URL
 * there: as the README tells people, the login is made first in a terminal
 * (`mcp-signing-proxy login URL`), and --oauth-interactive covers a later step-up.
 */
const CLIENT_CREDENTIALS = new Set(['auth/client-credentials-basic', 'auth/client-credentials-jwt', 'auth/pre-registration']);
const BROWSER_LOGIN = scenario.startsWith('auth/') && !CLIENT_CREDENTIALS.has(scenario);

/** The proxy's settings for a scenario: the credentials the suite hands a client in its context. */
function proxySettings() {
  const env = { MCP_ENDPOINT: url };
  const args = [];
  if (BROWSER_LOGIN) {
    // A token store of its own: no login from the developer's config, none left behind.
    env.XDG_CONFIG_HOME = join(scratch, 'config');
    env.MCP_OAUTH_LOGIN_TIMEOUT = '30';
    args.push('--oauth-interactive', '--no-browser');
    // The mock authorization server accepts this URL as a client id (it does not fetch it).
    if (scenario === 'auth/basic-cimd') env.MCP_OAUTH_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
  }
  if (context.name === 'auth/client-credentials-basic' || context.name === 'auth/pre-registration') {
    env.MCP_OAUTH_CLIENT_ID = context.client_id;
    env.MCP_OAUTH_CLIENT_SECRET = context.client_secret;
  } else if (context.name === 'auth/client-credentials-jwt') {
    const keyFile = join(scratch, 'client-key.pem');
    writeFileSync(keyFile, context.private_key_pem, { mode: 0o600 });
    env.MCP_OAUTH_CLIENT_ID = context.client_id;
    args.push('--oauth-private-key-file', keyFile);
  }
  return { env, args };
}

/** PATH and a scratch HOME only: nothing from the developer's AWS or MCP settings. */
function hermeticEnv(extra) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: scratch,
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_PROXY: '127.0.0.1,localhost',
    ...(process.env.MCP_LOG_LEVEL ? { MCP_LOG_LEVEL: process.env.MCP_LOG_LEVEL } : {}),
    ...extra,
  };
}

/**
 * The person at the browser: opens each authorization URL the proxy prints and follows the
 * redirects as a browser would, the last of which lands on the proxy's loopback listener.
 * The suite's mock authorization server approves at once (its /authorize answers 302 to
 * the redirect_uri with code, state and iss), so there is no page to click through.
 */
function browser(stderr) {
  let pending = '';
  stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = /open this URL(?: in a browser to log in)?: (\S+)$/.exec(line);
      if (m) follow(m[1]).catch((e) => console.error(`conformance-driver: the browser login failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  });
}

async function follow(start) {
  let next = new URL(start);
  for (let hop = 0; hop < 5; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    await res.arrayBuffer();
    if (res.status < 300 || res.status > 399 || location === null) {
      if (res.status !== 200) throw new Error(`${next.origin}${next.pathname} answered HTTP ${res.status}`);
      return;
    }
    next = new URL(location, next);
  }
  throw new Error('too many redirects');
}

/** `mcp-signing-proxy login URL --no-browser`, as a person runs it in a terminal. */
async function terminalLogin(env) {
  const child = spawn(process.execPath, [BIN, 'login', url, '--no-browser'], { env: hermeticEnv(Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'MCP_ENDPOINT'))), stdio: ['ignore', 'pipe', 'pipe'] });
  browser(child.stderr);
  child.stdout.pipe(process.stderr);
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`mcp-signing-proxy login exited with ${code}`);
}

async function connect() {
  const { env, args } = proxySettings();
  if (BROWSER_LOGIN && version === MODERN) await terminalLogin(env);
  const params = { command: process.execPath, args: [BIN, ...args], env: hermeticEnv(env), stderr: BROWSER_LOGIN ? 'pipe' : 'inherit' };
  const info = { name: 'mcp-signing-proxy-conformance', version: '1.0.0' };
  // The defaults scenario checks that the client fills in the schema's defaults itself.
  const applyDefaults = scenario === 'elicitation-sep1034-client-defaults';
  const capabilities = { elicitation: applyDefaults ? { form: { applyDefaults: true } } : {}, sampling: {}, roots: {} };
  const elicited = { action: 'accept', content: applyDefaults ? {} : { confirmed: true } };
  if (version === MODERN) {
    const { Client } = await import('@modelcontextprotocol/client');
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    const client = new Client(info, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
    client.setRequestHandler('elicitation/create', async () => elicited);
    const transport = new StdioClientTransport(params);
    if (BROWSER_LOGIN) browser(transport.stderr);
    await client.connect(transport);
    return client;
  }
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
  const client = new Client(info, { capabilities });
  client.setRequestHandler(ElicitRequestSchema, async () => elicited);
  const transport = new StdioClientTransport(params);
  if (BROWSER_LOGIN) browser(transport.stderr);
  await client.connect(transport);
  return client;
}

/** A call whose failure the scenario grades itself (e.g. a mock that serves only tools/list). */
async function tolerant(what, fn) {
  try {
    return await fn();
  } catch (e) {
    console.error(`conformance-driver: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/** What each scenario's mock expects the client to do, after connecting. */
const SCENARIOS = {
  // List, then call the first tool with the arguments the suite's reference client uses.
  async basic(client) {
    const { tools } = await client.listTools();
    if (tools[0]) await client.callTool({ name: tools[0].name, arguments: { a: 2, b: 3 } });
  },
  // The mock serves only tools/list; a conformant client never fetches the network $ref.
  async 'json-schema-ref-no-deref'(client) {
    await client.listTools();
  },
  // The mock closes the SSE stream mid-call and answers after the client reconnects.
  async 'sse-retry'(client) {
    await client.callTool({ name: 'test_reconnection', arguments: {} });
  },
  // The tool elicits with a schema full of defaults and reports what the client answered.
  async 'elicitation-sep1034-client-defaults'(client) {
    await client.listTools();
    await client.callTool({ name: 'test_client_elicitation_defaults', arguments: {} });
  },
  // The client must send back the inputSchema it was given, keyword for keyword.
  async 'json-schema-2020-12-preservation'(client) {
    const { tools } = await client.listTools();
    const focal = tools.find((t) => t.name === 'json_schema_2020_12_tool');
    if (!focal) throw new Error('the tool json_schema_2020_12_tool was not listed');
    await client.callTool({ name: 'json_schema_echo', arguments: { schema: focal.inputSchema } });
  },
  // server/discover is the v2 client's connect; then a plain listing.
  async 'request-metadata'(client) {
    await client.listTools();
  },
  // Every method that carries Mcp-Method / Mcp-Name.
  async 'http-standard-headers'(client) {
    const { tools } = await client.listTools();
    for (const tool of tools) await tolerant(`tools/call ${tool.name}`, () => client.callTool({ name: tool.name, arguments: {} }));
    const resources = await tolerant('resources/list', () => client.listResources());
    const first = resources?.resources?.[0];
    if (first) await tolerant('resources/read', () => client.readResource({ uri: first.uri }));
    const prompts = await tolerant('prompts/list', () => client.listPrompts());
    const prompt = prompts?.prompts?.[0];
    if (prompt) await tolerant('prompts/get', () => client.getPrompt({ name: prompt.name, arguments: {} }));
  },
  // The suite hands the calls (encoding edge cases) in its context; the proxy learns the
  // x-mcp-header annotations from the tools/list it relays first.
  async 'http-custom-headers'(client) {
    await client.listTools();
    for (const call of context.toolCalls ?? []) await tolerant(`tools/call ${call.name}`, () => client.callTool(call));
  },
  // Call every tool the proxy lists: the ones with invalid x-mcp-header annotations must not be among them.
  async 'http-invalid-tool-headers'(client) {
    const { tools } = await client.listTools();
    for (const tool of tools) await tolerant(`tools/call ${tool.name}`, () => client.callTool({ name: tool.name, arguments: {} }));
  },
  // input_required rounds: the v2 client fulfils elicitation and retries with the echoed requestState.
  async 'sep-2322-client-request-state'(client) {
    await client.listTools();
    for (const name of ['test_mrtr_echo_state', 'test_mrtr_unrelated', 'test_mrtr_no_state', 'test_mrtr_no_result_type']) {
      await tolerant(`tools/call ${name}`, () => client.callTool({ name, arguments: {} }));
    }
  },
};

const run = SCENARIOS[scenario] ?? SCENARIOS.basic;
let code = 0;
let client;
try {
  client = await connect();
  await run(client);
} catch (e) {
  console.error(`conformance-driver: ${scenario} (${version}) failed: ${e instanceof Error ? e.message : String(e)}`);
  code = 1;
} finally {
  await client?.close().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(code);
