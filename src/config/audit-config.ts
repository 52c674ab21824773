import { ConfigError } from '../errors.js';
import type { AuditArgs } from '../audit/audit-record.js';
import type { CliArgs } from './args.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface AuditConfig {
  readonly path: string;
  readonly args: AuditArgs;
}

const MODES: readonly AuditArgs[] = ['shape', 'hash', 'full'];

/** --audit-log and --audit-args (README "Audit log"); undefined without a log. */
export function auditConfig(args: CliArgs, e: Env): AuditConfig | undefined {
  const path = args.auditLog ?? (e.MCP_AUDIT_LOG?.trim() || undefined);
  const rawMode = args.auditArgs ?? (e.MCP_AUDIT_ARGS?.trim() || undefined);
  if (rawMode !== undefined && !MODES.includes(rawMode as AuditArgs)) {
    throw new ConfigError(`--audit-args / MCP_AUDIT_ARGS must be shape, hash or full (got "${rawMode.slice(0, 20)}")`, 'use shape (keys and types), hash (adds a SHA-256) or full (the values)');
  }
  if (path === undefined) {
    if (rawMode !== undefined) throw new ConfigError('--audit-args / MCP_AUDIT_ARGS is set without --audit-log / MCP_AUDIT_LOG', 'set --audit-log PATH too, or unset --audit-args');
    return undefined;
  }
  return { path, args: (rawMode ?? 'shape') as AuditArgs };
}
