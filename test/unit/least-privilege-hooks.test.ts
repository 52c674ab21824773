/**
 * The audit and pinning hooks and the audit file in process (README "Tool pinning",
 * "Audit log"): outcome mapping, argument shapes and hashes, the chain across batches and
 * processes' lines, pin decisions and the pin file's merge.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { applyConfigFile } from '../../src/config/config-file.js';
import { normalizeConfig } from '../../src/config/config.js';
import { auditIdentity } from '../../src/audit/audit-identity.js';
import { createBearerSigner } from '../../src/signers/bearer.js';
import { createSigV4Signer } from '../../src/signers/sigv4.js';
import { createClientIdentitySource } from '../../src/tls/identity-source.js';
import { createTestPki } from '../helpers/pki.js';
import { auditHook } from '../../src/audit/audit-hook.js';
import { AuditLog, GENESIS, checkAuditPath, sha256Hex } from '../../src/audit/audit-log.js';
import { canonicalJson, describeArgs, shapeOf } from '../../src/audit/audit-record.js';
import { PolicyError, ProxyError, toJsonRpcError } from '../../src/errors.js';
import { describeMessage } from '../../src/jsonrpc.js';
import { registerSecret } from '../../src/logging/safe-url.js';
import { loadPins, updatePins } from '../../src/pinning/pin-file.js';
import { pinHook } from '../../src/pinning/pin-hook.js';
import type { RequestContext } from '../../src/relay/hooks.js';
import type { RemoteMessage } from '../../src/transport/remote-transport.js';
import { captureLog } from '../helpers/log-capture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'msp-lp-'));
  dirs.push(d);
  return d;
}

const ctx = (method: string, name: string | undefined, params: object, id: number | string = 1): RequestContext => ({
  id,
  method,
  name,
  startedAt: 1000,
  body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params })),
});
const remote = (value: object): RemoteMessage => ({ bytes: Buffer.from(JSON.stringify(value)), info: describeMessage(value) });
const readLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function settle(log: AuditLog): Promise<void> {
  await log.close(5000);
}

describe('audit records', () => {
  it('shapes keep keys and JSON types only; hashes are of canonical JSON', () => {
    expect(shapeOf({ a: 'x', b: [1, 'y', 2], c: { d: null, e: false } })).toEqual({ a: 'string', b: ['number', 'string'], c: { d: 'null', e: 'boolean' } });
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
    expect(describeArgs({ b: 1, a: 2 }, 'hash')).toEqual({ shape: { b: 'number', a: 'number' }, sha256: sha256Hex('{"a":2,"b":1}') });
    registerSecret('unit-secret-value-123');
    expect(describeArgs({ k: 'has unit-secret-value-123 in it', 'unit-secret-value-123': 1 }, 'full')).toEqual({ k: 'has … in it', '…': 1 });
  });

  it('one line per audited request and per refusal, with the outcome the end implies', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const log = new AuditLog(file, captureLog().logger);
    let now = 1500;
    const hook = auditHook({ log, endpoint: 'https://x.example/mcp', args: 'shape', identity: () => ({ bearer: 'sha256:abc' }), now: () => now });
    const call = ctx('tools/call', 'echo', { name: 'echo', arguments: { q: 'v' } });
    hook.onEnd?.(call, { outcome: 'response', message: remote({ jsonrpc: '2.0', id: 1, result: { content: [], isError: true } }) });
    hook.onEnd?.(ctx('tools/list', undefined, {}), { outcome: 'response', message: remote({ jsonrpc: '2.0', id: 1, result: { tools: [] } }) });
    const denial = new PolicyError('tool "x" is not allowed by --deny-tools', '--deny-tools', 'remove it');
    hook.onEnd?.(ctx('resources/subscribe', 'secret://a', { uri: 'secret://a' }), { outcome: 'refused', by: 'policy', refusal: denial, error: toJsonRpcError(denial) });
    const failed = new ProxyError('ESP_X', 'broke');
    hook.onEnd?.(ctx('prompts/get', 'p', { name: 'p' }), { outcome: 'error', error: toJsonRpcError(failed) });
    now = 2500;
    hook.onEnd?.(ctx('resources/read', 'docs://a', { uri: 'docs://a' }), { outcome: 'response', message: remote({ jsonrpc: '2.0', id: 1, error: { code: -32002, message: 'not found' } }) });
    await settle(log);
    const lines = readLines(file).map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.method, l.outcome, l.code ?? l.rule])).toEqual([
      ['tools/call', 'tool_error', undefined],
      ['resources/subscribe', 'denied', '--deny-tools'],
      ['prompts/get', 'error', -32603],
      ['resources/read', 'error', -32002],
    ]);
    expect(lines[0]).toMatchObject({ endpoint: 'https://x.example/mcp', identity: { bearer: 'sha256:abc' }, name: 'echo', id: 1, args: { q: 'string' }, ms: 500 });
    expect(lines[3].ms).toBe(1500);
    expect(lines[3].args).toBeUndefined();
  });

  it('chains lines across batches and continues the chain of lines another writer appended', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const log = new AuditLog(file, captureLog().logger);
    const hook = auditHook({ log, endpoint: 'e', args: 'shape', identity: () => ({}) });
    const end = { outcome: 'cancelled' } as const;
    hook.onEnd?.(ctx('tools/call', 'a', {}), end);
    await settle(log);
    // Another process's line, chained to ours.
    const other = JSON.stringify({ other: true, prev: sha256Hex(readLines(file)[0] as string) });
    writeFileSync(file, `${other}\n`, { flag: 'a' });
    hook.onEnd?.(ctx('tools/call', 'b', {}), end);
    hook.onEnd?.(ctx('tools/call', 'c', {}), end);
    await settle(log);
    const lines = readLines(file);
    let prev = GENESIS;
    for (const l of lines) {
      expect(JSON.parse(l).prev).toBe(prev);
      prev = sha256Hex(l);
    }
    expect(lines).toHaveLength(4);
    expect(log.lastHash).toBe(prev);
  });

  it('ends a line cut short before appending, so the next line stands alone', async () => {
    const file = join(tempDir(), 'a.jsonl');
    writeFileSync(file, '{"cut":');
    const log = new AuditLog(file, captureLog().logger);
    auditHook({ log, endpoint: 'e', args: 'shape', identity: () => ({}) }).onEnd?.(ctx('tools/call', 'a', {}), { outcome: 'cancelled' });
    await settle(log);
    const lines = readLines(file);
    expect(lines[0]).toBe('{"cut":');
    expect(JSON.parse(lines[1] as string).prev).toBe(sha256Hex('{"cut":'));
  });

  it('start-up refuses a directory and a non-regular file', () => {
    const dir = tempDir();
    expect(() => checkAuditPath(dir)).toThrow(/--audit-log \/ MCP_AUDIT_LOG .* is a directory/);
    expect(() => checkAuditPath('/dev/null')).toThrow(/is not a regular file/);
    expect(() => checkAuditPath(join(dir, 'missing', 'a.jsonl'))).toThrow(/cannot be opened for appending \(ENOENT\)/);
  });
});

describe('the pin hook', () => {
  const tool = (name: string, description = 'd', annotations?: object) => ({ name, description, inputSchema: { type: 'object' }, ...(annotations && { annotations }) });
  const list = (tools: object[]) => remote({ jsonrpc: '2.0', id: 1, result: { tools } });
  const listed = async (hook: ReturnType<typeof pinHook>, tools: object[]) => {
    const verdict = await hook.onServerMessage?.(list(tools), ctx('tools/list', undefined, {}));
    const msg = verdict === undefined ? list(tools) : 'rewrite' in verdict ? { bytes: verdict.rewrite } : undefined;
    return (JSON.parse(msg!.bytes.toString()).result.tools as Array<{ name: string }>).map((t) => t.name);
  };

  it('records on the first run; then hides and refuses what changed (naming the parts) or is new', async () => {
    const file = join(tempDir(), 'pins.json');
    const log = captureLog().logger;
    const first = pinHook({ file, endpoint: 'E', log });
    expect(first.onRequest?.(ctx('tools/call', 'unseen', {}))).toBeUndefined();
    expect(await listed(first, [tool('a'), tool('b')])).toEqual(['a', 'b']);
    await first.flush();
    const second = pinHook({ file, endpoint: 'E', log });
    expect(await listed(second, [tool('a'), tool('b', 'd', { destructiveHint: true }), tool('c')])).toEqual(['a']);
    expect(second.onRequest?.(ctx('tools/call', 'a', {}))).toBeUndefined();
    expect(second.onRequest?.(ctx('tools/call', 'b', {}))?.refuse.message).toMatch(/tool "b" changed since it was pinned \(annotations\)/);
    expect(second.onRequest?.(ctx('tools/call', 'c', {}))?.refuse).toBeInstanceOf(PolicyError);
    // Other endpoints in the same file are separate.
    const other = pinHook({ file, endpoint: 'F', log });
    expect(await listed(other, [tool('c')])).toEqual(['c']);
    await Promise.all([second.flush(), other.flush()]);
    const pins = loadPins(file, 'E');
    expect(pins.b?.pending).toBeDefined();
    expect(pins.c?.accepted).toBeUndefined();
    expect(loadPins(file, 'F').c?.accepted).toBeDefined();
    // The change reverted: shown again, nothing pending.
    expect(await listed(second, [tool('a'), tool('b')])).toEqual(['a', 'b']);
    await second.flush();
    expect(loadPins(file, 'E').b?.pending).toBeUndefined();
  });

  it('a corrupt file stops start-up; updates merge with what another writer wrote meanwhile', async () => {
    const file = join(tempDir(), 'pins.json');
    writeFileSync(file, 'not json');
    expect(() => loadPins(file, 'E')).toThrow(/--pin-tools \/ MCP_PIN_TOOLS .* is not a pin file: not valid JSON/);
    writeFileSync(file, JSON.stringify({ version: 1, endpoints: {} }));
    const digests = { description: 'x', inputSchema: 'y', annotations: 'z' };
    await Promise.all([
      updatePins(file, 'E', [(p) => void (p.one = { accepted: digests })], () => undefined),
      updatePins(file, 'E', [(p) => void (p.two = { accepted: digests })], () => undefined),
      updatePins(file, 'G', [(p) => void (p.three = { accepted: digests })], () => undefined),
    ]);
    expect(Object.keys(loadPins(file, 'E')).sort()).toEqual(['one', 'two']);
    expect(Object.keys(loadPins(file, 'G'))).toEqual(['three']);
  });
});

describe('the settings', () => {
  const cfg = (argv: string[], env: Record<string, string> = {}) => {
    const l = applyConfigFile(parseCliArgs(argv), env);
    return normalizeConfig(l.args, l.env);
  };

  it('the README prod/dev profile configures pinning, the audit log and the cap for prod only', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n### A prod profile and a dev profile'));
    const dir = tempDir();
    const path = join(dir, 'mcp-proxy.json');
    writeFileSync(path, /```json\n([\s\S]*?)\n```/.exec(section)?.[1] as string);
    const prod = cfg(['--config', path, '--server', 'ops-prod']);
    expect(prod.pinTools).toBe(join(dir, 'pins.json'));
    expect(prod.audit).toEqual({ path: join(dir, 'logs/ops-prod-audit.jsonl'), args: 'shape' });
    expect(prod.maxResponseBytes).toBe(10485760);
    expect(prod.policy?.tools).toEqual({ allow: ['get_logs'], deny: undefined, readOnly: true });
    const dev = cfg(['--config', path, '--server', 'ops-dev']);
    expect([dev.pinTools, dev.audit, dev.maxResponseBytes]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a bad --audit-args, --audit-args without a log, --accept-tool without --pin-tools', () => {
    const base = ['https://x.example/mcp'];
    expect(() => cfg([...base, '--audit-log', '/tmp/a', '--audit-args', 'values'])).toThrow(/--audit-args \/ MCP_AUDIT_ARGS must be shape, hash or full/);
    expect(() => cfg(base, { MCP_AUDIT_ARGS: 'full' })).toThrow(/--audit-args \/ MCP_AUDIT_ARGS is set without --audit-log/);
    expect(() => cfg([...base, '--accept-tool', 'x'])).toThrow(/--accept-tool needs --pin-tools FILE/);
    expect(cfg(base, { MCP_AUDIT_LOG: '/tmp/a', MCP_AUDIT_ARGS: 'hash', MCP_PIN_TOOLS: '/tmp/p', MCP_MAX_RESPONSE_BYTES: '2048' })).toMatchObject({
      audit: { path: '/tmp/a', args: 'hash' },
      pinTools: '/tmp/p',
      maxResponseBytes: 2048,
    });
  });
});

describe('the audit identity', () => {
  it('SigV4: the access key id’s last 4, the role and session; mTLS: subject and fingerprint; never a secret', async () => {
    const pki = await createTestPki();
    try {
      const argv = ['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp', '--role-arn', 'arn:aws:iam::123456789012:role/audit', '--role-session-name', 'ada', '--client-cert', pki.clientOne.certPath, '--client-key', pki.clientOne.keyPath];
      const l = applyConfigFile(parseCliArgs(argv), {});
      const config = normalizeConfig(l.args, l.env);
      const log = captureLog().logger;
      const signer = createSigV4Signer({ service: 'execute-api', region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIAEXAMPLEKEY7XQA', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) });
      const tls = createClientIdentitySource(config.tls, log);
      const identity = auditIdentity(config, [signer], tls);
      // Before the first signature the key is not known yet.
      expect(identity().accessKeyId).toBeUndefined();
      await signer.sign({ method: 'POST', url: config.endpoint, headers: {}, body: Buffer.from('{}') }, { now: Date.now, attempt: 1, logger: log });
      const id = identity();
      expect(id).toEqual({
        accessKeyId: '…7XQA',
        roleArn: 'arn:aws:iam::123456789012:role/audit',
        roleSessionName: 'ada',
        certSubject: tls?.current().subject,
        certSha256: tls?.current().fingerprint,
      });
      expect(id.certSha256).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
      expect(JSON.stringify(id)).not.toMatch(/AKIAEXAMPLE|wJalr/);
    } finally {
      pki.cleanup();
    }
  });

  it('bearer: sha256: and the first 12 hex digits of the token’s SHA-256', () => {
    const signer = createBearerSigner({ token: 'Bearer tok-for-identity-1' });
    expect(signer.identity?.()).toEqual({ bearer: `sha256:${sha256Hex('tok-for-identity-1').slice(0, 12)}` });
  });
});

describe('the pin hook, when the pin file is deleted while it runs', () => {
  it('records anew instead of hiding every tool', async () => {
    const file = join(tempDir(), 'pins.json');
    const log = captureLog().logger;
    const seed = pinHook({ file, endpoint: 'E', log });
    const tools = [{ name: 'a', description: 'd' }];
    const list = remote({ jsonrpc: '2.0', id: 1, result: { tools } });
    await seed.onServerMessage?.(list, ctx('tools/list', undefined, {}));
    await seed.flush();
    const running = pinHook({ file, endpoint: 'E', log });
    rmSync(file);
    const changed = remote({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'a', description: 'other' }, { name: 'b' }] } });
    expect(await running.onServerMessage?.(changed, ctx('tools/list', undefined, {}))).toBeUndefined();
    await running.flush();
    expect(Object.keys(loadPins(file, 'E'))).toEqual(['a', 'b']);
  });
});
