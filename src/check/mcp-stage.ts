import { PassThrough } from 'node:stream';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { Relay } from '../proxy.js';
import { policyHook } from '../policy/policy-hook.js';
import { StdoutWriter } from '../stdio/stdout-writer.js';
import type { HttpClient } from '../transport/http-client.js';
import { createTransport } from '../transport/create-transport.js';
import { EraBridgeTransport, type ProtocolMode } from '../transport/era-bridge/transport.js';
import type { Stage } from './report.js';

const CHECK_TIMEOUT_MS = 30_000;
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

interface Answer {
  result?: Record<string, unknown>;
  error?: { message: string; data?: { hint?: string; httpStatus?: number } };
}

/** What a failed answer says, split into the message and the fix the relay appended. */
function failure(id: string, answer: Answer, step: string): Stage {
  const hint = answer.error?.data?.hint;
  let message = answer.error?.message ?? 'no answer';
  if (hint !== undefined) message = message.replace(` (fix: ${hint})`, '');
  return { id, status: 'fail', summary: `${step}: ${message}`, fix: hint ?? 'run again with --debug and read the log on stderr' };
}

/**
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http
 * ("Backward Compatibility"): 401, 403 and 5xx say nothing about the protocol era, so they
 * end the check instead of falling back to initialize.
 */
function eraEvidence(answer: Answer): boolean {
  const status = answer.error?.data?.httpStatus;
  return !(status === 401 || status === 403 || (status !== undefined && status >= 500));
}

/** One session through the real relay, signers and transport, as the host's would be. */
function session(config: Config, http: HttpClient, logger: Logger, protocol: ProtocolMode) {
  const sink = new PassThrough();
  const waiting = new Map<number, (a: Answer) => void>();
  let pending = '';
  sink.setEncoding('utf8');
  sink.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const msg = JSON.parse(line) as Answer & { id?: number; method?: string };
      // Only answers count: a server request (a ping) may use the same id.
      if (typeof msg.id === 'number' && msg.method === undefined) waiting.get(msg.id)?.(msg);
    }
  });
  const relay = new Relay({ writer: new StdoutWriter(sink, () => undefined), logger, hooks: config.policy === undefined ? [] : [policyHook(config.policy, logger)] });
  const transport = createTransport({ endpoint: config.endpoint, http, logger, mode: config.transport, protocol });
  relay.attach(transport);
  const send = (msg: object) => relay.handleLine(Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg })));
  const call = (id: number, method: string, params: object) =>
    new Promise<Answer>((resolve) => {
      // The dispatcher has no response timeout (long tool calls); a check must end.
      const timer = setTimeout(() => resolve({ error: { message: `no answer within ${CHECK_TIMEOUT_MS / 1000} s` } }), CHECK_TIMEOUT_MS);
      waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      send({ id, method, params });
    });
  return { transport, send, call, close: () => relay.shutdown('check finished') };
}

/** What a 2025-era host gets from a 2026-07-28 server with the configured --protocol. */
interface LegacyHost {
  readonly outcome: 'bridged' | 'served' | 'refused';
  readonly answer: Answer;
}

/**
 * The check speaks 2026-07-28 itself; most hosts still initialize as 2025 clients, and
 * whether they connect depends on --protocol (README "Bridging 2025 hosts"): one initialize
 * as such a host sends it, through the same stack with the configured protocol.
 */
async function legacyHost(config: Config, http: HttpClient, logger: Logger, clientInfo: object): Promise<LegacyHost> {
  const s = session(config, http, logger, config.protocol);
  try {
    const answer = await s.call(1, 'initialize', { protocolVersion: LEGACY, capabilities: {}, clientInfo });
    if (answer.error !== undefined) return { outcome: 'refused', answer };
    return { outcome: s.transport instanceof EraBridgeTransport && s.transport.isBridged() ? 'bridged' : 'served', answer };
  } finally {
    await s.close();
  }
}

const LEGACY_HOST_SUMMARY: Record<LegacyHost['outcome'], string> = {
  bridged: 'a 2025 host is bridged',
  served: 'a 2025 host is served by the server itself',
  refused: 'a 2025 host is refused',
};

/**
 * One scripted session through the real relay, signers and transport: `server/discover`
 * (MCP 2026-07-28) first, `initialize` (2025-11-25) when the server does not speak it, then
 * tools/list and the session's DELETE; for a 2026-07-28 server, then what a 2025 host gets.
 * The tool policy applies, so the count is what the host will see; pinning and the audit
 * log do not: a check records nothing.
 */
export async function mcpStage(config: Config, http: HttpClient, logger: Logger, version: string): Promise<Stage> {
  const { transport, send, call, close } = session(config, http, logger, 'passthrough');
  const clientInfo = { name: 'mcp-signing-proxy-check', version };
  let legacy: LegacyHost | undefined;
  try {
    // Legacy HTTP+SSE predates server/discover: only Streamable HTTP is probed with it.
    let era: 'discover' | 'initialize' = config.transport === 'auto' || config.transport === 'streamable-http' ? 'discover' : 'initialize';
    let meta: object | undefined;
    let hello: Answer | undefined;
    if (era === 'discover') {
      meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': clientInfo, 'io.modelcontextprotocol/clientCapabilities': {} };
      hello = await call(1, 'server/discover', { _meta: meta });
      const versions = hello.result?.supportedVersions;
      if (hello.error !== undefined && !eraEvidence(hello)) return failure('mcp', hello, 'server/discover');
      if (!Array.isArray(versions) || !versions.includes(MODERN)) {
        era = 'initialize';
        meta = undefined;
      }
    }
    if (era === 'initialize') {
      hello = await call(2, 'initialize', { protocolVersion: LEGACY, capabilities: {}, clientInfo });
      if (hello.error !== undefined) return failure('mcp', hello, 'initialize');
      send({ method: 'notifications/initialized' });
    }
    // A DiscoverResult carries it in _meta (MCP 2026-07-28, server/discover); InitializeResult as serverInfo.
    const resultMeta = hello?.result?._meta as Record<string, unknown> | undefined;
    const info = (hello?.result?.serverInfo ?? resultMeta?.['io.modelcontextprotocol/serverInfo']) as { name?: string; version?: string } | undefined;
    const protocol = era === 'discover' ? MODERN : String(hello?.result?.protocolVersion);
    const transportName = transport.transportName?.() ?? (config.transport === 'auto' ? 'streamable-http' : config.transport);
    const tools = await call(3, 'tools/list', meta === undefined ? {} : { _meta: meta });
    if (tools.error !== undefined) return failure('mcp', tools, 'tools/list');
    const names = ((tools.result?.tools as Array<{ name: string }> | undefined) ?? []).map((t) => t.name);
    await close();
    if (era === 'discover') legacy = await legacyHost(config, http, logger, clientInfo);
    const refusal = legacy?.outcome === 'refused' ? failure('mcp', legacy.answer, 'initialize') : undefined;
    const summary = `${info?.name ?? '?'} ${info?.version ?? ''}, protocol ${protocol} (${era === 'discover' ? 'server/discover' : 'initialize'}), transport ${transportName}; ${names.length} tool${names.length === 1 ? '' : 's'}`;
    return {
      id: 'mcp',
      status: refusal === undefined ? 'ok' : 'fail',
      summary: legacy === undefined ? summary : `${summary}; ${LEGACY_HOST_SUMMARY[legacy.outcome]}${refusal === undefined ? '' : ` (${refusal.summary})`}`,
      details: { tools: names.length > 0 ? `${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}` : undefined },
      ...(refusal !== undefined && {
        fix: config.protocol === 'passthrough' ? 'use --protocol auto (MCP_PROTOCOL=auto): the proxy then bridges 2025 hosts to this server' : refusal.fix,
      }),
      data: { serverInfo: info, protocolVersion: protocol, era: era === 'discover' ? 'server/discover' : 'initialize', transport: transportName, toolCount: names.length, tools: names, ...(legacy !== undefined && { legacyHost: legacy.outcome }) },
    };
  } finally {
    await close();
  }
}
