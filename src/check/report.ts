import { scrubSecrets } from '../logging/safe-url.js';

/** ok ✓, warn ! (worth knowing, not fatal), fail ✗ (the host would not connect), skip – (not tried). */
export type StageStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of `--check`: what was checked, what was found and, on failure, the fix. */
export interface Stage {
  /** Stable name for scripts: configuration, credentials, client-certificate, dns, proxy, tls, tcp, mcp. */
  readonly id: string;
  readonly status: StageStatus;
  readonly summary: string;
  /** Facts found, as name → value; never a secret (every value is scrubbed again on output). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly fix?: string;
  /** Structured facts for `--check --json` only (the text has them in the summary). */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface CheckReport {
  readonly version: string;
  /** As the log prints it (secrets in the path masked). */
  readonly endpoint: string;
  readonly stages: readonly Stage[];
}

const MARK: Record<StageStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '–' };

export function passed(report: CheckReport): boolean {
  return !report.stages.some((s) => s.status === 'fail');
}

function verdict(report: CheckReport): { status: StageStatus; summary: string } {
  const failed = report.stages.filter((s) => s.status === 'fail');
  const warned = report.stages.filter((s) => s.status === 'warn');
  if (failed.length === 1) return { status: 'fail', summary: `a host would not connect: fix ${failed[0]?.id}` };
  if (failed.length > 1) return { status: 'fail', summary: `a host would not connect: fix ${failed.map((s) => s.id).join(', ')} (start with ${failed[0]?.id})` };
  return { status: warned.length > 0 ? 'warn' : 'ok', summary: `a host with these settings connects${warned.length > 0 ? `; see the warnings (${warned.map((s) => s.id).join(', ')})` : ''}` };
}

function detailText(value: unknown): string {
  if (Array.isArray(value)) return value.map(detailText).join(', ');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * Server-supplied text (server and tool names, an STS ARN, a granted scope) must not drive
 * the terminal: C0 and C1 control characters (ESC, CR, LF, …) are shown as U+FFFD.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/**
 * For a person in a terminal: one line per stage, the facts indented under it, the fix on a
 * failure. No line starts with `{`, so nothing here can pass for a JSON-RPC message.
 */
export function renderText(report: CheckReport): string {
  const out = [`mcp-signing-proxy ${report.version} check: ${report.endpoint}`];
  for (const s of report.stages) {
    out.push(`${MARK[s.status]} ${s.id}: ${s.summary}`);
    for (const [name, value] of Object.entries(s.details ?? {})) {
      if (value !== undefined) out.push(`    ${name}: ${detailText(value)}`);
    }
    if (s.fix !== undefined && (s.status === 'fail' || s.status === 'warn')) out.push(`    fix: ${s.fix}`);
  }
  const v = verdict(report);
  out.push(`${MARK[v.status]} verdict: ${v.summary}`);
  return `${scrubSecrets(out.map(printable).join('\n'))}\n`;
}

/** `--check --json`: one JSON document with the same stages, for scripts. */
export function renderJson(report: CheckReport): string {
  const v = verdict(report);
  const doc = { ok: passed(report), verdict: v.summary, version: report.version, endpoint: report.endpoint, stages: report.stages };
  return `${scrubSecrets(JSON.stringify(doc, null, 2))}\n`;
}

/**
 * `--check --json` when the settings themselves are wrong: the configuration stage failed
 * and nothing else ran. (The text form of that is the start-up error on stderr.)
 */
export function configurationFailure(message: string, hint: string | undefined, version: string): string {
  return renderJson({ version, endpoint: '-', stages: [{ id: 'configuration', status: 'fail', summary: message, ...(hint === undefined ? {} : { fix: hint }) }] });
}
