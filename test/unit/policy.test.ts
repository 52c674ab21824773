import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { ConfigError, type PolicyError } from '../../src/errors.js';
import { describeMessage } from '../../src/jsonrpc.js';
import { compileGlobs, globProblem } from '../../src/policy/glob.js';
import { Policy, type PolicyConfig } from '../../src/policy/policy.js';
import { policyHook } from '../../src/policy/policy-hook.js';
import type { RequestContext, ServerVerdict } from '../../src/relay/hooks.js';
import { captureLog } from '../helpers/log-capture.js';

const none = { allow: undefined, deny: undefined };
const config = (c: Partial<{ tools: Partial<PolicyConfig['tools']>; prompts: PolicyConfig['prompts']; resources: PolicyConfig['resources'] }>): PolicyConfig => ({
  tools: { ...none, readOnly: false, ...c.tools },
  prompts: c.prompts ?? none,
  resources: c.resources ?? none,
});

describe('globs', () => {
  it('* matches any characters, / included; the rest is literal and case-sensitive', () => {
    const m = compileGlobs(['get_*', 'exact', '*.read', 'a*b*c']);
    for (const yes of ['get_', 'get_user', 'get_/x', 'exact', 'x.read', 'abc', 'a-b-c']) expect(m(yes), yes).toBe(true);
    for (const no of ['Get_user', 'exact2', 'xread', 'ab', 'get']) expect(m(no), no).toBe(false);
    expect(compileGlobs(['a.b'])('axb')).toBe(false);
    expect(compileGlobs(['file:///docs/*'])('file:///docs/a/b.md')).toBe(true);
  });

  it('refuses what is not a glob here', () => {
    expect(globProblem('', 'name')).toMatch(/empty/);
    expect(globProblem('a b', 'name')).toMatch(/whitespace/);
    expect(globProblem('get_?', 'name')).toMatch(/is not a wildcard \(only \* is\)/);
    expect(globProblem('[ab]', 'name')).toMatch(/is not a wildcard \(only \* is\)/);
    expect(globProblem('db://{id}?x=1', 'uri')).toBeUndefined();
    expect(globProblem('get_*', 'name')).toBeUndefined();
  });
});

describe('Policy', () => {
  it('deny wins over allow, and names the rule', () => {
    const p = new Policy(config({ tools: { allow: ['*'], deny: ['delete_*'] } }));
    expect(p.refusal('tools', 'get_user')).toBeUndefined();
    const r = p.refusal('tools', 'delete_service');
    expect(r?.message).toBe('tool "delete_service" is not allowed by --deny-tools');
    expect(r?.rule).toBe('--deny-tools');
    expect(r?.hint).toMatch(/--deny-tools \/ MCP_DENY_TOOLS/);
  });

  it('an allow list admits only what matches', () => {
    const p = new Policy(config({ tools: { allow: ['get_*'] } }));
    expect(p.refusal('tools', 'get_user')).toBeUndefined();
    expect(p.refusal('tools', 'put_user')?.message).toBe('tool "put_user" is not allowed by --allow-tools');
  });

  it('--read-only admits readOnlyHint tools, and with --allow-tools the union', () => {
    const ro = new Policy(config({ tools: { readOnly: true } }));
    expect(ro.refusal('tools', 'get', { readOnly: true })).toBeUndefined();
    expect(ro.refusal('tools', 'put', { readOnly: false })?.message).toMatch(/^tool "put" is not allowed by --read-only: the server does not annotate/);
    expect(ro.refusal('tools', 'never_listed')?.message).toMatch(/has not listed it with readOnlyHint: true/);
    const union = new Policy(config({ tools: { readOnly: true, allow: ['put'], deny: ['get'] } }));
    expect(union.refusal('tools', 'put', { readOnly: false })).toBeUndefined();
    expect(union.refusal('tools', 'other', { readOnly: true })).toBeUndefined();
    expect(union.refusal('tools', 'get', { readOnly: true })?.rule).toBe('--deny-tools');
    expect(union.refusal('tools', 'x', { readOnly: false })?.rule).toBe('--read-only and --allow-tools');
  });

  it('prompts and resources have their own lists; unset kinds are not governed', () => {
    const p = new Policy(config({ prompts: { allow: ['summary'], deny: undefined }, resources: { allow: undefined, deny: ['secret://*'] } }));
    expect(p.governs('tools')).toBe(false);
    expect(p.refusal('prompts', 'other')?.message).toBe('prompt "other" is not allowed by --allow-prompts');
    expect(p.refusal('resources', 'secret://db')?.message).toBe('resource "secret://db" is not allowed by --deny-resources');
    expect(p.refusal('resources', 'docs://a')).toBeUndefined();
  });
});

describe('the policy hook', () => {
  const ctx = (method: string, name?: string, id: number | string = 1): RequestContext => ({ id, method, name, startedAt: 0, body: Buffer.alloc(0) });
  const response = (id: number | string, result: object) => {
    const v = { jsonrpc: '2.0', id, result };
    return { bytes: Buffer.from(JSON.stringify(v)), info: describeMessage(v) };
  };
  const rewritten = (v: ServerVerdict | undefined): any => (v !== undefined && 'rewrite' in v ? JSON.parse(v.rewrite.toString()) : v);

  it('filters a tools/list page and keeps everything else in the result', async () => {
    const hook = policyHook(config({ tools: { deny: ['rm'] } }), captureLog().logger);
    const msg = response(1, { tools: [{ name: 'ls' }, { name: 'rm' }, { bad: true }], nextCursor: 'p2', resultType: 'complete' });
    expect(rewritten(await hook.onServerMessage?.(msg, ctx('tools/list')))).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'ls' }], nextCursor: 'p2', resultType: 'complete' } });
    // Nothing hidden: the server's bytes go on untouched.
    expect(await hook.onServerMessage?.(response(2, { tools: [{ name: 'ls' }] }), ctx('tools/list', undefined, 2))).toBeUndefined();
    // Other methods' results are not looked at, nor are error answers.
    expect(await hook.onServerMessage?.(response(3, { tools: [{ name: 'rm' }] }), ctx('tools/call', 'ls', 3))).toBeUndefined();
  });

  it('filters prompts, resources and resource templates', async () => {
    const hook = policyHook(config({ prompts: { allow: ['p*'], deny: undefined }, resources: { allow: undefined, deny: ['secret://*'] } }), captureLog().logger);
    expect(rewritten(await hook.onServerMessage?.(response(1, { prompts: [{ name: 'plan' }, { name: 'x' }] }), ctx('prompts/list')))?.result.prompts).toEqual([{ name: 'plan' }]);
    expect(rewritten(await hook.onServerMessage?.(response(1, { resources: [{ uri: 'secret://a' }, { uri: 'docs://b' }] }), ctx('resources/list')))?.result.resources).toEqual([{ uri: 'docs://b' }]);
    expect(rewritten(await hook.onServerMessage?.(response(1, { resourceTemplates: [{ uriTemplate: 'secret://{id}' }] }), ctx('resources/templates/list')))?.result.resourceTemplates).toEqual([]);
  });

  it('--read-only learns each tool from tools/list and refuses calls by that', async () => {
    const hook = policyHook(config({ tools: { readOnly: true } }), captureLog().logger);
    expect(hook.onRequest?.(ctx('tools/call', 'get'))?.refuse.message).toMatch(/has not listed it/);
    const listed = await hook.onServerMessage?.(response(1, { tools: [{ name: 'get', annotations: { readOnlyHint: true } }, { name: 'put', annotations: { readOnlyHint: false } }, { name: 'bare' }] }), ctx('tools/list'));
    expect(rewritten(listed).result.tools.map((t: { name: string }) => t.name)).toEqual(['get']);
    expect(hook.onRequest?.(ctx('tools/call', 'get'))).toBeUndefined();
    expect(hook.onRequest?.(ctx('tools/call', 'put'))?.refuse.message).toMatch(/does not annotate it/);
    // A later listing that drops the hint wins (the client re-lists after list_changed).
    await hook.onServerMessage?.(response(2, { tools: [{ name: 'get', annotations: { readOnlyHint: 'yes' } }] }), ctx('tools/list', undefined, 2));
    expect((hook.onRequest?.(ctx('tools/call', 'get'))?.refuse as PolicyError).rule).toBe('--read-only');
  });

  it('refuses uses it cannot check, and leaves ungoverned kinds alone', () => {
    const hook = policyHook(config({ tools: { allow: ['*'] } }), captureLog().logger);
    expect(hook.onRequest?.(ctx('tools/call', undefined))?.refuse.message).toMatch(/without a string params.name/);
    expect(hook.onRequest?.(ctx('resources/read', 'secret://x'))).toBeUndefined();
    expect(hook.onRequest?.(ctx('prompts/get', 'p'))).toBeUndefined();
  });
});

describe('policy settings', () => {
  const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(['https://a.example/mcp', ...argv]), env);
  const fails = (argv: string[], env: Record<string, string> = {}): ConfigError => {
    try {
      cfg(argv, env);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads flags over variables; nothing set means no policy', () => {
    expect(cfg([]).policy).toBeUndefined();
    const p = cfg(['--allow-tools', 'get_*, list_*', '--read-only', '--deny-resources', 'secret://*'], { MCP_ALLOW_TOOLS: 'ignored', MCP_DENY_PROMPTS: 'x' }).policy;
    expect(p).toEqual({
      tools: { allow: ['get_*', 'list_*'], deny: undefined, readOnly: true },
      prompts: { allow: undefined, deny: ['x'] },
      resources: { allow: undefined, deny: ['secret://*'] },
    });
    expect(cfg([], { MCP_READ_ONLY: '1' }).policy?.tools.readOnly).toBe(true);
    expect(cfg([], { MCP_READ_ONLY: '0' }).policy).toBeUndefined();
  });

  it.each([
    [['--allow-tools', ''], {}, /^--allow-tools is empty$/],
    [[], { MCP_ALLOW_TOOLS: ' ' }, /^MCP_ALLOW_TOOLS is empty$/],
    [['--deny-tools', 'a,,b'], {}, /^--deny-tools has an invalid entry "": it is empty$/],
    [['--allow-prompts', 'get?'], {}, /^--allow-prompts has an invalid entry "get\?": \? is not a wildcard \(only \* is\)$/],
    [[], { MCP_DENY_RESOURCES: 'a b' }, /^MCP_DENY_RESOURCES has an invalid entry "a b": it contains whitespace/],
    [[], { MCP_READ_ONLY: 'maybe' }, /^MCP_READ_ONLY must be 1 or 0/],
  ])('refuses %j %j', (argv, env, message) => {
    const err = fails(argv as string[], env as Record<string, string>);
    expect(err.message).toMatch(message);
    expect(err.hint).toBeTruthy();
  });
});
