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
});
