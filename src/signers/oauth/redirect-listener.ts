/**
 * The loopback redirect of a browser login (https://www.rfc-editor.org/rfc/rfc8252#section-7.3): 127.0.0.1 at a port
 * the system picks, path /callback. It accepts exactly one request, the one that carries
 * the `state` this login sent; anything else gets 400 and is ignored (a page on another
 * origin can send requests to loopback ports, and a wrong state must not end the login).
 * Then it closes. A timeout ends the wait with a clear error.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CredentialError } from '../../errors.js';

export interface RedirectResult {
  readonly code: string;
  /** The RFC 9207 issuer parameter, when sent. */
  readonly iss: string | undefined;
}

export interface RedirectListener {
  readonly redirectUri: string;
  /** Resolves with the code, or rejects with the authorization server's error or the timeout. */
  readonly result: Promise<RedirectResult>;
  close(): void;
}

const PATH = '/callback';

/** The state is the login's secret against forged answers: compared in constant time (byte lengths differ only for a wrong one). */
function isState(got: string | null, state: Buffer): boolean {
  if (got === null) return false;
  const b = Buffer.from(got, 'utf8');
  return b.length === state.length && timingSafeEqual(b, state);
}

function page(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(`${text}\n`);
}

export async function startRedirectListener(state: string, timeoutMs: number): Promise<RedirectListener> {
  let settle: { resolve: (r: RedirectResult) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<RedirectResult>((resolve, reject) => (settle = { resolve, reject }));
  let done = false;
  const expected = Buffer.from(state, 'utf8');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (done || req.method !== 'GET' || url.pathname !== PATH || !isState(url.searchParams.get('state'), expected)) {
      page(res, 400, 'mcp-signing-proxy: this is not the answer to the login under way.');
      return;
    }
    done = true;
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error !== null || code === null || code === '') {
      page(res, 400, 'mcp-signing-proxy: the login did not succeed; see the terminal.');
      const safe = error !== null && /^[\w.-]{1,64}$/.test(error) ? error : 'no code';
      settle?.reject(
        new CredentialError('ESP_OAUTH_LOGIN_DENIED', `the authorization server ended the login without a code (${safe})`, {
          hint: safe === 'access_denied' ? 'approve the access in the browser, then run the login again' : 'run the login again; if it keeps failing, check the client registration at the authorization server',
        }),
      );
    } else {
      page(res, 200, 'mcp-signing-proxy: login complete. You can close this tab.');
      settle?.resolve({ code, iss: url.searchParams.get('iss') ?? undefined });
    }
    close();
  });
  const timer = setTimeout(() => {
    done = true;
    settle?.reject(
      new CredentialError('ESP_OAUTH_LOGIN_TIMEOUT', `no answer from the browser login within ${Math.round(timeoutMs / 1000)} s`, {
        hint: 'open the printed URL and finish the login sooner, or allow longer with --oauth-login-timeout SECONDS',
      }),
    );
    close();
  }, timeoutMs);
  function close(): void {
    clearTimeout(timer);
    // Every answer says connection: close, so the server ends once it is written.
    server.close();
    server.closeIdleConnections();
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { redirectUri: `http://127.0.0.1:${port}${PATH}`, result, close };
}
