/**
 * The policy as a relay hook: list results lose what the client may not see (every page, in
 * both protocol eras, which share the result shapes), and requests for it are answered
 * locally with -32602, never sent upstream. After notifications/*_list_changed the client
 * lists again, and the new result is filtered the same way.
 */
import { PolicyError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { RelayHook, RequestContext, ServerVerdict } from '../relay/hooks.js';
import type { RemoteMessage } from '../transport/remote-transport.js';
import { Policy, type PolicyConfig, type PolicyKind } from './policy.js';

/** List methods → the result array and the field of each entry the rules match. */
const LISTS: Readonly<Record<string, { kind: PolicyKind; key: string; field: string }>> = {
  'tools/list': { kind: 'tools', key: 'tools', field: 'name' },
  'prompts/list': { kind: 'prompts', key: 'prompts', field: 'name' },
  'resources/list': { kind: 'resources', key: 'resources', field: 'uri' },
  'resources/templates/list': { kind: 'resources', key: 'resourceTemplates', field: 'uriTemplate' },
};

/** Requests that use one named thing (its name or URI is RequestContext.name). */
const USES: Readonly<Record<string, PolicyKind>> = {
  'tools/call': 'tools',
  'prompts/get': 'prompts',
  'resources/read': 'resources',
  'resources/subscribe': 'resources',
};

type Entry = Record<string, unknown>;

function isEntry(v: unknown): v is Entry {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function policyHook(config: PolicyConfig, log: Logger): RelayHook {
  const policy = new Policy(config);
  // readOnlyHint by tool name, from the latest tools/list page that listed it: tools/call
  // carries only the name.
  const readOnly = new Map<string, boolean>();

  function filter(msg: RemoteMessage, method: string): ServerVerdict | undefined {
    const list = LISTS[method];
    if (list === undefined || !policy.governs(list.kind)) return undefined;
    const value: unknown = JSON.parse(msg.bytes.toString('utf8'));
    if (!isEntry(value) || !isEntry(value.result) || !Array.isArray(value.result[list.key])) return undefined;
    const entries = value.result[list.key] as unknown[];
    const hidden: string[] = [];
    const kept = entries.filter((e) => {
      // An entry the rules cannot judge is not shown (the policy fails closed).
      if (!isEntry(e) || typeof e[list.field] !== 'string') return false;
      const name = e[list.field] as string;
      let facts;
      if (list.kind === 'tools') {
        const hint = isEntry(e.annotations) && e.annotations.readOnlyHint === true;
        readOnly.set(name, hint);
        facts = { readOnly: hint };
      }
      const shown = policy.refusal(list.kind, name, facts) === undefined;
      if (!shown) hidden.push(name);
      return shown;
    });
    if (kept.length === entries.length) return undefined;
    log.debug({ method, hidden }, 'hid what the policy does not allow');
    value.result[list.key] = kept;
    return { rewrite: Buffer.from(JSON.stringify(value)) };
  }

  return {
    name: 'the tool policy',
    onRequest(req: RequestContext) {
      const kind = USES[req.method];
      if (kind === undefined || !policy.governs(kind)) return undefined;
      if (req.name === undefined) {
        const param = kind === 'resources' ? 'uri' : 'name';
        return { refuse: new PolicyError(`${req.method} without a string params.${param} cannot be checked against the policy`, 'policy', `send params.${param} as a string`) };
      }
      const refusal = policy.refusal(kind, req.name, kind === 'tools' ? { readOnly: readOnly.get(req.name) } : undefined);
      return refusal === undefined ? undefined : { refuse: refusal };
    },
    onServerMessage(msg: RemoteMessage, req: RequestContext | undefined) {
      return req === undefined ? undefined : filter(msg, req.method);
    },
  };
}
