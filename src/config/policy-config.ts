import { ConfigError } from '../errors.js';
import { globProblem, splitList, type GlobKind } from '../policy/glob.js';
import type { ListRules, PolicyConfig, PolicyKind } from '../policy/policy.js';
import type { CliArgs } from './args.js';

type Env = Readonly<Record<string, string | undefined>>;

const KIND: Record<PolicyKind, GlobKind> = { tools: 'name', prompts: 'name', resources: 'uri' };

/**
 * One list, from its flag or else its variable. An empty value is refused, not read as
 * "unset": an allow list that is empty by accident would otherwise expose every tool, or
 * hide every tool if read literally (README "Least privilege").
 */
function list(flagValue: string | undefined, e: Env, rule: 'allow' | 'deny', kind: PolicyKind): string[] | undefined {
  const flag = `--${rule}-${kind}`;
  const name = `MCP_${rule.toUpperCase()}_${kind.toUpperCase()}`;
  const raw = flagValue ?? e[name];
  if (raw === undefined) return undefined;
  const where = flagValue === undefined ? name : flag;
  const what = kind === 'resources' ? 'resource URIs' : `${kind.slice(0, -1)} names`;
  if (raw.trim() === '') {
    throw new ConfigError(`${where} is empty`, `give a comma-separated list of ${what} (* matches any characters), or unset ${flag} / ${name}`);
  }
  const patterns = splitList(raw);
  for (const p of patterns) {
    const problem = globProblem(p, KIND[kind]);
    if (problem !== undefined) {
      throw new ConfigError(`${where} has an invalid entry "${p}": ${problem}`, `give a comma-separated list of ${what}; * matches any characters, nothing else is a wildcard`);
    }
  }
  return patterns;
}

function readOnlyEnv(e: Env): boolean {
  const v = e.MCP_READ_ONLY?.trim();
  if (v === undefined || v === '' || /^(0|false|no|off)$/i.test(v)) return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  // A security switch whose value cannot be read is refused rather than guessed.
  throw new ConfigError(`MCP_READ_ONLY must be 1 or 0, got "${v.slice(0, 20)}"`, 'set MCP_READ_ONLY=1 to expose only read-only tools, or unset it');
}

/** The tool, prompt and resource rules; undefined when none is set (no policy hook at all). */
export function policyConfig(args: CliArgs, e: Env): PolicyConfig | undefined {
  const rules = (kind: PolicyKind, allow: string | undefined, deny: string | undefined): ListRules => ({
    allow: list(allow, e, 'allow', kind),
    deny: list(deny, e, 'deny', kind),
  });
  const tools = { ...rules('tools', args.allowTools, args.denyTools), readOnly: args.readOnly || readOnlyEnv(e) };
  const prompts = rules('prompts', args.allowPrompts, args.denyPrompts);
  const resources = rules('resources', args.allowResources, args.denyResources);
  const set = (r: ListRules): boolean => r.allow !== undefined || r.deny !== undefined;
  if (!set(tools) && !tools.readOnly && !set(prompts) && !set(resources)) return undefined;
  return Object.freeze({ tools, prompts, resources });
}
