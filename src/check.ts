import { PassThrough } from 'node:stream';
import type { Config } from './config/config.js';
import type { Logger } from './logging/logger.js';
import { safeUrl } from './logging/safe-url.js';
import { Relay } from './proxy.js';
import { policyHook } from './policy/policy-hook.js';
import { StdoutWriter } from './stdio/stdout-writer.js';
import type { HttpClient } from './transport/http-client.js';
import { createTransport } from './transport/create-transport.js';

const CHECK_TIMEOUT_MS = 30_000;

interface Answer {
  result?: Record<string, unknown>;
  error?: { message: string };
}

/**
 * `--check`: one scripted session through the real relay, signers and transport
 * (initialize, tools/list, DELETE), reported for a person. It answers "would my host connect,
 * and if not, why" with the same configuration the host would pass.
 */
export async function runCheck(config: Config, http: HttpClient, logger: Logger, version: string, print: (line: string) => void): Promise<boolean> {
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
  // The tool policy applies, so the check lists what the host will see; pinning and the
  // audit log do not: a check records nothing.
  const relay = new Relay({ writer: new StdoutWriter(sink, () => undefined), logger, hooks: config.policy === undefined ? [] : [policyHook(config.policy, logger)] });
  const transport = createTransport({ endpoint: config.endpoint, http, logger, mode: config.transport, protocol: config.protocol });
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

  const { auth } = config;
  const how = auth.kind === 'sigv4' ? `sigv4 ${auth.service}/${auth.region}${auth.assumeRole ? ` as ${auth.assumeRole.roleArn}` : ''}` : auth.kind;
  print(`mcp-signing-proxy ${version} check: ${safeUrl(config.endpoint)} (signer: ${how}${config.tls.clientCert || config.tls.clientPfx ? ', mTLS' : ''})`);
  let ok = false;
  const init = await call(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-signing-proxy-check', version } });
  if (init.error !== undefined) {
    print(`✘ initialize: ${init.error.message}`);
  } else {
    const info = init.result?.serverInfo as { name?: string; version?: string } | undefined;
    print(`✔ initialize: ${info?.name ?? '?'} ${info?.version ?? ''} (protocol ${String(init.result?.protocolVersion)}, transport ${transport.transportName?.() ?? config.transport})`);
    send({ method: 'notifications/initialized' });
    const tools = await call(2, 'tools/list', {});
    if (tools.error !== undefined) {
      print(`✘ tools/list: ${tools.error.message}`);
    } else {
      const names = ((tools.result?.tools as Array<{ name: string }> | undefined) ?? []).map((t) => t.name);
      print(`✔ tools/list: ${names.length} tool${names.length === 1 ? '' : 's'}${names.length ? ` (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})` : ''}`);
      ok = true;
    }
  }
  await relay.shutdown('check finished');
  return ok;
}
