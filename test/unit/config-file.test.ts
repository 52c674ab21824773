import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliArgs, SETTINGS, type Setting } from '../../src/config/args.js';
import { closest, editDistance } from '../../src/config/closest.js';
import { applyConfigFile, FILE_KEYS } from '../../src/config/config-file.js';
import { normalizeConfig, signerOf } from '../../src/config/config.js';
import { renderConfig } from '../../src/config/print-config.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'msp-config-file-'));
let n = 0;
function file(content: unknown): string {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const PROD = 'https://prod.example/mcp';
const DEV = 'http://127.0.0.1:3000/mcp';
const twoServers = () =>
  file({
    defaults: { 'log-level': 'warn', 'connect-timeout': 7, header: 'X-Team: core' },
    servers: {
      prod: { endpoint: PROD, 'bearer-token': '${PROD_TOKEN}', 'log-level': 'error' },
      dev: { endpoint: DEV, insecure: true, header: ['X-Env: dev', 'X-Who: ${WHO:-me}'], 'connect-timeout': null },
    },
  });

function layered(argv: string[], env: Record<string, string> = {}) {
  return applyConfigFile(parseCliArgs(argv), env);
}
function cfg(argv: string[], env: Record<string, string> = {}) {
  const l = layered(argv, env);
  return normalizeConfig(l.args, l.env);
}
function configError(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    cfg(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
const sourceOf = (argv: string[], env: Record<string, string>, key: string) => layered(argv, env).settings.find((s) => s.key.name === key)?.source;

describe('the schema is the settings table', () => {
  it('every flag that is a setting is a key, under its name', () => {
    const keys = new Set(FILE_KEYS.map((k) => k.name));
    for (const s of SETTINGS as readonly Setting[]) expect(keys.has(s.name), s.name).toBe(s.file !== false && !s.hidden);
    expect(keys.has('bearer-token')).toBe(true);
    expect(keys.has('client-key-passphrase')).toBe(true);
    for (const action of ['config', 'server', 'print-config', 'help', 'version', 'check']) expect(keys.has(action)).toBe(false);
  });
});

describe('layering: flag › environment › server entry › defaults', () => {
  it('takes the server entry over the defaults, and the defaults otherwise', () => {
    const c = cfg(['--config', twoServers(), '--server', 'prod'], { PROD_TOKEN: 'tok-prod' });
    expect(c.endpoint.href).toBe(PROD);
    expect(signerOf(c, 'bearer')?.token?.reveal()).toBe('tok-prod');
    expect(signerOf(c, 'bearer')?.tokenFile).toBeUndefined();
    expect(c.log.level).toBe('error');
    expect(c.network.connectTimeoutMs).toBe(7000);
    expect(c.headers).toEqual([['x-team', 'core']]);
  });

  it('a list replaces the defaults list (no merging), ${VAR:-default} expands, null unsets', () => {
    const c = cfg(['--config', twoServers(), '--server', 'dev']);
    expect(c.headers).toEqual([['x-env', 'dev'], ['x-who', 'me']]);
    expect(c.tls.insecure).toBe(true);
    expect(c.network.connectTimeoutMs).toBe(10_000);
    expect(c.log.level).toBe('warn');
  });

  it('the environment beats the file, a flag beats the environment', () => {
    const path = twoServers();
    expect(cfg(['--config', path, '--server', 'prod'], { PROD_TOKEN: 't', MCP_LOG_LEVEL: 'debug' }).log.level).toBe('debug');
    expect(cfg(['--config', path, '--server', 'prod', '--log-level', 'trace'], { PROD_TOKEN: 't', MCP_LOG_LEVEL: 'debug' }).log.level).toBe('trace');
    expect(cfg(['--config', path, '--server', 'prod'], { PROD_TOKEN: 't', MCP_ENDPOINT: 'https://env.example/mcp' }).endpoint.host).toBe('env.example');
    expect(cfg(['--config', path, '--server', 'prod', 'https://flag.example/mcp'], { PROD_TOKEN: 't', MCP_ENDPOINT: 'https://env.example/mcp' }).endpoint.host).toBe('flag.example');
    // An env-only setting: MCP_BEARER_TOKEN set beats the file's reference (not even expanded).
    expect(signerOf(cfg(['--config', path, '--server', 'prod'], { MCP_BEARER_TOKEN: 'from-env' }), 'bearer')?.token?.reveal()).toBe('from-env');
    // Lists: MCP_HEADERS replaces the file's headers.
    expect(cfg(['--config', path, '--server', 'dev'], { MCP_HEADERS: 'X-From: env' }).headers).toEqual([['x-from', 'env']]);
    // A boolean variable set to 0 beats the file's true.
    expect(cfg(['--config', path, '--server', 'dev'], { MCP_INSECURE: '0' }).tls.insecure).toBe(false);
  });

  it('a URL whose name says token is not a secret: oauth-token-url is taken literally', () => {
    const path = file({ defaults: { endpoint: 'https://mcp.example.com/mcp', 'oauth-token-url': 'https://as.example.com/token' } });
    const l = layered(['--config', path], {});
    expect(l.settings.find((s) => s.key.name === 'oauth-token-url')?.value).toBe('https://as.example.com/token');
    expect(renderConfig(l)).toMatch(/^oauth-token-url +https:\/\/as\.example\.com\/token +config defaults$/m);
  });

  it('a variable that sets the same thing another way beats the file too', () => {
    const tokenFile = join(dir, 'token-from-file');
    writeFileSync(tokenFile, 'tok-from-file');
    const path = file({ defaults: { endpoint: 'https://mcp.example.com/mcp', 'bearer-token-file': tokenFile } });
    expect(signerOf(cfg(['--config', path]), 'bearer')?.tokenFile).toBe(tokenFile);
    const fromEnv = signerOf(cfg(['--config', path], { MCP_BEARER_TOKEN: 'from-env' }), 'bearer');
    expect(fromEnv?.tokenFile).toBeUndefined();
    expect(fromEnv?.token?.reveal()).toBe('from-env');
    const l = layered(['--config', path], { MCP_BEARER_TOKEN: 'from-env' });
    expect(l.settings.find((s) => s.key.name === 'bearer-token-file')?.source).toBe('unset (env MCP_BEARER_TOKEN wins)');
  });

  it('any of a setting\'s variables beats the file (region: AWS_REGION or AWS_DEFAULT_REGION)', () => {
    const path = file({ servers: { s: { endpoint: 'https://mcp.corp.example/mcp', service: 'execute-api', region: 'eu-west-1' } } });
    expect(signerOf(cfg(['--config', path, '--server', 's']), 'sigv4')?.region).toBe('eu-west-1');
    expect(signerOf(cfg(['--config', path, '--server', 's'], { AWS_DEFAULT_REGION: 'us-west-2' }), 'sigv4')?.region).toBe('us-west-2');
  });

  it('reports each source', () => {
    const path = twoServers();
    const env = { PROD_TOKEN: 't', MCP_CONNECT_TIMEOUT: '3' };
    const argv = ['--config', path, '--server', 'prod', '--signer', 'bearer'];
    expect(sourceOf(argv, env, 'signer')).toBe('flag');
    expect(sourceOf(argv, env, 'connect-timeout')).toBe('env MCP_CONNECT_TIMEOUT');
    expect(sourceOf(argv, env, 'endpoint')).toBe('config server prod');
    expect(sourceOf(argv, env, 'header')).toBe('config defaults');
    expect(sourceOf(argv, env, 'max-connections')).toBe('default');
    expect(sourceOf(argv, env, 'role-arn')).toBe('unset');
  });

  it('MCP_PROXY_CONFIG and MCP_PROXY_SERVER work like the flags, and the flags win', () => {
    const path = twoServers();
    expect(cfg([], { MCP_PROXY_CONFIG: path, MCP_PROXY_SERVER: 'dev' }).endpoint.href).toBe(DEV);
    expect(cfg(['--server', 'dev'], { MCP_PROXY_CONFIG: path, MCP_PROXY_SERVER: 'prod' }).endpoint.href).toBe(DEV);
  });

  it('resolves relative paths from the config file\'s directory', () => {
    const path = file({ defaults: { endpoint: DEV, 'log-file': 'logs/proxy.log', 'bearer-token-file': '/abs/token' } });
    const c = cfg(['--config', path]);
    expect(c.log.file).toBe(join(dir, 'logs/proxy.log'));
    expect(signerOf(c, 'bearer')?.tokenFile).toBe('/abs/token');
  });

  it('without a config file, nothing changes', () => {
    const l = layered(['https://x.example/mcp'], { MCP_LOG_LEVEL: 'warn' });
    expect(l.file).toBeUndefined();
    expect(normalizeConfig(l.args, l.env)).toEqual(normalizeConfig(parseCliArgs(['https://x.example/mcp']), { MCP_LOG_LEVEL: 'warn' }));
  });
});

describe('refusals', () => {
  it.each([
    ['a literal bearer token', { servers: { p: { endpoint: PROD, 'bearer-token': 'abc123' } } }, /servers\.p "bearer-token" holds a literal secret/, /\$\{VAR\}.*"bearer-token-file"/],
    ['a token with a literal prefix', { servers: { p: { 'bearer-token': 'x${T}' } } }, /literal secret/, /\$\{VAR\}/],
    ['a ${VAR:-default} token', { servers: { p: { 'bearer-token': '${T:-fallback}' } } }, /literal secret/, /\$\{VAR\}/],
    ['a literal passphrase', { defaults: { 'client-key-passphrase': 'hunter2' } }, /defaults "client-key-passphrase" holds a literal secret/, /\$\{VAR\}/],
    ['an AWS secret key', { defaults: { 'aws-secret-access-key': 'wJalrXUtnFEMI' } }, /"aws-secret-access-key" holds a literal secret/, /profile/],
    ['any key that says password', { defaults: { password: 'pw' } }, /"password" holds a literal secret/, /\$\{VAR\}/],
    ['a literal credential header', { defaults: { header: ['X-Team: a', 'X-Api-Key: k123'] } }, /literal value for the credential header "X-Api-Key"/, /\$\{VAR\}/],
    ['a literal Authorization header', { defaults: { header: 'Authorization: Bearer abc' } }, /"Authorization"/, /\$\{VAR\}/],
    ['an unknown key', { servers: { p: { 'rol-arn': 'arn:aws:iam::123456789012:role/r' } } }, /servers\.p has unknown key "rol-arn"/, /did you mean "role-arn"\?/],
    ['an unknown top-level key', { server: {} }, /unknown key "server"/, /did you mean "servers"\?/],
    ['a string for a boolean', { defaults: { insecure: 'true' } }, /"insecure" must be true or false/, /"insecure": true/],
    ['an object for a string', { defaults: { endpoint: { url: 'x' } } }, /"endpoint" must be a string/, /"endpoint": "…"/],
    ['an entry that is not an object', { servers: { p: 'https://x' } }, /servers\.p must be a JSON object/, /"servers"/],
    ['an action as a key', { defaults: { 'print-config': true } }, /unknown key "print-config"/, /flag names/],
  ])('%s', (_name, content, message, hint) => {
    const e = configError(['--config', file(content), '--server', 'p'], { T: 't' });
    expect(e.message).toMatch(/^--config \/ MCP_PROXY_CONFIG file \S+/);
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
    // No value from the file is echoed.
    expect(e.message + e.hint).not.toMatch(/abc123|hunter2|wJalr|k123|Bearer abc/);
  });

  it('validates every server, not only the one chosen', () => {
    const path = file({ servers: { dev: { endpoint: DEV }, prod: { endpoint: PROD, 'bearer-token': 'literal-prod' } } });
    expect(configError(['--config', path, '--server', 'dev']).message).toMatch(/servers\.prod "bearer-token"/);
  });

  it('names an unset ${VAR} and where it is used', () => {
    const e = configError(['--config', twoServers(), '--server', 'prod']);
    expect(e.message).toMatch(/servers\.prod "bearer-token" refers to \$\{PROD_TOKEN\}, which is not set/);
  });

  it('server selection', () => {
    const path = twoServers();
    expect(configError(['--config', path, '--server', 'prd']).hint).toBe('did you mean "prod"? servers in the file: prod, dev');
    expect(configError(['--config', path, '--server', 'staging']).hint).toBe('servers in the file: prod, dev');
    expect(configError(['--config', path]).message).toMatch(/has servers, but --server \/ MCP_PROXY_SERVER is not set/);
    expect(configError(['--server', 'dev']).message).toBe('--server / MCP_PROXY_SERVER needs a config file');
    expect(configError([], { MCP_PROXY_SERVER: 'dev' }).hint).toMatch(/--config FILE or set MCP_PROXY_CONFIG/);
  });

  it('a missing file, and invalid JSON without quoting the file', () => {
    expect(configError(['--config', join(dir, 'nope.json')]).message).toMatch(/^--config \/ MCP_PROXY_CONFIG file \S+nope\.json cannot be read \(ENOENT\)$/);
    const e = configError(['--config', file('{\n  "defaults": { "bearer-token": secretvalue }\n}')]);
    expect(e.message).toMatch(/is not valid JSON \(at line 2 column 33\)$/);
    expect(e.message).not.toContain('secretvalue');
    // A realistic file: V8 quotes a window of the text around the error, never shown.
    const long = configError(['--config', file(`{\n  "servers": { "prod": { "endpoint": "https://mcp.example.com/${'x'.repeat(200)}",\n    "bearer-token": sk-LIVESECRET123 } }\n}`)]);
    expect(long.message).toMatch(/is not valid JSON \(at line 3 column 21\)$/);
    expect(long.message).not.toContain('LIVESEC');
    // A BOM from a Windows editor is not an error.
    expect(cfg(['--config', file('\uFEFF{"defaults":{"endpoint":"https://mcp.example.com/mcp"}}')], {}).endpoint.href).toBe('https://mcp.example.com/mcp');
    expect(configError(['--config', file('[1]')]).message).toMatch(/is not a JSON object/);
  });
});

describe('--print-config', () => {
  it('one line per setting with its source, secrets masked', () => {
    const path = file({
      defaults: { header: ['X-Api-Key: ${API_KEY}'] },
      servers: { prod: { endpoint: 'https://prod.example/mcp?key=QUERYSECRET', 'bearer-token': '${PROD_TOKEN}' } },
    });
    const text = renderConfig(layered(['--config', path, '--server', 'prod', '--connect-timeout', '4'], { PROD_TOKEN: 'TOKEN-SECRET-1', API_KEY: 'HEADER-SECRET-2', MCP_CLIENT_KEY_PASSPHRASE: 'PASS-SECRET-3' }));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toContain(`config ${path}, server prod`);
    expect(lines).toHaveLength(1 + FILE_KEYS.length);
    expect(text).toMatch(/^endpoint +https:\/\/prod\.example\/mcp\?… +config server prod$/m);
    expect(text).toMatch(/^bearer-token +\*\*\*\* +config server prod$/m);
    expect(text).toMatch(/^client-key-passphrase +\*\*\*\* +env MCP_CLIENT_KEY_PASSPHRASE$/m);
    expect(text).toMatch(/^header +X-Api-Key: \*\*\*\* +config defaults$/m);
    expect(text).toMatch(/^connect-timeout +4 +flag$/m);
    expect(text).toMatch(/^insecure +false +default$/m);
    expect(text).toMatch(/^role-arn +- +unset$/m);
    expect(text).not.toMatch(/SECRET/);
  });

  it('a headers helper command: the values of secret-named options are masked', () => {
    const helper = 'get-creds --password hunter2pass --user ada token=abc123 --api-key=k3y vault read x';
    const text = renderConfig(layered(['--headers-helper', helper], {}));
    expect(text).toMatch(/^headers-helper +get-creds --password \*\*\*\* --user ada token=\*\*\*\* --api-key=\*\*\*\* vault read x +flag$/m);
  });
});

describe('closest', () => {
  it('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('bearer-tokenfile', FILE_KEYS.map((k) => k.name))).toBe('bearer-token-file');
    expect(closest('zzzzzzzz', ['endpoint', 'signer'])).toBeUndefined();
  });
});

describe('the README example', () => {
  it('is a valid file whose servers both configure', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Config file'));
    const path = file(/```json\n([\s\S]*?)\n```/.exec(section)?.[1] as string);
    const prod = cfg(['--config', path, '--server', 'prod']);
    expect(signerOf(prod, 'sigv4')).toMatchObject({ service: 'execute-api', region: 'eu-west-1', profile: 'prod', assumeRole: { roleArn: 'arn:aws:iam::123456789012:role/mcp-read-only' } });
    expect(prod.log).toEqual({ level: 'warn', file: join(dir, 'logs/prod-proxy.log') });
    const dev = cfg(['--config', path, '--server', 'dev'], { DEV_MCP_TOKEN: 'd' });
    expect(signerOf(dev, 'bearer')?.token?.reveal()).toBe('d');
    expect(dev.headers).toEqual([['x-team', 'payments'], ['x-debug', '1']]);
  });
});
