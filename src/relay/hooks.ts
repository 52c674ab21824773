/**
 * The relay's extension seam: an ordered list of hooks that see each client request before
 * it goes upstream, each server message before it reaches stdout, and each request's end.
 * Policy, audit and caps plug in here instead of into the relay's routing (proxy.ts).
 * With no hooks the relay does no extra work at all.
 */
import { ProxyError, type JsonRpcErrorObject } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc.js';
import type { Logger } from '../logging/logger.js';
import type { RemoteMessage } from '../transport/remote-transport.js';

/** A client request as the hooks see it: known from the line, before anything is sent. */
export interface RequestContext {
  readonly id: JsonRpcId;
  readonly method: string;
  /** params.name (tools/call, prompts/get) or params.uri (resources/*), when a string. */
  readonly name: string | undefined;
  /** Date.now() when the line was read. */
  readonly startedAt: number;
  /** The client's line as forwarded; parsed only by a hook that needs the params (audit). */
  readonly body: Uint8Array;
}

/** Returned by onRequest to answer the request locally; nothing is sent upstream. */
export interface Refusal {
  readonly refuse: ProxyError;
}

/**
 * Returned by onServerMessage: `rewrite` replaces the message (one line of JSON, same id);
 * `drop` keeps it from the client. A dropped response still gets its request an answer: the
 * relay answers with an error naming `drop` as the reason.
 */
export type ServerVerdict = { readonly rewrite: Buffer } | { readonly drop: string };

/** How a request ended, once, whoever answered it. */
export type RequestEnd =
  /** The server's answer, as written to the client (after any rewrite). */
  | { readonly outcome: 'response'; readonly message: RemoteMessage }
  /** A hook refused it before it was sent. */
  | { readonly outcome: 'refused'; readonly by: string; readonly refusal: ProxyError; readonly error: JsonRpcErrorObject }
  /** The proxy answered with an error (network, HTTP, protocol, a dropped response). */
  | { readonly outcome: 'error'; readonly error: JsonRpcErrorObject }
  /** notifications/cancelled from the client: no answer is sent. */
  | { readonly outcome: 'cancelled' }
  /** Still open at shutdown: answered with the shutdown error. */
  | { readonly outcome: 'shutdown'; readonly error: JsonRpcErrorObject };

export interface RelayHook {
  /** Shown in logs and in the error when the hook fails. */
  readonly name: string;
  /** Synchronous, so requests leave in the order the client wrote them. */
  onRequest?(req: RequestContext): Refusal | undefined;
  /**
   * A message from the server. `req` is the open request a response answers (undefined for
   * notifications and server requests). The value is not parsed: a hook that needs it parses
   * `msg.bytes` itself, and only for the messages it cares about.
   */
  onServerMessage?(msg: RemoteMessage, req: RequestContext | undefined): ServerVerdict | undefined | Promise<ServerVerdict | undefined>;
  /** Must not throw or block: it runs on the relay's path. */
  onEnd?(req: RequestContext, end: RequestEnd): void;
}

/** What the chain made of a server message. */
export type ServerOutcome = { readonly message: RemoteMessage } | { readonly drop: string };

/** Runs hooks in order. A hook that throws fails closed: its request or message is refused. */
export class HookChain {
  readonly #hooks: readonly RelayHook[];
  readonly #log: Logger;
  readonly #onServer: readonly RelayHook[];

  constructor(hooks: readonly RelayHook[], logger: Logger) {
    this.#hooks = hooks;
    this.#log = logger;
    this.#onServer = hooks.filter((h) => h.onServerMessage !== undefined);
  }

  /** True when some hook looks at server messages (otherwise the relay skips the chain). */
  get seesServerMessages(): boolean {
    return this.#onServer.length > 0;
  }

  /** The first refusal, with the hook that made it. */
  request(req: RequestContext): { by: string; error: ProxyError } | undefined {
    for (const hook of this.#hooks) {
      if (hook.onRequest === undefined) continue;
      let verdict: Refusal | undefined;
      try {
        verdict = hook.onRequest(req);
      } catch (err) {
        this.#log.error({ err, hook: hook.name, method: req.method }, 'a relay hook failed on a request; refusing it');
        return { by: hook.name, error: hookFailed(hook, req.method) };
      }
      if (verdict !== undefined) return { by: hook.name, error: verdict.refuse };
    }
    return undefined;
  }

  async serverMessage(msg: RemoteMessage, req: RequestContext | undefined): Promise<ServerOutcome> {
    let message = msg;
    for (const hook of this.#onServer) {
      let verdict: ServerVerdict | undefined;
      try {
        verdict = await hook.onServerMessage?.(message, req);
      } catch (err) {
        this.#log.error({ err, hook: hook.name, method: req?.method }, 'a relay hook failed on a server message; dropping it');
        return { drop: `${hook.name} failed` };
      }
      if (verdict === undefined) continue;
      if ('drop' in verdict) return verdict;
      message = { bytes: verdict.rewrite, info: message.info };
    }
    return { message };
  }

  end(req: RequestContext, end: RequestEnd): void {
    for (const hook of this.#hooks) {
      try {
        hook.onEnd?.(req, end);
      } catch (err) {
        this.#log.error({ err, hook: hook.name, method: req.method }, 'a relay hook failed at the end of a request');
      }
    }
  }
}

function hookFailed(hook: RelayHook, method: string): ProxyError {
  return new ProxyError('ESP_HOOK_FAILED', `${hook.name} failed on ${method}; the request was not sent`, { hint: 'see the proxy log on stderr' });
}
