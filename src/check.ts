import type { Config } from './config/config.js';
import type { Layered } from './config/config-file.js';
import type { Logger } from './logging/logger.js';
import { safeUrl } from './logging/safe-url.js';
import type { Signer } from './signers/signer.js';
import type { ClientIdentitySource } from './tls/identity-source.js';
import type { HttpClient } from './transport/http-client.js';
import { configurationStage } from './check/config-stage.js';
import { credentialsStage } from './check/credentials-stage.js';
import { mcpStage } from './check/mcp-stage.js';
import { clientCertificateStage, networkStages } from './check/network-stage.js';
import { passed, renderJson, renderText, type CheckReport, type Stage } from './check/report.js';

export interface CheckOptions {
  /** The settings with their sources, for the configuration stage. */
  readonly layered: Layered;
  /** --json: one JSON document instead of lines. */
  readonly json: boolean;
}

export interface CheckStack {
  readonly http: HttpClient;
  readonly signers: readonly Signer[];
  readonly identity: ClientIdentitySource | undefined;
}

/**
 * `--check` (README "Diagnosing: --check"): the same stack a host run builds, examined stage
 * by stage — configuration, credentials (who the proxy signs as), network (DNS, proxy,
 * TLS) and the MCP exchange — and reported for a person, or as JSON with --json. The MCP
 * exchange runs before the credentials are described, so an OAuth token shown is the one
 * that was sent; the report keeps the reading order.
 */
export async function runCheck(config: Config, stack: CheckStack, logger: Logger, version: string, opts: CheckOptions): Promise<boolean> {
  const now = Date.now();
  const configuration = configurationStage(config, opts.layered);
  const certificate = clientCertificateStage(stack.identity, now);
  const network = await networkStages(config, stack.identity, logger);
  const mcp: Stage = network.reachable
    ? await mcpStage(config, stack.http, logger, version)
    : { id: 'mcp', status: 'skip', summary: 'not tried: the network stages failed' };
  const credentials = await credentialsStage(config, stack.signers, mcp.status === 'fail', logger, Date.now());
  const report: CheckReport = {
    version,
    endpoint: safeUrl(config.endpoint),
    stages: [configuration, credentials, ...(certificate === undefined ? [] : [certificate]), ...network.stages, mcp],
  };
  process.stdout.write(opts.json ? renderJson(report) : renderText(report));
  return passed(report);
}
