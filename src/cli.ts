import { Console } from 'node:console';
import type { Config } from './config/config.js';
import { ConfigError, ProxyError } from './errors.js';
import { createLogger, type Logger } from './logging/logger.js';
import { registerSecret, safeUrl } from './logging/safe-url.js';
import { auditIdentity } from './audit/audit-identity.js';
import { leastPrivilegeHooks, type LeastPrivilege } from './least-privilege.js';
import { Relay } from './proxy.js';
import { buildSignerChain } from './signers/build-chain.js';
import type { Signer } from './signers/signer.js';
import { describeSigner, registerConfiguredSecrets } from './signers/registry.js';
import { LineFramer } from './stdio/line-framer.js';
import { StdoutWriter } from './stdio/stdout-writer.js';
import { createDispatcher } from './transport/dispatcher.js';
import { HttpClient } from './transport/http-client.js';
import { createTransport } from './transport/create-transport.js';
import { ToolHeaders } from './transport/streamable-http/tool-headers.js';
import { toolHeadersHook } from './relay/tool-headers-hook.js';
import type { ClientIdentitySource } from './tls/identity-source.js';
import { failStartup } from './startup-error.js';
import type { CheckOptions } from './check.js';
import { version } from './version.js';

// Stdout is the protocol (MCP stdio transport): no console method of any dependency may
// reach it.
globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });

/** Hard bound on shutdown: the client sends SIGTERM after closing stdin (https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle, "Shutdown"; the TypeScript SDK waits 2 s). */
const SHUTDOWN_DEADLINE_MS = 1500;

/** One start-up line with the effective configuration; names and paths only, no secrets. */
function logStartup(log: Logger, config: Config): void {
  log.info(
    {
      version: version(),
      endpoint: safeUrl(config.endpoint),
      transport: config.transport,
      signer: config.signer,
      headers: config.headers.map(([name]) => name),
      ...describeSigner(config.auth),
      tls: {
        clientCert: config.tls.clientCert ?? config.tls.clientPfx,
        caCert: config.tls.caCert,
        insecure: config.tls.insecure || undefined,
      },
      envProxy: config.network.envProxy,
      policy: config.policy,
      pinTools: config.pinTools,
      audit: config.audit,
      maxResponseBytes: config.maxResponseBytes,
    },
    'mcp-signing-proxy starting',
  );
}

/** Runs the relay (or `--check`) with a validated configuration; see main.ts for start-up. */
export async function run(config: Config, check: CheckOptions | undefined): Promise<void> {
  // Before the first log line, which prints the endpoint URL: a configured secret may sit in
  // its path. Secrets read later (token files, helper output, proxy URL) register themselves.
  registerConfiguredSecrets(config.auth);
  for (const [, value] of config.headers) registerSecret(value);
  let log: Logger;
  try {
    log = createLogger(config.log.level, config.log.file);
  } catch (err) {
    return failStartup(err, { answerClient: !check });
  }
  logStartup(log, config);
  let relay: Relay | undefined;
  let http: HttpClient;
  let signers: Signer[];
  let leastPrivilege: LeastPrivilege | undefined;
  const tls: { identity?: ClientIdentitySource } = {};
  try {
    const dispatcher = createDispatcher(config, log, tls);
    signers = await buildSignerChain(config, log, dispatcher);
    http = new HttpClient({
      dispatcher,
      signers,
      logger: log,
      clientCertificate: config.tls.clientCert !== undefined || config.tls.clientPfx !== undefined,
      maxConnections: config.network.maxConnections,
      maxResponseBytes: config.maxResponseBytes,
    });
    if (!check) leastPrivilege = await leastPrivilegeHooks(config, log, auditIdentity(config, signers, tls.identity));
  } catch (err) {
    if (err instanceof ConfigError) log.error({ err }, 'invalid configuration');
    log.flush?.();
    // Unreadable TLS files, a broken signer module …: for scripts the failed configuration stage.
    if (check?.json && err instanceof ProxyError) process.stdout.write((await import('./check/report.js')).configurationFailure(err.message, err.hint, version()));
    return failStartup(err, { answerClient: !check });
  }

  if (check) {
    const { runCheck } = await import('./check.js');
    const ok = await runCheck(config, { http, signers, identity: tls.identity }, log, version(), check);
    log.flush?.();
    process.exit(ok ? 0 : 1);
  }

  const writer = new StdoutWriter(process.stdout, () => void stop('stdout closed', 0));
  // First in the chain: the tools with invalid x-mcp-header annotations are gone before
  // policy and pins judge the list. Legacy HTTP+SSE has no such headers: no hook there.
  const toolHeaders = new ToolHeaders();
  const headerHooks = config.transport === 'sse' ? [] : [toolHeadersHook(toolHeaders, log)];
  relay = new Relay({ writer, logger: log, hooks: [...headerHooks, ...(leastPrivilege?.hooks ?? [])] });
  relay.attach(createTransport({ endpoint: config.endpoint, http, logger: log, mode: config.transport, toolHeaders, protocol: config.protocol }));

  const framer = new LineFramer(
    config.maxLineBytes,
    (line) => relay?.handleLine(line),
    (bytes) => relay?.handleOversized(bytes, config.maxLineBytes),
  );

  let stopping = false;
  async function stop(reason: string, code: number, bySignal = false): Promise<void> {
    if (stopping) {
      // A second signal: the user wants out now. Other triggers (EPIPE while answering,
      // stdin ending) just join the shutdown under way.
      if (bySignal) process.exit(1);
      return;
    }
    stopping = true;
    process.stdin.pause();
    const deadline = Date.now() + SHUTDOWN_DEADLINE_MS;
    setTimeout(() => process.exit(code), SHUTDOWN_DEADLINE_MS).unref();
    try {
      await relay?.shutdown(reason);
      // The shutdown answers are audited too: queued lines and pins get what is left of
      // the deadline, with a margin for the log flush and the exit.
      await leastPrivilege?.close(Math.max(0, deadline - Date.now() - 100));
    } finally {
      log.flush?.();
      process.exit(code);
    }
  }

  process.stdin.on('data', (chunk: Buffer) => framer.push(chunk));
  process.stdin.on('end', () => {
    framer.end();
    void stop('stdin closed', 0);
  });
  process.stdin.on('error', () => void stop('stdin error', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0, true));
  process.on('SIGINT', () => void stop('SIGINT', 0, true));
  process.on('SIGHUP', () => void stop('SIGHUP', 0, true));
  process.on('uncaughtException', (err) => {
    log.fatal({ err: { name: err.name, code: (err as NodeJS.ErrnoException).code } }, 'unexpected failure; shutting down');
    void stop('internal error', 1);
  });
}
