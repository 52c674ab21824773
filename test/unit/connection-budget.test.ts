import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { ConnectionBudget } from '../../src/transport/connection-budget.js';

/** Whether the promise has settled after pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('ConnectionBudget', () => {
  it('lets calls fill all but two slots, queues the rest in order, and hands freed slots on', async () => {
    const b = new ConnectionBudget(4);
    const r1 = await b.acquire('call');
    await b.acquire('call');
    const third = b.acquire('call');
    const fourth = b.acquire('call');
    expect(await settled(third)).toBe(false);
    r1();
    r1(); // idempotent: frees one slot, not two
    expect(await settled(third)).toBe(true);
    expect(await settled(fourth)).toBe(false);
  });

  it('keeps the event stream and the client messages going while calls hold their share', async () => {
    const b = new ConnectionBudget(4);
    await b.acquire('call');
    await b.acquire('call');
    const stream = b.acquire('stream');
    expect(await settled(stream)).toBe(true);
    const control = await b.acquire('control');
    // Every slot is taken now: the next message waits, and goes before a queued call.
    const queuedCall = b.acquire('call');
    const queuedControl = b.acquire('control');
    expect(await settled(queuedControl)).toBe(false);
    control();
    expect(await settled(queuedControl)).toBe(true);
    expect(await settled(queuedCall)).toBe(false);
  });

  it('a stream never takes a call slot: with one stream open, calls keep their whole share', async () => {
    const b = new ConnectionBudget(3);
    await b.acquire('stream');
    const call = b.acquire('call');
    expect(await settled(call)).toBe(true);
    // The last slot stays for the client's messages, not for another stream.
    expect(await settled(b.acquire('stream'))).toBe(false);
    expect(await settled(b.acquire('control'))).toBe(true);
  });

  it('further streams take from the calls but leave them half, and never wait behind a queued call', async () => {
    const b = new ConnectionBudget(10); // 8 for calls
    for (let i = 0; i < 3; i++) await b.acquire('stream');
    const fourthStream = await b.acquire('stream');
    const fifthStream = await b.acquire('stream');
    expect(await settled(b.acquire('stream'))).toBe(false); // 1 + 8/2
    const calls = [];
    for (let i = 0; i < 4; i++) calls.push(b.acquire('call'));
    for (const c of calls) expect(await settled(c)).toBe(true);
    const fifth = b.acquire('call');
    expect(await settled(fifth)).toBe(false);
    fifthStream();
    expect(await settled(fifth)).toBe(false); // the queued sixth stream goes first
    fourthStream();
    expect(await settled(fifth)).toBe(true);
    expect(await settled(b.acquire('control'))).toBe(true);
  });

  it('a waiter whose signal aborts leaves the queue with the signal reason', async () => {
    const b = new ConnectionBudget(3);
    const release = await b.acquire('call');
    const ctl = new AbortController();
    const cancelled = b.acquire('call', ctl.signal);
    const next = b.acquire('call');
    ctl.abort();
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect(await settled(next)).toBe(true);
  });
});

describe('--max-connections / MCP_MAX_CONNECTIONS', () => {
  const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(['https://x.example/mcp', ...argv]), env);
  it('defaults to 32; the flag wins over the variable', () => {
    expect(cfg([]).network.maxConnections).toBe(32);
    expect(cfg([], { MCP_MAX_CONNECTIONS: '8' }).network.maxConnections).toBe(8);
    expect(cfg(['--max-connections', '64'], { MCP_MAX_CONNECTIONS: '8' }).network.maxConnections).toBe(64);
  });
  it.each(['2', '0', 'many', '5000'])('refuses %s, naming the flag and the variable', (v) => {
    expect(() => cfg(['--max-connections', v])).toThrow(/--max-connections \/ MCP_MAX_CONNECTIONS/);
  });
});
