import { describe, expect, it } from 'vitest';
import { prewarmCredentials } from '../../src/credentials/prewarm-credentials.js';

function deferredSource() {
  const calls: Array<{ forceRefresh?: boolean } | undefined> = [];
  const pending: Array<{ resolve: (v: string) => void; reject: (e: Error) => void }> = [];
  const source = (opts?: { forceRefresh?: boolean }) => {
    calls.push(opts);
    return new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { source, calls, pending };
}

describe('prewarmCredentials', () => {
  it('fetches at once; a caller during that fetch shares it', async () => {
    const s = deferredSource();
    const creds = prewarmCredentials(s.source);
    expect(s.calls).toHaveLength(1);
    const first = creds();
    s.pending[0]!.resolve('v1');
    await expect(first).resolves.toBe('v1');
    expect(s.calls).toHaveLength(1);
  });

  it('after it settled, calls go to the source (which does its own caching)', async () => {
    const s = deferredSource();
    const creds = prewarmCredentials(s.source);
    s.pending[0]!.resolve('v1');
    await new Promise((r) => setImmediate(r));
    const next = creds();
    expect(s.calls).toHaveLength(2);
    s.pending[1]!.resolve('v2');
    await expect(next).resolves.toBe('v2');
  });

  it('a failure reaches a caller who joined it, and a later caller fetches afresh', async () => {
    const s = deferredSource();
    const creds = prewarmCredentials(s.source);
    const joined = creds();
    s.pending[0]!.reject(new Error('sts said no'));
    await expect(joined).rejects.toThrow('sts said no');
    const later = creds();
    expect(s.calls).toHaveLength(2);
    s.pending[1]!.resolve('v2');
    await expect(later).resolves.toBe('v2');
  });

  it('a failure nobody waits for is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const s = deferredSource();
      prewarmCredentials(s.source);
      s.pending[0]!.reject(new Error('nobody listens'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('forceRefresh never joins the start-up fetch', () => {
    const s = deferredSource();
    const creds = prewarmCredentials(s.source);
    void creds({ forceRefresh: true });
    expect(s.calls).toEqual([undefined, { forceRefresh: true }]);
  });
});
