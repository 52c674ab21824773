/**
 * Hosts may give the proxy a stderr pipe and never read it. Logging must never stall the
 * relay: lines beyond a bounded buffer are dropped, counted, and reported once the pipe
 * drains (README, "How it works"). A host that does read stderr loses nothing, up to exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { createLineSplitter } from '../helpers/line-splitter.js';
import { startMcpServer, type Handler } from '../helpers/mcp-server.js';
import { BIN, hermeticEnv, INIT } from '../helpers/spawn-proxy.js';

const TOKEN = 'CANARY-stderr-unread-5e1a';
const IN_FLIGHT = 32;
const DROPPED = /^dropped (\d+) log lines: stderr was not being read$/;
const cleanups = useCleanups();

/** tools/call "fail" gets an HTTP 500: the proxy logs two warnings per call and answers it. */
const failingCalls = (inner: Handler): Handler => (req, res, body) => {
  if (body.includes('"name":"fail"')) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    return;
  }
  return inner(req, res, body);
};

/** A proxy in front of that server; stderr is a pipe the test reads only when it chooses to. */
async function proxy(): Promise<ChildProcessWithoutNullStreams> {
  const s = await startMcpServer({ bearerToken: TOKEN, wrap: failingCalls });
  cleanups.push(() => s.close());
  const child = spawn(process.execPath, [BIN], {
    env: hermeticEnv({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN, MCP_LOG_LEVEL: 'debug' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  return child;
}

/**
 * Initializes, then keeps IN_FLIGHT failing calls open until `calls` are answered. Resolves
 * with how many were answered: all of them, or as many as were when `timeoutMs` ran out.
 */
function runCalls(child: ChildProcessWithoutNullStreams, calls: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const answered = new Set<number>();
    let sent = 0;
    const sendNext = () => {
      if (sent >= calls) return;
      sent++;
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: sent, method: 'tools/call', params: { name: 'fail', arguments: {} } }) + '\n');
    };
    setTimeout(() => resolve(answered.size), timeoutMs).unref();
    child.stdout.setEncoding('utf8');
    child.stdout.on(
      'data',
      createLineSplitter((line) => {
        const m = JSON.parse(line);
        if (m.id === 0) {
          child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
          for (let i = 0; i < IN_FLIGHT; i++) sendNext();
          return;
        }
        expect(m.error?.code, line).toBe(-32603);
        answered.add(m.id);
        if (answered.size === calls) resolve(calls);
        else sendNext();
      }),
    );
    child.stdin.write(JSON.stringify(INIT) + '\n');
  });
}

/** Reads stderr from now on; `until` resolves with the first line matching `pred`. */
function readStderr(child: ChildProcessWithoutNullStreams): { lines: string[]; until(pred: (msg: any) => boolean): Promise<any> } {
  const lines: string[] = [];
  const waiters: Array<{ pred: (msg: any) => boolean; resolve: (msg: any) => void }> = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on(
    'data',
    createLineSplitter((line) => {
      lines.push(line);
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // a torn line: the callers' assertions on `lines` catch it
      }
      for (const w of waiters.filter((x) => x.pred(msg))) w.resolve(msg);
    }),
  );
  return { lines, until: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })) };
}

const exited = (child: ChildProcessWithoutNullStreams) => new Promise((resolve) => child.on('exit', resolve));

describe('a stderr pipe nobody reads', () => {
  it('does not stall the relay: 3000 calls that each log are all answered, and the dropped lines are reported', async () => {
    const child = await proxy();
    // No reader on child.stderr yet: after Node's small read-ahead, nothing reads the pipe.
    expect(`${await runCalls(child, 3000, 60_000)} of 3000 answered`).toBe('3000 of 3000 answered');

    // Now the host reads stderr: the backlog drains and ends with one report of what was dropped.
    const err = readStderr(child);
    const report = await err.until((m) => DROPPED.test(m.msg));
    expect(report.level).toBe(40);
    expect(Number(DROPPED.exec(report.msg)![1])).toBeGreaterThan(0);
    for (const l of err.lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(err.lines.join('\n')).not.toContain(TOKEN);

    child.stdin.end();
    expect(await exited(child)).toBe(0);
  }, 90_000);

  it('a host that reads stderr gets every line, through the last one before exit', async () => {
    const child = await proxy();
    const err = readStderr(child);
    expect(await runCalls(child, 500, 60_000)).toBe(500);
    child.stdin.end();
    expect(await exited(child)).toBe(0);
    const msgs = err.lines.map((l) => JSON.parse(l).msg as string);
    expect(msgs.filter((m) => m === 'the server answered with an HTTP error')).toHaveLength(500);
    expect(msgs.filter((m) => DROPPED.test(m))).toEqual([]);
    expect(msgs.at(-1)).toBe('session closed');
  }, 90_000);
});
