import { ConfigError } from '../errors.js';
import { registerSecret } from '../logging/safe-url.js';

type Env = Readonly<Record<string, string | undefined>>;

/** HTTP(S)_PROXY / NO_PROXY as undici's EnvHttpProxyAgent reads them. */
export interface ProxySettings {
  readonly httpProxy: URL | undefined;
  readonly httpsProxy: URL | undefined;
  readonly noProxy: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Reads the proxy variables with EnvHttpProxyAgent's precedence (lower-case wins, an empty
 * value means "none") and validates them up front: a scheme-less
 * "proxy:3128" would otherwise parse as a URL with scheme "proxy:" and fail obscurely.
 * Messages name the variable, never its value (it may hold a password).
 */
export function readProxyEnv(env: Env): ProxySettings {
  return {
    httpProxy: proxyUrl(env, 'http_proxy', 'HTTP_PROXY'),
    httpsProxy: proxyUrl(env, 'https_proxy', 'HTTPS_PROXY'),
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  };
}

function proxyUrl(env: Env, lower: string, upper: string): URL | undefined {
  const name = env[lower] !== undefined ? lower : upper;
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${name} is not an http:// or https:// URL`, `write it as http://[user:password@]host:port, or pass --no-env-proxy to ignore it`);
  }
  // Proxies are named by origin, never with user:password; registered so that no message
  // that ever quoted the password could print it.
  registerSecret(url.password);
  try {
    registerSecret(decodeURIComponent(url.password));
  } catch {
    // Not valid percent-encoding: the raw form above is the one that could be printed.
  }
  return url;
}

/**
 * The proxy a request to `target` goes through, or undefined for a direct connection.
 * Mirrors EnvHttpProxyAgent (undici lib/dispatcher/env-http-proxy-agent.js): https targets
 * fall back to HTTP_PROXY; NO_PROXY entries match the host or any subdomain, with an
 * optional port; "*" disables proxying; loopback is NOT exempt by default (verified).
 */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const proxy = target.protocol === 'https:' ? settings.httpsProxy ?? settings.httpProxy : settings.httpProxy;
  if (proxy === undefined) return undefined;
  if (settings.noProxy === '*') return undefined;
  // url.host keeps the brackets of an IPv6 literal, as undici's comparison does.
  const hostname = target.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(target.port, 10) || DEFAULT_PORTS[target.protocol] || 0;
  for (const entry of settings.noProxy.split(/[,\s]/)) {
    if (!entry) continue;
    const parsed = /^(.+):(\d+)$/.exec(entry);
    const host = (parsed?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
    const entryPort = parsed?.[2] === undefined ? 0 : Number.parseInt(parsed[2], 10);
    if (entryPort !== 0 && entryPort !== port) continue;
    if (hostname === host || hostname.endsWith(`.${host}`)) return undefined;
  }
  return proxy;
}
