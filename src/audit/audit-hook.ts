/**
 * The audit log as a relay hook: one line per tools/call, resources/read and prompts/get,
 * and per refused request, written when the request ends (README "Audit log"). It does
 * nothing on the relay's path but queue a closure: parsing the arguments and the answer
 * happens when the batch is written.
 */
import type { RelayHook, RequestContext, RequestEnd } from '../relay/hooks.js';
import type { AuditLog } from './audit-log.js';
import { argumentsOf, AUDITED, describeArgs, outcomeOf, type AuditArgs, type AuditRecord } from './audit-record.js';

export interface AuditHookOptions {
  readonly log: AuditLog;
  /** Origin and path, masked as in the start-up log line. */
  readonly endpoint: string;
  readonly args: AuditArgs;
  /** Who the proxy acts as, at the time of the call (tokens and certificates rotate). */
  readonly identity: () => Record<string, string>;
  readonly now?: () => number;
}

export function auditHook(opts: AuditHookOptions): RelayHook {
  const now = opts.now ?? Date.now;
  return {
    name: 'the audit log',
    onEnd(req: RequestContext, end: RequestEnd) {
      if (!AUDITED.has(req.method) && end.outcome !== 'refused') return;
      const at = now();
      const identity = opts.identity();
      opts.log.append((): AuditRecord => {
        const args = describeArgs(argumentsOf(req.body), opts.args);
        const o = outcomeOf(req, end);
        return {
          ts: new Date(at).toISOString(),
          endpoint: opts.endpoint,
          identity,
          method: req.method,
          name: req.name ?? null,
          id: req.id,
          ...(args !== undefined && { args }),
          outcome: o.outcome,
          ...(o.code !== undefined && { code: o.code }),
          ...(o.rule !== undefined && { rule: o.rule }),
          ms: at - req.startedAt,
          bytes: o.bytes,
        };
      });
    },
  };
}
