import { describe, expect, it } from 'vitest';
import { startRedirectListener } from '../../src/signers/oauth/redirect-listener.js';

describe('the loopback redirect listener', () => {
  it('ends with a clear error when no answer comes in time, and closes', async () => {
    const l = await startRedirectListener('st-1', 100);
    await expect(l.result).rejects.toMatchObject({ code: 'ESP_OAUTH_LOGIN_TIMEOUT', hint: expect.stringContaining('--oauth-login-timeout') });
    await expect(fetch(`${l.redirectUri}?state=st-1&code=c`)).rejects.toThrow();
  });

  it("reports the authorization server's error for the right state, ignores requests with another state", async () => {
    const l = await startRedirectListener('st-2', 5000);
    const settled = l.result.catch((e: unknown) => e);
    expect((await fetch(`${l.redirectUri}?state=other&error=access_denied`)).status).toBe(400);
    expect((await fetch(`${l.redirectUri}?state=st-2&error=access_denied`)).status).toBe(400);
    expect(await settled).toMatchObject({ code: 'ESP_OAUTH_LOGIN_DENIED', message: expect.stringContaining('access_denied') });
  });

  it('resolves with the code and iss of the one right answer', async () => {
    const l = await startRedirectListener('st-3', 5000);
    const res = await fetch(`${l.redirectUri}?state=st-3&code=the-code&iss=https%3A%2F%2Fas.example.com`);
    expect(res.status).toBe(200);
    expect(await l.result).toEqual({ code: 'the-code', iss: 'https://as.example.com' });
    expect(l.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  });

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
