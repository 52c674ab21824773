/**
 * Plain-http endpoints and other schemes/userinfo: an adversarial endpoint table in the style of oauth2-proxy's
 * validator_test.go. Plain http is allowed only to what the WHATWG URL parser normalises to
 * a loopback literal or exactly "localhost"; everything else needs --allow-http. The
 * refusal never echoes the URL's credentials.
 */
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

const endpointOf = (url: string, argv: string[] = []) => normalizeConfig(parseCliArgs([...argv, url]), {}).endpoint;

function refusal(url: string): ConfigError {
  try {
    endpointOf(url);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(url)} was accepted`);
}

describe('plain http: loopback only', () => {
  it.each([
    // Look-alike names and DNS tricks: not loopback by name, so refused.
    'http://localhost.evil.test/mcp',
    'http://localhost./mcp',
    'http://127.0.0.1.nip.io/mcp',
    'http://127.0.0.1.evil.test/mcp',
    'http://evil.test/127.0.0.1/mcp',
    'http://evil.test#@127.0.0.1/mcp',
    'http://evil.test\\@127.0.0.1/mcp',
    'http://10.0.0.1/mcp',
    'http://169.254.169.254/latest/meta-data',
    'http://0.0.0.0/mcp',
    'http://[::]/mcp',
    // IPv4-mapped loopback is refused too (conservative: the name check does not parse it).
    'http://[::ffff:127.0.0.1]/mcp',
  ])('refuses %s without --allow-http', (url) => {
    expect(refusal(url).message + refusal(url).hint).toMatch(/--allow-http|https/);
  });

  it.each([
    ['http://127.0.0.1:9/mcp', '127.0.0.1'],
    ['http://127.1/mcp', '127.0.0.1'], // WHATWG: short IPv4
    ['http://0x7f000001/mcp', '127.0.0.1'], // hex
    ['http://2130706433/mcp', '127.0.0.1'], // decimal
    ['http://0177.0.0.1/mcp', '127.0.0.1'], // octal
    ['HTTP://LOCALHOST/mcp', 'localhost'], // case
    ['http://[::1]:9/mcp', '[::1]'],
    ['http://local\thost/mcp', 'localhost'], // tabs/newlines are stripped by the parser …
    ['http://127.0.0.1\n:9/mcp', '127.0.0.1'], // … so what is checked is what is dialled
  ])('allows %s, which the parser normalises to loopback %s', (url, host) => {
    expect(endpointOf(url).hostname).toBe(host);
  });

  it('--allow-http lets a remote http endpoint through', () => {
    expect(endpointOf('http://mcp.example.com/mcp', ['--allow-http']).hostname).toBe('mcp.example.com');
  });
});

describe('other schemes and userinfo', () => {
  it.each(['ftp://x.example/mcp', 'ws://x.example/mcp', 'javascript:alert(1)', 'data:text/plain,hi', 'file:///etc/passwd', 'HTTPS+evil://x/mcp'])('refuses %s', (url) => {
    expect(refusal(url)).toBeInstanceOf(ConfigError);
  });

  it.each(['https://user:SECRETPW1@x.example/mcp', 'https://SECRETPW1@x.example/mcp', 'http://u:SECRETPW1@127.0.0.1/mcp'])('refuses userinfo in %s without echoing it', (url) => {
    const e = refusal(url);
    expect(e.message).toMatch(/user:password/);
    expect(JSON.stringify({ m: e.message, h: e.hint, j: e.toJSON() })).not.toContain('SECRETPW1');
  });

  it('drops a fragment, keeps the query', () => {
    const u = endpointOf('https://x.example/mcp?qualifier=DEFAULT#frag');
    expect(u.hash).toBe('');
    expect(u.search).toBe('?qualifier=DEFAULT');
  });
});
