import { ProxyError } from '../errors.js';
import type { ClientMessageInfo } from '../jsonrpc.js';
import type { Logger } from '../logging/logger.js';
import type { Deliver, RemoteTransport } from './remote-transport.js';

/** A transport the negotiation can pick, and what it is called in logs and `--check`. */
export interface Candidate {
  readonly name: string;
  readonly build: () => RemoteTransport;
}

/**
 * Two transports for one endpoint, tried in order on the client's first `initialize`: the
 * first one gets it; when it fails in a way that says "not this transport here"
 * (`wrongTransport`), the same initialize goes to the second. The first that works is kept
 * for the life of the process. The relay sees one transport and gets one answer.
 *
 * Used for `--transport auto` (Streamable HTTP, then legacy HTTP+SSE: spec 2025-11-25
 * "Backwards Compatibility",
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#backwards-compatibility)
 * and `sse-first` (the other way round).
 */
export class NegotiatingTransport implements RemoteTransport {
  readonly #first: Candidate;
  readonly #second: Candidate;
  readonly #wrongTransport: (err: unknown) => boolean;
  readonly #log: Logger;
  readonly #built = new Map<Candidate, RemoteTransport>();
  #deliver: Deliver | undefined;
  #chosen: Candidate | undefined;
  /** The first initialize under way: other messages wait for its verdict. */
  #deciding: Promise<unknown> | undefined;
  /** The id of the initialize being decided on. */
  #probe: ClientMessageInfo['id'];

  constructor(first: Candidate, second: Candidate, wrongTransport: (err: unknown) => boolean, log: Logger) {
    this.#first = first;
    this.#second = second;
    this.#wrongTransport = wrongTransport;
    this.#log = log;
  }

  transportName(): string | undefined {
    return this.#chosen?.name;
  }

  hasSession(): boolean | undefined {
    return this.#chosen === undefined ? undefined : this.#built.get(this.#chosen)?.hasSession?.();
  }

  start(deliver: Deliver): void {
    this.#deliver = deliver;
    for (const [c, t] of this.#built) t.start(this.#delivering(c, deliver));
  }

  /**
   * The answer to the first initialize decides, before it is relayed (the transport's send
   * may still be reading its stream, and the client acts on the answer at once).
   */
  #delivering(c: Candidate, deliver: Deliver): Deliver {
    return (m) => {
      if (this.#chosen === undefined && this.#probe !== undefined && m.info?.kind === 'response' && m.info.id === this.#probe) this.#choose(c);
      return deliver(m);
    };
  }

  async send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    if (this.#chosen === undefined && info.method === 'initialize' && this.#deciding === undefined) {
      this.#probe = info.id;
      const deciding = this.#decide(body, info, isAnswered, signal);
      this.#deciding = deciding;
      try {
        return await deciding;
      } finally {
        this.#deciding = undefined;
        this.#probe = undefined;
      }
    }
    await this.#deciding?.catch(() => undefined);
    return this.#get(this.#chosen ?? this.#first).send(body, info, isAnswered, signal);
  }

  async #decide(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    try {
      await this.#get(this.#first).send(body, info, isAnswered, signal);
      this.#choose(this.#first);
      return;
    } catch (err) {
      // An answer the server gave (a JSON-RPC error to the initialize) means it speaks this
      // transport; so do 401/403, 5xx and network errors: no verdict, no fallback.
      if (isAnswered() || !this.#wrongTransport(err)) throw err;
      this.#log.info({ tried: this.#first.name, code: (err as ProxyError).code }, `the server does not speak ${this.#first.name} at this URL; trying ${this.#second.name}`);
      this.#drop(this.#first);
      try {
        await this.#get(this.#second).send(body, info, isAnswered, signal);
      } catch (second) {
        if (isAnswered()) throw second;
        this.#drop(this.#second);
        // Both failed: say what each said. The second's error is the one to fix unless it
        // too only says "not this transport" (then the URL is probably wrong).
        const neither = this.#wrongTransport(second);
        const main = (neither ? err : second) as ProxyError;
        throw new ProxyError(main.code, `as ${this.#first.name}: ${(err as Error).message}; as ${this.#second.name}: ${(second as Error).message}`, {
          httpStatus: main.httpStatus,
          hint: neither ? 'check the path in MCP_ENDPOINT: Streamable HTTP endpoints often end in /mcp, legacy SSE ones in /sse' : main.hint,
        });
      }
      this.#choose(this.#second);
    }
  }

  #choose(c: Candidate): void {
    if (this.#chosen === undefined) this.#log.info({ transport: c.name }, 'transport chosen for this process');
    this.#chosen = c;
  }

  #get(c: Candidate): RemoteTransport {
    let t = this.#built.get(c);
    if (t === undefined) {
      t = c.build();
      if (this.#deliver !== undefined) t.start(this.#delivering(c, this.#deliver));
      this.#built.set(c, t);
    }
    return t;
  }

  #drop(c: Candidate): void {
    this.#built.get(c)?.close();
    this.#built.delete(c);
  }

  async terminate(timeoutMs: number): Promise<void> {
    await Promise.all([...this.#built.values()].map((t) => t.terminate(timeoutMs)));
  }

  close(): void {
    for (const t of this.#built.values()) t.close();
  }
}
