/**
 * Which tools, prompts and resources exist for the client (README "Least privilege").
 * A deny list wins over everything; with an allow list (or --read-only for tools) only
 * what it admits exists. Annotations such as readOnlyHint are the server's own claims (the
 * MCP schema: "all properties in ToolAnnotations are hints", "clients should never make tool
 * use decisions based on ToolAnnotations received from untrusted servers";
 * https://modelcontextprotocol.io/specification/2025-11-25/schema#toolannotations), so
 * --read-only is as trustworthy as the server.
 */
import { PolicyError } from '../errors.js';
import { compileGlobs } from './glob.js';

export interface ListRules {
  /** Patterns of the allow list; undefined: everything not denied. */
  readonly allow: readonly string[] | undefined;
  readonly deny: readonly string[] | undefined;
}

/** The validated settings; undefined in Config when none is set. */
export interface PolicyConfig {
  readonly tools: ListRules & { readonly readOnly: boolean };
  readonly prompts: ListRules;
  readonly resources: ListRules;
}

export type PolicyKind = 'tools' | 'prompts' | 'resources';

const NOUN: Record<PolicyKind, string> = { tools: 'tool', prompts: 'prompt', resources: 'resource' };
const ENV: Record<PolicyKind, string> = { tools: 'TOOLS', prompts: 'PROMPTS', resources: 'RESOURCES' };

interface Compiled {
  readonly allow: ((v: string) => boolean) | undefined;
  readonly deny: ((v: string) => boolean) | undefined;
}

/** What a tool is known to be, from the tools/list results seen so far. */
export interface ToolFacts {
  /** annotations.readOnlyHint === true; undefined when the tool was never listed. */
  readonly readOnly: boolean | undefined;
}

export class Policy {
  readonly #rules: Record<PolicyKind, Compiled>;
  readonly #readOnly: boolean;

  constructor(config: PolicyConfig) {
    const compile = (r: ListRules): Compiled => ({
      allow: r.allow && compileGlobs(r.allow),
      deny: r.deny && compileGlobs(r.deny),
    });
    this.#rules = { tools: compile(config.tools), prompts: compile(config.prompts), resources: compile(config.resources) };
    this.#readOnly = config.tools.readOnly;
  }

  /** Whether any rule applies to this kind (otherwise its messages are not even looked at). */
  governs(kind: PolicyKind): boolean {
    const r = this.#rules[kind];
    return r.allow !== undefined || r.deny !== undefined || (kind === 'tools' && this.#readOnly);
  }

  /**
   * Undefined when `name` (a name, or a resource URI) exists for the client; otherwise the
   * refusal that names the rule hiding it and the fix.
   */
  refusal(kind: PolicyKind, name: string, tool: ToolFacts = { readOnly: undefined }): PolicyError | undefined {
    const r = this.#rules[kind];
    const what = `${NOUN[kind]} "${name}"`;
    const flag = (rule: 'allow' | 'deny'): string => `--${rule}-${kind} / MCP_${rule.toUpperCase()}_${ENV[kind]}`;
    if (r.deny?.(name)) return new PolicyError(`${what} is not allowed by --deny-${kind}`, `--deny-${kind}`, `remove it from ${flag('deny')} to allow it`);
    if (r.allow?.(name)) return undefined;
    const readOnly = kind === 'tools' && this.#readOnly;
    if (readOnly && tool.readOnly === true) return undefined;
    if (readOnly) {
      const rule = r.allow === undefined ? '--read-only' : '--read-only and --allow-tools';
      const why = tool.readOnly === undefined
        ? 'the server has not listed it with readOnlyHint: true in a tools/list result seen by the proxy'
        : 'the server does not annotate it readOnlyHint: true';
      return new PolicyError(`${what} is not allowed by ${rule}: ${why}`, rule, `add it to ${flag('allow')} to allow it anyway`);
    }
    if (r.allow !== undefined) return new PolicyError(`${what} is not allowed by --allow-${kind}`, `--allow-${kind}`, `add it to ${flag('allow')} to allow it`);
    return undefined;
  }
}
