import { describe, expect, it } from 'vitest';
import { startRedirectListener } from '../../src/signers/oauth/redirect-listener.js';

describe('startRedirectListener', () => {
  it('answers 400 to every state but the login\'s own (same length, other length, other byte length, none), then takes the right one', async () => {
    const state = 'Zx9_state-of-this-login-0123456789abcdef';
    const l = await startRedirectListener(state, 10_000);
    try {
      const wrong = [`${state.slice(0, -1)}0`, state.slice(1), `${state.slice(0, -1)}é`, `${state}x`, ''];
      for (const s of wrong) {
        const res = await fetch(`${l.redirectUri}?code=c1&state=${encodeURIComponent(s)}`);
        expect(res.status, s).toBe(400);
      }
      expect((await fetch(`${l.redirectUri}?code=c1`)).status).toBe(400);
      const ok = await fetch(`${l.redirectUri}?code=c2&state=${encodeURIComponent(state)}`);
      expect(ok.status).toBe(200);
      expect(await l.result).toEqual({ code: 'c2', iss: undefined });
    } finally {
      l.close();
    }
  });
});
