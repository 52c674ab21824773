import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isHeaderName } from '../config/headers.js';
import { ConfigError, CredentialError, ProxyError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { AuthFailure, OutgoingRequest, SignContext, Signer, SignerVerdict } from './signer.js';

/** What a user's module exports (README "Your own signer"), by name or as its default export. */
interface ModuleSigner {
  sign(req: OutgoingRequest, ctx: SignContext): OutgoingRequest | Promise<OutgoingRequest>;
  onAuthFailure?(failure: AuthFailure, ctx: SignContext): SignerVerdict | undefined | Promise<SignerVerdict | undefined>;
}

/** A short, harmless name of what was thrown: its class, never its message. */
function kindOf(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : typeof err;
}

/**
 * An error the module meant for the user: a ProxyError, or an Error with a string `code`
 * and `hint` (the shape of ours). Anything else is reported by its class only, since the
 * module could have put a secret in its message.
 */
function userFacing(err: unknown): ProxyError | undefined {
  if (err instanceof ProxyError) return err;
  const e = err as { message?: unknown; code?: unknown; hint?: unknown } | null;
  if (!(err instanceof Error) || typeof e?.code !== 'string' || typeof e.hint !== 'string') return undefined;
  const code = /^[A-Z][A-Z0-9_]{2,63}$/.test(e.code) ? e.code : 'ESP_SIGNER_MODULE';
  return new CredentialError(code, `the signer module: ${String(e.message).slice(0, 500)}`, { hint: e.hint.slice(0, 500) });
}

/** Checks what the module returned: same method and origin, text headers, bytes or no body. */
function checked(out: unknown, req: OutgoingRequest, file: string): OutgoingRequest {
  const bad = (what: string) =>
    new CredentialError('ESP_SIGNER_MODULE', `the signer module ${file} returned ${what}`, { hint: 'sign() must return a new request: { ...request, headers: { ...request.headers, name: value } }' });
  const r = out as Partial<OutgoingRequest> | null;
  if (typeof r !== 'object' || r === null) throw bad('no request');
  if (r.method !== req.method) throw bad('a request with another method');
  if (!(r.url instanceof URL) || r.url.origin !== req.url.origin) throw bad('a request to another origin (or a url that is not a URL)');
  if (r.body !== undefined && !(r.body instanceof Uint8Array)) throw bad('a body that is not a Uint8Array');
  if (typeof r.headers !== 'object' || r.headers === null) throw bad('no headers');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (!isHeaderName(name)) throw bad('a header name that is not valid');
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw bad(`a value for "${name.toLowerCase()}" that is not one line of text`);
    headers[name.toLowerCase()] = value;
  }
  return { method: r.method, url: r.url, headers, body: r.body };
}

/**
 * Loads `--signer-module` once at start-up. Its signer runs last in the chain, where SigV4
 * would, so it sees the final headers and the exact body bytes.
 */
export async function loadSignerModule(path: string, logger: Logger): Promise<Signer> {
  const file = basename(path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`--signer-module / MCP_SIGNER_MODULE ${path} could not be loaded (${typeof code === 'string' && /^[A-Z_]{3,40}$/.test(code) ? code : kindOf(err)})`, 'check the path, and that the file is an ES module (.mjs, or .js in a "type": "module" package) that runs with `node FILE`');
  }
  const candidate = (typeof mod.sign === 'function' ? mod : mod.default) as Partial<ModuleSigner> | undefined;
  if (typeof candidate?.sign !== 'function') {
    throw new ConfigError(`--signer-module / MCP_SIGNER_MODULE ${path} exports no sign function`, 'export async function sign(request, ctx) returning the signed request (README "Your own signer")');
  }
  const impl = candidate as ModuleSigner;
  const log = logger.child({ component: 'signer-module' });
  const failed = (phase: string, err: unknown): ProxyError => {
    const own = userFacing(err);
    if (own !== undefined) return own;
    log.error({ phase, thrown: kindOf(err) }, 'the signer module threw');
    return new CredentialError('ESP_SIGNER_MODULE', `the signer module ${file} failed in ${phase} (${kindOf(err)})`, {
      hint: `run it on its own to see the error; its message is not shown because it could contain a secret (throw an Error with "code" and "hint" properties to show one)`,
    });
  };
  logger.info({ module: path }, 'signer module loaded');
  return {
    name: 'signer-module',
    async sign(req, ctx) {
      let out: unknown;
      try {
        out = await impl.sign(req, { ...ctx, logger: log });
      } catch (err) {
        throw failed('sign', err);
      }
      return checked(out, req, file);
    },
    ...(typeof impl.onAuthFailure === 'function' && {
      async onAuthFailure(failure, ctx) {
        let verdict: SignerVerdict | undefined;
        try {
          verdict = await impl.onAuthFailure?.(failure, { ...ctx, logger: log });
        } catch (err) {
          return { retry: false, error: failed('onAuthFailure', err) };
        }
        if (verdict === undefined || verdict === null) return undefined;
        const error = verdict.error === undefined ? undefined : (userFacing(verdict.error) ?? failed('onAuthFailure', verdict.error));
        return { retry: verdict.retry === true, ...(error && { error }) };
      },
    }),
  };
}
