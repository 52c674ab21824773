import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig, signerOf } from '../../src/config/config.js';
import { defaultRoleSessionName } from '../../src/signers/kinds/sigv4.js';
import { ConfigError } from '../../src/errors.js';
import { inferAwsEndpoint } from '../../src/signers/aws-endpoint.js';

const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(argv), env);
function configError(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    cfg(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('endpoint', () => {
  it('takes the positional URL over nothing, and env otherwise', () => {
    expect(cfg(['https://a.example/mcp']).endpoint.href).toBe('https://a.example/mcp');
    expect(cfg([], { MCP_ENDPOINT: 'https://b.example/mcp' }).endpoint.href).toBe('https://b.example/mcp');
    expect(cfg(['--endpoint', 'https://c.example/mcp'], { MCP_ENDPOINT: 'https://b.example/mcp' }).endpoint.host).toBe('c.example');
  });

  it.each([
    ['http://mcp.example.com/mcp', /--allow-http/],
    ['ftp://x/mcp', /https:\/\//],
    ['javascript:alert(1)', /https:\/\//],
    ['file:///etc/passwd', /https:\/\//],
    ['https://user:pw@x.example/mcp', /user:password/],
    ['not a url', /valid URL/],
  ])('refuses %s', (url, re) => {
    const e = configError([url]);
    expect(e.message + e.hint).toMatch(re);
  });

  it.each(['http://127.0.0.1:9/mcp', 'http://localhost:9/mcp', 'http://[::1]:9/mcp', 'http://127.5.6.7/mcp'])('allows plain http to loopback %s', (url) => {
    expect(cfg([url]).endpoint.protocol).toBe('http:');
  });

  it('allows plain http elsewhere only with --allow-http or MCP_ALLOW_HTTP', () => {
    expect(cfg(['http://mcp.internal/mcp', '--allow-http']).endpoint.host).toBe('mcp.internal');
    expect(cfg(['http://mcp.internal/mcp'], { MCP_ALLOW_HTTP: '1' }).endpoint.host).toBe('mcp.internal');
  });
});

describe('signer selection (auto)', () => {
  it('bearer when a token is set', () => expect(cfg(['https://x.example/mcp'], { MCP_BEARER_TOKEN: 't' }).signer).toBe('bearer'));
  it('none by default', () => expect(cfg(['https://x.example/mcp']).signer).toBe('none'));
  it('sigv4 for AWS endpoints', () => {
    const c = cfg(['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp']);
    expect(c.signer).toBe('sigv4');
    expect(signerOf(c, 'sigv4')).toMatchObject({ service: 'execute-api', region: 'eu-west-1' });
  });
  it('sigv4 when a role is set, with a stable default session name', () => {
    const c = cfg(['https://x.lambda-url.us-east-2.on.aws/'], { ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/mcp-bot' });
    expect(signerOf(c, 'sigv4')?.assumeRole).toMatchObject({ roleArn: 'arn:aws:iam::123456789012:role/mcp-bot', durationSeconds: 3600, stsRegion: 'us-east-2' });
    expect(signerOf(c, 'sigv4')?.assumeRole?.sessionName).toMatch(/^mcp-signing-proxy-[\w+=,.@-]+$/);
  });
  it('refuses a bearer token together with SigV4', () => {
    expect(configError(['https://x.example/mcp', '--signer', 'sigv4', '--service', 's', '--region', 'r'], { MCP_BEARER_TOKEN: 't' }).message).toMatch(/Authorization/);
  });
  it('flags win over env for region; URL beats AWS_REGION', () => {
    expect(signerOf(cfg(['https://x.execute-api.eu-west-1.amazonaws.com/p', '--region', 'us-west-2'], { AWS_REGION: 'ap-south-1' }), 'sigv4')?.region).toBe('us-west-2');
    expect(signerOf(cfg(['https://x.execute-api.eu-west-1.amazonaws.com/p'], { AWS_REGION: 'ap-south-1' }), 'sigv4')?.region).toBe('eu-west-1');
  });
  it('reads AWS_DEFAULT_REGION, which the JS SDK ignores', () => {
    expect(signerOf(cfg(['https://mcp.corp.example/mcp', '--service', 'execute-api'], { AWS_DEFAULT_REGION: 'eu-central-1' }), 'sigv4')?.region).toBe('eu-central-1');
  });
  it('names the flag to add when service or region cannot be inferred', () => {
    expect(configError(['https://mcp.corp.example/mcp', '--signer', 'sigv4']).hint).toMatch(/--service/);
    // A HOME without ~/.aws: the profile's region is the last fallback.
    expect(configError(['https://mcp.corp.example/mcp', '--service', 'execute-api'], { HOME: '/nonexistent-home' }).hint).toMatch(/--region/);
  });
  it('validates role ARN, duration and session name', () => {
    const url = 'https://x.execute-api.us-east-1.amazonaws.com/p';
    expect(configError([url, '--role-arn', 'arn:aws:iam::123:user/bob']).message).toMatch(/role ARN/);
    expect(configError([url, '--role-arn', 'arn:aws:iam::123456789012:role/r', '--role-duration', '60']).message).toMatch(/900 and 43200/);
    expect(configError([url, '--role-arn', 'arn:aws:iam::123456789012:role/r', '--role-session-name', 'has space']).message).toMatch(/ROLE_SESSION_NAME/);
  });
  it('makes a valid default session name from any user name', () => {
    expect(defaultRoleSessionName('jo hn/ä')).toBe('mcp-signing-proxy-jo-hn--');
    expect(defaultRoleSessionName('x'.repeat(100))).toHaveLength(64);
  });
});

describe('headers', () => {
  it('parses Name: value and Name=value, expands ${VAR} and ${VAR:-default}', () => {
    const c = cfg(['https://x.example/mcp', '-H', 'X-Api-Key: ${KEY}', '--header', 'X-Team=${TEAM:-core}'], { KEY: 'k1', MCP_HEADERS: 'X-One: 1\nX-Two: 2' });
    expect(c.headers).toEqual([['x-one', '1'], ['x-two', '2'], ['x-api-key', 'k1'], ['x-team', 'core']]);
  });
  it('refuses reserved headers and bad names, never echoing values', () => {
    expect(configError(['https://x.example/mcp', '-H', 'Host: evil']).message).toMatch(/host/);
    expect(configError(['https://x.example/mcp', '-H', 'Mcp-Session-Id: x']).message).toMatch(/mcp-session-id/);
    const e = configError(['https://x.example/mcp', '-H', 'Bad Name: SECRETVALUE']);
    expect(e.message).not.toContain('SECRETVALUE');
  });
  it('refuses authorization next to a signer', () => {
    expect(configError(['https://x.example/mcp', '-H', 'Authorization: Basic x'], { MCP_BEARER_TOKEN: 't' }).message).toMatch(/authorization/);
    expect(cfg(['https://x.example/mcp', '-H', 'Authorization: Basic x']).headers[0]).toEqual(['authorization', 'Basic x']);
  });
});

describe('flags', () => {
  it('rejects unknown flags and secrets on the command line', () => {
    expect(() => parseCliArgs(['--nope'])).toThrow(/--nope/);
    expect(() => parseCliArgs(['--bearer-token=abc'])).toThrow(/command lines are visible/);
  });
  it('validates numbers and log levels', () => {
    expect(configError(['https://x.example/mcp', '--connect-timeout', 'soon']).message).toMatch(/connect-timeout/);
    expect(configError(['https://x.example/mcp', '--log-level', 'loud']).message).toMatch(/log-level/);
    expect(cfg(['https://x.example/mcp', '--log-level', 'WARNING']).log.level).toBe('warn');
  });
  it('mTLS: cert without key, and pfx with cert, are refused', () => {
    expect(configError(['https://x.example/mcp', '--client-cert', 'a.pem']).message).toMatch(/client-key/);
    expect(configError(['https://x.example/mcp', '--client-pfx', 'a.p12', '--client-cert', 'a.pem', '--client-key', 'k.pem']).message).toMatch(/client-pfx/);
  });
  it('falls back to CLAUDE_CODE_CLIENT_* variables', () => {
    const c = cfg(['https://x.example/mcp'], { CLAUDE_CODE_CLIENT_CERT: '/c.pem', CLAUDE_CODE_CLIENT_KEY: '/k.pem', CLAUDE_CODE_CLIENT_KEY_PASSPHRASE: 'pw' });
    expect(c.tls).toMatchObject({ clientCert: '/c.pem', clientKey: '/k.pem', passphrase: 'pw' });
  });
});

describe('inferAwsEndpoint', () => {
  it.each([
    ['https://abc123.execute-api.ap-southeast-1.amazonaws.com/prod/mcp', 'execute-api', 'ap-southeast-1'],
    ['https://xyz.lambda-url.us-west-2.on.aws/', 'lambda', 'us-west-2'],
    ['https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/arn%3Aaws/invocations?qualifier=DEFAULT', 'bedrock-agentcore', 'us-east-1'],
    ['https://gw-1.gateway.bedrock-agentcore.eu-west-1.amazonaws.com/mcp', 'bedrock-agentcore', 'eu-west-1'],
    ['https://aws-mcp.us-east-1.api.aws/mcp', 'aws-mcp', 'us-east-1'],
    // host labels with hyphens, as the README's own example has
    ['https://secure-finance.execute-api.ap-southeast-1.amazonaws.com/prod/mcp', 'execute-api', 'ap-southeast-1'],
    ['https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod/mcp', 'execute-api', 'cn-north-1'],
    ['https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/prod/mcp', 'execute-api', 'us-gov-west-1'],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.api.aws/prod/mcp', 'execute-api', 'eu-west-1'],
    // private APIs through a VPC endpoint: the Route 53 alias and the endpoint's own DNS names
    ['https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com/prod/mcp', 'execute-api', 'us-east-1'],
    ['https://vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com/prod/mcp', 'execute-api', 'us-east-1'],
    ['https://vpce-0123456789abcdef0-abcd1234-us-east-1a.execute-api.us-east-1.vpce.amazonaws.com/prod/mcp', 'execute-api', 'us-east-1'],
    ['https://vpce-0123456789abcdef0-abcd1234.bedrock-agentcore.eu-central-1.vpce.amazonaws.com/runtimes/x/invocations', 'bedrock-agentcore', 'eu-central-1'],
    ['https://my-url-id-9.lambda-url.eu-west-1.on.aws/mcp', 'lambda', 'eu-west-1'],
    ['https://my-gateway-a1b2c3.gateway.bedrock-agentcore.us-west-2.amazonaws.com/mcp', 'bedrock-agentcore', 'us-west-2'],
  ])('%s', (url, service, region) => {
    expect(inferAwsEndpoint(new URL(url))).toEqual({ service, region });
  });
  it('does not guess for custom domains', () => expect(inferAwsEndpoint(new URL('https://mcp.corp.example/mcp'))).toBeUndefined());
  it.each([
    'https://-bad.execute-api.us-east-1.amazonaws.com/p',
    'https://x.execute-api.us-east-1.amazonaws.com.evil.example/p',
    'https://x.execute-api.notaregion.amazonaws.com/p',
    'https://a.b.execute-api.us-east-1.amazonaws.com/p',
  ])('does not guess for %s', (url) => expect(inferAwsEndpoint(new URL(url))).toBeUndefined());
  it("accepts the README's example endpoint without --service or --region", () => {
    expect(signerOf(cfg([], { MCP_ENDPOINT: 'https://secure-finance.execute-api.ap-southeast-1.amazonaws.com/prod/mcp', ASSUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/mcp-finance-bot-role' }), 'sigv4')).toMatchObject({
      service: 'execute-api',
      region: 'ap-southeast-1',
    });
  });
});

describe('--transport / MCP_TRANSPORT', () => {
  const url = 'https://mcp.example.com/sse';
  it('defaults to auto and accepts mcp-remote names', () => {
    expect(cfg([url]).transport).toBe('auto');
    expect(cfg([url, '--transport', 'sse']).transport).toBe('sse');
    expect(cfg([url], { MCP_TRANSPORT: 'streamable-http' }).transport).toBe('streamable-http');
    expect(cfg([url], { MCP_TRANSPORT: 'http-first' }).transport).toBe('auto');
    expect(cfg([url], { MCP_TRANSPORT: 'http-only' }).transport).toBe('streamable-http');
    expect(cfg([url], { MCP_TRANSPORT: 'sse-only' }).transport).toBe('sse');
    expect(cfg([url], { MCP_TRANSPORT: 'sse-first' }).transport).toBe('sse-first');
    expect(cfg([url, '--transport', 'sse'], { MCP_TRANSPORT: 'http-only' }).transport).toBe('sse');
  });

  it('refuses anything else, naming the flag and the choices', () => {
    expect(() => cfg([url, '--transport', 'websocket'])).toThrow(ConfigError);
    expect(() => cfg([url, '--transport', 'websocket'])).toThrow(/--transport \/ MCP_TRANSPORT must be auto, streamable-http or sse \(got "websocket"\)/);
  });
});
