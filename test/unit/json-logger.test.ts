/**
 * The logger writes pino's line format (README, "Logging"): the same calls through pino, with
 * the options the proxy used to give it, produce the same JSON lines (time aside), with the
 * same serializer and redaction. pino is a dev dependency for this comparison only.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../src/errors.js';
import { createJsonLogger, type Logger } from '../../src/logging/json-logger.js';
import { serializeError } from '../../src/logging/logger.js';

const REDACT_PATHS = ['headers.authorization', 'headers["proxy-authorization"]', 'headers["x-amz-security-token"]', 'headers.cookie', 'headers["x-api-key"]', '*.secretAccessKey', '*.sessionToken', 'secretAccessKey', 'sessionToken', 'token'];
const OUR_PATHS = [['headers', 'authorization'], ['headers', 'proxy-authorization'], ['headers', 'x-amz-security-token'], ['headers', 'cookie'], ['headers', 'x-api-key'], ['*', 'secretAccessKey'], ['*', 'sessionToken'], ['secretAccessKey'], ['sessionToken'], ['token']];

function both(level: 'trace' | 'info' | 'warn' | 'silent'): { ours: Logger; theirs: Logger; lines(): { ours: unknown[]; theirs: unknown[] } } {
  const a: string[] = [];
  const b: string[] = [];
  const ours = createJsonLogger(
    { level, base: { pid: process.pid }, serializers: { err: serializeError }, redact: { paths: OUR_PATHS, censor: '[redacted]' } },
    { write: (l) => void a.push(l) },
  );
  const theirs = pino(
    { level, base: { pid: process.pid }, serializers: { err: serializeError }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    { write: (l: string) => void b.push(l) },
  );
  // Times differ by a millisecond or so; everything else, key order included, must match.
  const norm = (lines: string[]) => lines.map((l) => {
    expect(l.endsWith('\n')).toBe(true);
    return JSON.stringify({ ...JSON.parse(l), time: 0 });
  });
  return { ours, theirs, lines: () => ({ ours: norm(a), theirs: norm(b) }) };
}

function exercise(log: Logger): void {
  log.info('plain message');
  log.warn({ a: 1, skipped: undefined, nested: { list: [1, 'x'], when: new Date(0) } }, 'fields then message');
  log.info({ only: 'fields' });
  log.error({ err: new ProxyError('ESP_X', 'safe text', { hint: 'do this', cause: new Error('CANARYCAUSE') }) }, 'our error');
  log.error({ err: Object.assign(new Error('CANARYFOREIGN'), { code: 'EFOO' }) }, 'foreign error');
  log.warn({ token: 'CANARYTOKEN', headers: { authorization: 'CANARYAUTH', 'x-api-key': 'CANARYKEY', accept: 'x' }, creds: { secretAccessKey: 'CANARYSECRET', sessionToken: 'CANARYST', keep: 1 } }, 'masked');
  log.debug({ below: true }, 'filtered at info and above');
  const child = log.child({ component: 'aws-credentials' });
  child.info({ source: 'env' }, 'from a child');
  child.child({ pass: 2 }).fatal({ n: 2 }, 'grandchild');
  log.info({ big: 10n }, 'a BigInt');
}

describe('JSON logger', () => {
  it.each(['trace', 'info', 'warn', 'silent'] as const)('writes the lines pino writes, at level %s', (level) => {
    const { ours, theirs, lines } = both(level);
    exercise(ours);
    exercise(theirs);
    const { ours: a, theirs: b } = lines();
    expect(a).toEqual(b);
    if (level === 'silent') expect(a).toEqual([]);
    else expect(a.length).toBeGreaterThan(3);
    expect(a.join('\n')).not.toContain('CANARY');
  });

  it('masks without touching the caller’s objects', () => {
    const { ours, lines } = both('info');
    const headers = { authorization: 'CANARYAUTH', accept: 'x' };
    ours.info({ headers }, 'h');
    expect(headers.authorization).toBe('CANARYAUTH');
    expect(lines().ours[0]).toContain('"authorization":"[redacted]"');
  });

  it('writes a circular structure as valid JSON', () => {
    const { ours, lines } = both('info');
    const circular: Record<string, unknown> = { name: 'c' };
    circular.self = circular;
    ours.info({ circular }, 'c');
    expect(JSON.parse(lines().ours[0] as string)).toMatchObject({ circular: { name: 'c', self: '[Circular]' }, msg: 'c' });
  });

  it('logs an Error passed alone under err, without copying its message', () => {
    const { ours, lines } = both('info');
    ours.warn(Object.assign(new Error('CANARYMESSAGE'), { code: 'EX' }) as object);
    expect(JSON.parse(lines().ours[0] as string)).toMatchObject({ level: 40, err: { type: 'Error', code: 'EX' } });
    expect(lines().ours[0]).not.toContain('CANARY');
  });
});
