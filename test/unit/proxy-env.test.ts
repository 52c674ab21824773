import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { proxyFor, readProxyEnv } from '../../src/tls/proxy-env.js';

const via = (target: string, env: Record<string, string>) => proxyFor(new URL(target), readProxyEnv(env))?.origin;

describe('readProxyEnv / proxyFor (EnvHttpProxyAgent semantics)', () => {
  it('lower-case wins, an empty value means none, https falls back to HTTP_PROXY', () => {
    expect(via('https://a.example/', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })).toBe('http://lower:1');
    expect(via('https://a.example/', { https_proxy: '', HTTPS_PROXY: 'http://upper:2' })).toBeUndefined();
    expect(via('https://a.example/', { HTTP_PROXY: 'http://plain:3' })).toBe('http://plain:3');
    expect(via('http://a.example/', { HTTPS_PROXY: 'http://secure:4' })).toBeUndefined();
  });

  it('NO_PROXY matches hosts, subdomains, leading dots/wildcards, ports and "*"; loopback is not exempt', () => {
    const env = { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'internal.corp, .svc.local,*.mesh:8443 127.0.0.1:9000' };
    expect(via('https://internal.corp/', env)).toBeUndefined();
    expect(via('https://api.internal.corp/', env)).toBeUndefined();
    expect(via('https://notinternal.corp/', env)).toBe('http://p:3128');
    expect(via('https://x.svc.local/', env)).toBeUndefined();
    expect(via('https://a.mesh:8443/', env)).toBeUndefined();
    expect(via('https://a.mesh/', env)).toBe('http://p:3128');
    expect(via('https://127.0.0.1:9000/', env)).toBeUndefined();
    expect(via('https://127.0.0.1:9001/', env)).toBe('http://p:3128');
    expect(via('https://localhost/', { HTTPS_PROXY: 'http://p:3128' })).toBe('http://p:3128');
    expect(via('https://anything/', { HTTPS_PROXY: 'http://p:3128', no_proxy: '*' })).toBeUndefined();
  });

  it('refuses a proxy value that is not an http(s) URL, naming the variable but not the value', () => {
    for (const value of ['proxy.corp:3128', 'socks5://u:pw@h:1', 'not a url']) {
      let err: unknown;
      try {
        readProxyEnv({ HTTPS_PROXY: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe('HTTPS_PROXY is not an http:// or https:// URL');
      expect(JSON.stringify(err)).not.toContain(value);
    }
  });
});
