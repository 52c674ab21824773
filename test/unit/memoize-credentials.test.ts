import { describe, expect, it } from 'vitest';
import { CredentialError } from '../../src/errors.js';
import { MIN_VALIDITY_MS, memoizeCredentials } from '../../src/credentials/memoize-credentials.js';

interface Creds {
  id: number;
  expiration?: Date;
}

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);

/** A fake STS: each fetch issues credentials valid for `lifetimeMs` from the fake clock. */
function harness(lifetimeMs: number | undefined) {
  let clock = T0;
  let issued = 0;
  const gates: Array<() => void> = [];
  const state = {
    manual: false,
    failWith: undefined as Error | undefined,
  };
  const fetch = async (): Promise<Creds> => {
    if (state.manual) await new Promise<void>((resolve) => gates.push(resolve));
    if (state.failWith !== undefined) throw state.failWith;
    issued += 1;
    return lifetimeMs === undefined ? { id: issued } : { id: issued, expiration: new Date(clock + lifetimeMs) };
  };
  const backgroundErrors: unknown[] = [];
  const source = memoizeCredentials(fetch, { now: () => clock, onBackgroundError: (e) => backgroundErrors.push(e) });
  return {
    source,
    state,
    backgroundErrors,
    get issued() {
      return issued;
    },
    set clock(t: number) {
      clock = t;
    },
    get clock() {
      return clock;
    },
    release() {
      for (const g of gates.splice(0)) g();
    },
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('memoizeCredentials', () => {
  it('fetches once and reuses until the refresh window', async () => {
    const h = harness(60 * MIN);
    const a = await h.source();
    h.clock = T0 + 54 * MIN;
    const b = await h.source();
    expect(a).toBe(b);
    expect(h.issued).toBe(1);
  });

  it('coalesces 100 parallel first calls into one fetch', async () => {
    const h = harness(15 * MIN);
    h.state.manual = true;
    const all = Array.from({ length: 100 }, () => h.source());
    await flush();
    h.release();
    const got = await Promise.all(all);
    expect(h.issued).toBe(1);
    expect(new Set(got).size).toBe(1);
  });

  it('100 parallel calls across the expiry boundary: exactly one refresh, no expired credentials', async () => {
    const h = harness(15 * MIN);
    const first = await h.source();
    h.state.manual = true;
    // Straddle the boundary: half the callers arrive just before expiry, half just after.
    const calls: Array<Promise<Creds>> = [];
    for (let i = 0; i < 100; i++) {
      h.clock = T0 + 15 * MIN - 50 + i;
      calls.push(h.source());
    }
    await flush();
    h.release();
    const got = await Promise.all(calls);
    expect(h.issued).toBe(2);
    for (const c of got) {
      expect(c).not.toBe(first);
      expect(c.expiration!.getTime()).toBeGreaterThan(h.clock);
    }
  });

  it('refreshes ahead of expiry in the background and keeps serving the current value meanwhile', async () => {
    const h = harness(15 * MIN);
    const first = await h.source();
    h.clock = T0 + 10 * MIN + 1; // inside the 5-minute window
    h.state.manual = true;
    expect(await h.source()).toBe(first); // not blocked by the refresh
    expect(await h.source()).toBe(first); // no second refresh started
    h.release();
    await flush();
    const second = await h.source();
    expect(second).not.toBe(first);
    expect(h.issued).toBe(2);
  });

  it('refreshes a 15-minute credential once per lifetime, not on every call', async () => {
    const h = harness(15 * MIN);
    await h.source();
    for (let t = 0; t <= 60 * MIN; t += 1000) {
      h.clock = T0 + t;
      await h.source();
      await flush();
    }
    // Refreshed at 10, 20, …, 60 min (5-minute window on a 15-minute lifetime).
    expect(h.issued).toBe(7);
  });

  it('uses a proportionate window for lifetimes shorter than twice the window', async () => {
    const h = harness(60_000); // 60 s: refreshed at half-life, not on every call
    await h.source();
    for (let t = 0; t <= 10 * MIN; t += 1000) {
      h.clock = T0 + t;
      const c = await h.source();
      expect(c.expiration!.getTime()).toBeGreaterThan(h.clock);
      await flush();
    }
    expect(h.issued).toBe(21); // one every 30 s over 10 minutes, plus the first
  });

  it('never hands out credentials within the minimum validity margin', async () => {
    const h = harness(15 * MIN);
    const first = await h.source();
    h.clock = T0 + 15 * MIN - MIN_VALIDITY_MS + 1;
    h.state.manual = true;
    const p = h.source();
    let settled = false;
    void p.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false); // waits for the refresh instead of returning `first`
    h.release();
    expect(await p).not.toBe(first);
  });

  it('keeps good credentials when a background refresh fails, backs off, and retries later', async () => {
    const h = harness(15 * MIN);
    const first = await h.source();
    h.state.failWith = new Error('sts down');
    h.clock = T0 + 10 * MIN + 1;
    expect(await h.source()).toBe(first);
    await flush();
    expect(h.backgroundErrors).toHaveLength(1);
    h.clock += 1000;
    expect(await h.source()).toBe(first);
    await flush();
    expect(h.backgroundErrors).toHaveLength(1); // backing off: no new attempt yet
    h.state.failWith = undefined;
    h.clock += 60_000;
    expect(await h.source()).toBe(first);
    await flush();
    expect(h.issued).toBe(2);
    expect(await h.source()).not.toBe(first);
  });

  it('propagates the error when nothing usable is cached, and tries again on the next call', async () => {
    const h = harness(15 * MIN);
    h.state.failWith = new Error('denied');
    await expect(h.source()).rejects.toThrow('denied');
    h.state.failWith = undefined;
    await expect(h.source()).resolves.toMatchObject({ id: 1 });
  });

  it('after expiry with a failing refresh, throws instead of returning the expired value', async () => {
    const h = harness(15 * MIN);
    await h.source();
    h.state.failWith = new Error('denied');
    h.clock = T0 + 16 * MIN;
    await expect(h.source()).rejects.toThrow('denied');
  });

  it('forceRefresh fetches even when the cached value is fresh, and joins a fetch in flight', async () => {
    const h = harness(60 * MIN);
    const first = await h.source();
    h.state.manual = true;
    const forced = [h.source({ forceRefresh: true }), h.source({ forceRefresh: true }), h.source()];
    await flush();
    h.release();
    const [a, b, c] = await Promise.all(forced);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    expect(c).toBe(first); // a plain call is not held up by the forced refresh
    expect(h.issued).toBe(2);
    expect(await h.source()).toBe(a);
  });

  it('keeps credentials without expiration until forced', async () => {
    const h = harness(undefined);
    const first = await h.source();
    h.clock = T0 + 1000 * 24 * 60 * MIN;
    expect(await h.source()).toBe(first);
    expect(await h.source({ forceRefresh: true })).not.toBe(first);
    expect(h.issued).toBe(2);
  });

  it('rejects credentials that arrive already expired (clock problem)', async () => {
    const h = harness(-1000);
    const err = await h.source().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as CredentialError).code).toBe('ESP_CREDENTIALS_EXPIRED');
  });

  it('recovers after a fetch that throws synchronously', async () => {
    let calls = 0;
    const source = memoizeCredentials((): Promise<Creds> => {
      calls += 1;
      if (calls === 1) throw new Error('sync');
      return Promise.resolve({ id: calls });
    });
    await expect(source()).rejects.toThrow('sync');
    await expect(source()).resolves.toMatchObject({ id: 2 });
  });
});

describe('simulated long run (reported measurement)', () => {
  it('6 hours, 15-minute role, one request per second', async () => {
    const h = harness(15 * MIN);
    let expiredHandedOut = 0;
    for (let t = 0; t < 6 * 60 * MIN; t += 1000) {
      h.clock = T0 + t;
      const c = await h.source();
      if (c.expiration!.getTime() - h.clock < MIN_VALIDITY_MS) expiredHandedOut += 1;
      await flush();
    }
    console.info(`[measurement] 6 h at 1 req/s, 15-min role: ${h.issued} AssumeRole calls`);
    expect(expiredHandedOut).toBe(0);
    expect(h.issued).toBe(36); // 1 + one per 10 minutes (refresh 5 min before expiry)
  });
});
