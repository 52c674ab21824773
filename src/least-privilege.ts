/**
 * The relay hooks of README "Least privilege", in their order: the tool policy first (what
 * it hides is never pinned), then pinning, then the audit log (which sees the refusals of
 * both). Each module is loaded only when its setting is used.
 */
import type { Config } from './config/config.js';
import type { Logger } from './logging/logger.js';
import { safeUrl } from './logging/safe-url.js';
import type { RelayHook } from './relay/hooks.js';

export interface LeastPrivilege {
  readonly hooks: readonly RelayHook[];
  /** Writes what is still queued (pins, audit lines), within `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

export async function leastPrivilegeHooks(config: Config, log: Logger, identity: () => Record<string, string>): Promise<LeastPrivilege> {
  const hooks: RelayHook[] = [];
  const closers: Array<(ms: number) => Promise<void>> = [];
  if (config.policy !== undefined) {
    const { policyHook } = await import('./policy/policy-hook.js');
    hooks.push(policyHook(config.policy, log));
  }
  if (config.pinTools !== undefined) {
    const [{ pinHook }, { pinKey }] = await Promise.all([import('./pinning/pin-hook.js'), import('./pinning/pin-key.js')]);
    const pins = pinHook({ file: config.pinTools, endpoint: pinKey(config.endpoint), log });
    hooks.push(pins);
    closers.push(() => pins.flush());
  }
  if (config.audit !== undefined) {
    const [{ AuditLog, checkAuditPath }, { auditHook }] = await Promise.all([import('./audit/audit-log.js'), import('./audit/audit-hook.js')]);
    checkAuditPath(config.audit.path);
    if (config.audit.args === 'full') {
      log.warn({ path: config.audit.path }, 'the audit log records tool arguments IN FULL (--audit-args full / MCP_AUDIT_ARGS): personal data, file contents and whatever the model sends end up in it; known secrets are masked');
    }
    const audit = new AuditLog(config.audit.path, log);
    hooks.push(auditHook({ log: audit, endpoint: safeUrl(config.endpoint), args: config.audit.args, identity }));
    closers.push((ms) => audit.close(ms));
  }
  return {
    hooks,
    async close(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closers.map((c) => c(timeoutMs))), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
