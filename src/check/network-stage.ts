import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { safeHostname, safeOrigin } from '../logging/safe-url.js';
import type { ClientIdentitySource } from '../tls/identity-source.js';
import { proxyFor, readProxyEnv } from '../tls/proxy-env.js';
import { loadCaBundle } from '../tls/trust.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Stage } from './report.js';
import { probeTcp, probeTls } from './tls-probe.js';

const DAY_MS = 86_400_000;

function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

/** HTTP(S)_PROXY / NO_PROXY as the dispatcher reads them (README "Proxies"). */
function route(config: Config): { proxy: URL | undefined; stage: Stage } {
  if (!config.network.envProxy) return { proxy: undefined, stage: { id: 'proxy', status: 'ok', summary: 'direct (--no-env-proxy: proxy variables ignored)' } };
  const settings = readProxyEnv(process.env);
  const proxy = proxyFor(config.endpoint, settings);
  const configured = config.endpoint.protocol === 'https:' ? settings.httpsProxy ?? settings.httpProxy : settings.httpProxy;
  if (proxy !== undefined) {
    return { proxy, stage: { id: 'proxy', status: 'ok', summary: `via proxy ${safeOrigin(proxy)}${proxy.username === '' ? '' : ' (with proxy credentials)'}`, details: { noProxy: settings.noProxy || undefined } } };
  }
  const why = configured === undefined ? 'no HTTPS_PROXY / HTTP_PROXY set' : `NO_PROXY matches ${safeHostname(config.endpoint)}`;
  return { proxy: undefined, stage: { id: 'proxy', status: 'ok', summary: `direct (${why})` } };
}

async function dns(endpoint: URL, proxied: boolean): Promise<Stage> {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return { id: 'dns', status: 'ok', summary: `${host} is an IP address` };
  try {
    const addresses = await lookup(host, { all: true });
    return { id: 'dns', status: 'ok', summary: `${host} → ${addresses.map((a) => a.address).join(', ')}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // Through a proxy the proxy resolves the name; this machine need not.
    if (proxied) return { id: 'dns', status: 'warn', summary: `${host} does not resolve here (${code}); the proxy resolves it`, fix: 'nothing to do if the proxy can reach the host' };
    return { id: 'dns', status: 'fail', summary: `cannot resolve ${host} (${code})`, fix: 'check the host name in MCP_ENDPOINT / --endpoint, and your DNS or VPN connection' };
  }
}

function expiry(notAfter: Date, now: number): string {
  const days = Math.floor((notAfter.getTime() - now) / DAY_MS);
  return days < 0 ? `expired ${notAfter.toISOString()}` : `expires ${notAfter.toISOString()} (in ${days} day${days === 1 ? '' : 's'})`;
}

/** The client certificate the MCP connections present (mTLS). */
export function clientCertificateStage(identity: ClientIdentitySource | undefined, now: number): Stage | undefined {
  if (identity === undefined) return undefined;
  const id = identity.current();
  const expired = id.notAfter.getTime() <= now;
  return {
    id: 'client-certificate',
    status: expired ? 'fail' : id.warnings.length > 0 ? 'warn' : 'ok',
    summary: `${id.subject}, ${expiry(id.notAfter, now)}`,
    details: { file: id.files[0], fingerprint: id.fingerprint, warnings: id.warnings.length > 0 ? id.warnings : undefined },
    fix: expired ? 'replace the certificate files with a renewed certificate' : id.warnings[0],
  };
}

/**
 * DNS, the route (direct or which proxy) and the TLS handshake (or a TCP connect for
 * http://), each its own stage. `reachable` is false when the MCP exchange cannot work.
 */
export async function networkStages(config: Config, identity: ClientIdentitySource | undefined, logger: Logger): Promise<{ stages: Stage[]; reachable: boolean }> {
  const { endpoint } = config;
  const { proxy, stage: proxyStage } = route(config);
  const dnsStage = await dns(endpoint, proxy !== undefined);
  const stages = [dnsStage, proxyStage];
  if (dnsStage.status === 'fail') return { stages, reachable: false };
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  const port = portOf(endpoint);
  const timeoutMs = config.network.connectTimeoutMs;
  if (endpoint.protocol === 'http:') {
    if (proxy !== undefined) {
      stages.push({ id: 'tcp', status: 'skip', summary: 'not probed: plain http goes through the proxy, which connects' });
      return { stages, reachable: true };
    }
    try {
      await probeTcp(host, port, timeoutMs);
      stages.push({ id: 'tcp', status: 'ok', summary: `connected to ${host}:${port} (plain http, no TLS)` });
      return { stages, reachable: true };
    } catch (err) {
      const e = describeNetworkError(err, endpoint);
      stages.push({ id: 'tcp', status: 'fail', summary: e.message, fix: e.hint });
      return { stages, reachable: false };
    }
  }
  try {
    const facts = await probeTls({ host, port, ca: loadCaBundle(config.tls, process.env, logger), identity: identity?.current().tls, proxy, timeoutMs });
    const via = proxy === undefined ? '' : ' via proxy';
    const trust = config.tls.caCert === undefined ? 'the default CAs' : `the default CAs and ${config.tls.caCert}`;
    const details = { server: facts.subject, issuer: facts.issuer, expires: facts.notAfter };
    if (facts.authorized) {
      stages.push({ id: 'tls', status: 'ok', summary: `${facts.protocol} ${facts.cipher}${via}; certificate verified with ${trust}`, details });
      return { stages, reachable: true };
    }
    if (config.tls.insecure) {
      stages.push({ id: 'tls', status: 'warn', summary: `${facts.protocol} ${facts.cipher}${via}; certificate NOT verified (${facts.authorizationError}), accepted because of --insecure`, details, fix: 'pass the server\'s CA with --ca-cert / MCP_CA_CERT and drop --insecure' });
      return { stages, reachable: true };
    }
    const e = describeNetworkError(Object.assign(new Error(facts.authorizationError ?? 'untrusted'), { code: facts.authorizationError }), endpoint);
    stages.push({ id: 'tls', status: 'fail', summary: `${e.message}; verified against ${trust}`, details, fix: e.hint });
    return { stages, reachable: false };
  } catch (err) {
    const e = describeNetworkError(err, endpoint);
    stages.push({ id: 'tls', status: 'fail', summary: e.message, fix: e.hint });
    return { stages, reachable: false };
  }
}
