import { ProtocolError } from '../../errors.js';
import { idKey, type ClientMessageInfo, type JsonRpcId } from '../../jsonrpc.js';
import type { Logger } from '../../logging/logger.js';
import { parseRemote, type Deliver } from '../remote-transport.js';
import type { HostProfile } from './host-profile.js';

type Json = Record<string, unknown>;

/** At most this many input requests in one input_required result: each is a dialog or a model call on the host. */
export const MAX_INPUT_REQUESTS = 16;

/** MCP's code for a capability the client lacks (2026-07-28 "MissingRequiredClientCapabilityError"). */
export const MISSING_CLIENT_CAPABILITY = -32021;

/** The host lacks what an input request needs: its original request is answered with -32021. */
export class MissingCapabilityError extends ProtocolError {
  constructor(
    readonly method: string,
    readonly capability: string,
    outer: string,
  ) {
    super('ESP_CLIENT_CAPABILITY', `the server needs ${method} from the client to finish ${outer}, and the client did not declare the ${capability} capability`, {
      hint: `enable ${capability} in the MCP client, or use a tool that does not need it`,
      jsonRpcCode: MISSING_CLIENT_CAPABILITY,
    });
  }
}

interface Waiting {
  readonly resolve: (answer: Json) => void;
}

/**
 * The server→client half of a bridged multi round-trip request
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/mrtr): each entry
 * of `inputRequests` becomes a request to the 2025-era host, which answers it as it answers
 * a server's request (2025-11-25 elicitation, sampling, roots), under an id the proxy made.
 * The relay hands those answers back through the transport's send(); `take` consumes them.
 */
export class InputRounds {
  readonly #waiting = new Map<string, Waiting>();
  #seq = 0;

  constructor(
    private readonly deliver: Deliver,
    private readonly log: Logger,
  ) {}

  /** A host answer to one of our requests: consumed here (true), or not ours (false). */
  take(info: ClientMessageInfo, body: Uint8Array): boolean {
    if (info.kind !== 'response' || info.id === undefined) return false;
    const w = this.#waiting.get(idKey(info.id));
    if (w === undefined) return false;
    this.#waiting.delete(idKey(info.id));
    w.resolve(JSON.parse(Buffer.from(body).toString('utf8')) as Json);
    return true;
  }

  /**
   * Asks the host for every input at once and resolves with the `inputResponses` map. A
   * cancelled request, or one input the host fails, cancels what the round still waits for
   * (2025-11-25 "Cancellation"), so no dialog stays open for an answer nobody reads.
   */
  async gather(inputRequests: Json, host: HostProfile, outer: string, signal: AbortSignal | undefined): Promise<Json> {
    const entries = Object.entries(inputRequests);
    if (entries.length > MAX_INPUT_REQUESTS) {
      throw new ProtocolError('ESP_INPUT_REQUESTS', `the server asked for ${entries.length} client inputs at once to finish ${outer}; the proxy asks a client for at most ${MAX_INPUT_REQUESTS} per round`, {
        hint: 'the server should ask for fewer inputs per round; check the server logs',
      });
    }
    const asks = entries.map(([key, raw]) => {
      const req = (raw ?? {}) as { method?: unknown; params?: unknown };
      const method = typeof req.method === 'string' ? req.method : 'an unnamed request';
      const params = (req.params ?? {}) as Json;
      const missing = host.missingCapability(method, params);
      if (missing !== undefined) throw new MissingCapabilityError(method, missing, outer);
      return { key, method, params: forHost(method, params, ++this.#seq) };
    });
    const failed = new AbortController();
    const settled = await Promise.allSettled(
      asks.map(async ({ key, method, params }) => {
        try {
          return [key, await this.#ask(method, params, outer, signal, failed.signal)] as const;
        } catch (err) {
          failed.abort(err);
          throw err;
        }
      }),
    );
    if (failed.signal.aborted) throw signal?.aborted ? signal.reason : failed.signal.reason;
    return Object.fromEntries(settled.map((s) => (s as PromiseFulfilledResult<readonly [string, Json]>).value));
  }

  /** One input from the host; `cancel` (the host cancelled, or another input of the round failed) withdraws it. */
  async #ask(method: string, params: Json, outer: string, signal: AbortSignal | undefined, failed: AbortSignal): Promise<Json> {
    signal?.throwIfAborted();
    failed.throwIfAborted();
    const cancel = AbortSignal.any([failed, ...(signal ? [signal] : [])]);
    const id: JsonRpcId = `mcp-signing-proxy-input-${++this.#seq}`;
    const answer = new Promise<Json>((resolve, reject) => {
      this.#waiting.set(idKey(id), { resolve });
      cancel.addEventListener(
        'abort',
        () => {
          if (!this.#waiting.delete(idKey(id))) return;
          const reason = signal?.aborted ? `the client cancelled ${outer}` : `another input the server needs for ${outer} failed`;
          void this.deliver(parseRemote(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })));
          reject(cancel.reason);
        },
        { once: true },
      );
    });
    this.log.debug({ id, method, for: outer }, 'asking the client for input the server needs');
    await this.deliver(parseRemote(JSON.stringify({ jsonrpc: '2.0', id, method, params })));
    const reply = await answer;
    const error = reply.error as { code?: unknown; message?: unknown } | undefined;
    if (error !== undefined || typeof reply.result !== 'object' || reply.result === null) {
      const detail = typeof error?.message === 'string' ? `: ${error.message.slice(0, 200)}` : '';
      throw new ProtocolError('ESP_CLIENT_INPUT_FAILED', `the client answered the server's ${method} for ${outer} with an error${detail}`, {
        hint: 'the server needs this input to finish; answer it in the client, or see the client log',
        jsonRpcCode: typeof error?.code === 'number' ? error.code : undefined,
      });
    }
    return reply.result as Json;
  }
}

/**
 * 2026-07-28 dropped the URL-mode `elicitationId` that 2025-11-25 requires (2026-07-28
 * changelog, minor change 11); a host of that revision gets one.
 */
function forHost(method: string, params: Json, seq: number): Json {
  if (method === 'elicitation/create' && params.mode === 'url' && params.elicitationId === undefined) return { ...params, elicitationId: `mcp-signing-proxy-elicitation-${seq}` };
  return params;
}
