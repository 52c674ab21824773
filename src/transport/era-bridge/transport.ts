import { ProtocolError, ProxyError, UpstreamHttpError } from '../../errors.js';
import { idKey, type ClientMessageInfo, type JsonRpcId } from '../../jsonrpc.js';
import type { Logger } from '../../logging/logger.js';
import { messageValue, parseRemote, type Deliver, type RemoteMessage, type RemoteTransport } from '../remote-transport.js';
import { HostProfile } from './host-profile.js';
import { initializeAnswer, modernDiscoverResult, type DiscoverResult } from './initialize-answer.js';
import { InputRounds, MissingCapabilityError } from './input-rounds.js';
import { LegacyResults } from './legacy-result.js';
import { isOwnListenId, Listen } from './listen.js';
import { modernRequest, ownRequest, type RetryInput } from './modern-request.js';
import { isModernMessage, LEGACY_VERSIONS, MODERN_VERSION, UNSUPPORTED_PROTOCOL_VERSION } from './protocol.js';

type Json = Record<string, unknown>;

/**
 * `--protocol` (README "Protocols", "Bridging 2025 hosts"): `passthrough` relays each era
 * as it is; `bridge` speaks 2026-07-28 upstream for a 2025-era host; `auto` bridges when
 * the server speaks 2026-07-28, and passes through otherwise.
 */
export type ProtocolMode = 'auto' | 'passthrough' | 'bridge';

/** The bridge stops after this many input_required answers to one request. */
export const MAX_INPUT_ROUNDS = 10;
/** How long the discovery probe may take before the server counts as 2025-era. */
const DISCOVER_TIMEOUT_MS = 5000;
/** The only requests a server may answer with input_required (2026-07-28 MRTR, "Supported Requests"). */
const MULTI_ROUND = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** Host notifications 2026-07-28 has no use for (removed by the revision, or implied by a closed stream). */
const ABSORBED = new Set(['notifications/initialized', 'notifications/cancelled', 'notifications/roots/list_changed']);

/**
 * A server that serves no 2025-era client: its answer to initialize is a 2026-07-28 error,
 * UnsupportedProtocolVersion listing no initialize-based version, or another code of the
 * range only the new revision uses (-32020 HeaderMismatch, -32021 MissingRequiredClientCapability).
 */
function refusesLegacyClients(reply: unknown): boolean {
  const error = (reply as { error?: { code?: unknown; data?: { supported?: unknown } } }).error;
  if (error?.code === -32020 || error?.code === -32021) return true;
  if (error?.code !== UNSUPPORTED_PROTOCOL_VERSION) return false;
  const supported = error.data?.supported;
  return Array.isArray(supported) && !supported.some((v) => (LEGACY_VERSIONS as readonly unknown[]).includes(v));
}

/** HTTP answers that say nothing about the era (auth, server failure): the host should see them. */
function noEraEvidence(err: unknown): boolean {
  if (!(err instanceof ProxyError)) return false;
  const status = err.httpStatus;
  if (err instanceof UpstreamHttpError) return status === 401 || status === 403 || (status !== undefined && status >= 500);
  return true;
}

/**
 * The era bridge: wraps the transport to a 2026-07-28 server and serves a 2025-era host
 * over it (https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning,
 * "Backward Compatibility"). The host's initialize is answered from `server/discover`;
 * every request gets the revision's `_meta`; `input_required` results become server→client
 * requests to the host; a `subscriptions/listen` stream brings the list changes and
 * resource updates; ping, logging/setLevel and resources/(un)subscribe are answered here.
 * A 2026-era host, and every host of a 2025-era server, is passed through unchanged.
 */
export class EraBridgeTransport implements RemoteTransport {
  readonly #inner: RemoteTransport;
  readonly #mode: Exclude<ProtocolMode, 'passthrough'>;
  readonly #log: Logger;
  /** Responses to the requests sent upstream on the host's behalf, by their upstream id. */
  readonly #upstream = new Map<string, { message?: RemoteMessage }>();
  /** The method of each bridged host request relayed as it arrives, by id: its response is shaped for the host. */
  readonly #relayed = new Map<string, string>();
  readonly #legacy = new LegacyResults();
  readonly #listen: Listen;
  #deliver: Deliver = () => Promise.reject(new ProxyError('ESP_NOT_READY', 'the proxy is not connected'));
  #rounds: InputRounds | undefined;
  #era: 'undecided' | 'passthrough' | 'bridge' = 'undecided';
  #host: HostProfile | undefined;
  #discover: DiscoverResult | undefined;
  #deciding: Promise<void> | undefined;
  #seq = 0;

  constructor(inner: RemoteTransport, mode: Exclude<ProtocolMode, 'passthrough'>, log: Logger) {
    this.#inner = inner;
    this.#mode = mode;
    this.#log = log;
    this.#listen = new Listen((id, notifications, signal) => this.#listenStream(id, notifications, signal), log);
  }

  transportName(): string | undefined {
    return this.#inner.transportName?.();
  }

  /** Whether the host's session is bridged (`--check` says so). */
  isBridged(): boolean {
    return this.#era === 'bridge';
  }

  start(deliver: Deliver): void {
    this.#deliver = deliver;
    this.#rounds = new InputRounds(deliver, this.#log);
    this.#inner.start(this.#fromServer);
  }

  readonly #fromServer: Deliver = async (m) => {
    if (m.info?.kind === 'response' && m.info.id !== undefined) {
      const waiter = this.#upstream.get(idKey(m.info.id));
      if (waiter !== undefined) {
        waiter.message ??= m;
        return;
      }
      if (this.#era === 'bridge') {
        // A late response to the proxy's own listen (its stream was closed a moment before) is no answer to the host.
        if (isOwnListenId(m.info.id)) return;
        return this.#deliver(this.#legacy.shape(m, this.#relayed.get(idKey(m.info.id))));
      }
    }
    if (this.#era === 'bridge' && m.info?.kind === 'notification') {
      const out = this.#listen.relayable(m);
      if (out !== undefined) await this.#deliver(out);
      return;
    }
    await this.#deliver(m);
  };

  async send(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    if (this.#rounds?.take(info, body)) return;
    if (this.#era === 'undecided') {
      if (info.method === 'initialize' && this.#deciding === undefined) {
        this.#deciding = this.#decide(body, info, signal);
        try {
          return await this.#deciding;
        } finally {
          this.#deciding = undefined;
        }
      }
      // `bridge`: what the host sends before the answer to its initialize waits for it (the
      // session is bridged or refused). `auto` holds nothing back: the inner transport
      // orders a 2025 session's early messages as it always has.
      if (this.#mode === 'bridge') await this.#deciding?.catch(() => undefined);
      if (this.#era === 'undecided' && isModernMessage(info)) {
        this.#era = 'passthrough';
        this.#log.info({ protocol: 'passthrough' }, 'the client speaks 2026-07-28 itself; relaying it unchanged');
      }
    }
    if (this.#era !== 'bridge' || isModernMessage(info)) return this.#inner.send(body, info, isAnswered, signal);
    return this.#bridge(body, info, isAnswered, signal);
  }

  /**
   * The host's first initialize. `bridge`: `server/discover` decides, and a server that does
   * not answer it as a 2026-07-28 server is an error. `auto`: the initialize goes first, and
   * the host is bridged when the server refuses 2025-era clients (a modern error naming no
   * 2025 version, https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning)
   * or serves them without a session and answers `server/discover` (README "Protocols").
   */
  async #decide(body: Uint8Array, info: ClientMessageInfo, signal?: AbortSignal): Promise<void> {
    const host = HostProfile.fromInitialize(body);
    if (this.#mode === 'auto') {
      const reply = await this.#exchange(body, info, signal);
      const value = messageValue(reply) as { result?: unknown };
      if (value.result !== undefined && this.#inner.hasSession?.() === false) {
        // Served without a session: the server cannot reach this client (no server→client
        // requests, no GET stream). If it speaks 2026-07-28, the bridge gets the host all of it.
        const discover = await this.#probe(host, signal).catch(() => undefined);
        if (discover !== undefined) return this.#bridgeFrom(host, discover, info, 'the server serves 2025-era clients without a session');
      } else if (refusesLegacyClients(value)) {
        // Unless it answers server/discover too, the host gets the refusal as it is.
        const discover = await this.#probe(host, signal).catch(() => undefined);
        if (discover !== undefined) return this.#bridgeFrom(host, discover, info, 'the server refuses 2025-era clients');
      }
      this.#era = 'passthrough';
      return this.#answer(reply);
    }
    return this.#bridgeFrom(host, await this.#discoverOrExplain(host, signal), info, '--protocol bridge');
  }

  /** `--protocol bridge`: the discovery result, or the error that says why the server cannot be bridged. */
  async #discoverOrExplain(host: HostProfile, signal?: AbortSignal): Promise<DiscoverResult> {
    const probe = await this.#probe(host, signal).then(
      (discover) => ({ discover, err: undefined as unknown }),
      (err: unknown) => ({ discover: undefined, err }),
    );
    if (probe.discover === undefined) {
      if (noEraEvidence(probe.err)) throw probe.err;
      throw new ProtocolError('ESP_NOT_MODERN', `--protocol bridge: the server did not answer server/discover as a ${MODERN_VERSION} server${probe.err instanceof ProxyError ? ` (${probe.err.message})` : ''}`, {
        hint: 'use --protocol auto (MCP_PROTOCOL=auto) for a 2025-era server',
      });
    }
    return probe.discover;
  }

  /** From now on the host's session is bridged; its initialize is answered from `discover`. */
  #bridgeFrom(host: HostProfile, discover: DiscoverResult, info: ClientMessageInfo, why: string): Promise<void> {
    this.#era = 'bridge';
    this.#host = host;
    this.#discover = discover;
    this.#log.info({ protocol: 'bridge', why, answered: host.answerVersion() }, `bridging the client's 2025-era session to the server's ${MODERN_VERSION}`);
    return this.#answer(parseRemote(initializeAnswer(info.id as JsonRpcId, discover, host)));
  }

  async #probe(host: HostProfile, signal?: AbortSignal): Promise<DiscoverResult | undefined> {
    const bound = AbortSignal.any([AbortSignal.timeout(DISCOVER_TIMEOUT_MS), ...(signal ? [signal] : [])]);
    const req = ownRequest(`mcp-signing-proxy-discover-${++this.#seq}`, 'server/discover', host);
    return modernDiscoverResult(messageValue(await this.#exchange(req.body, req.info, bound)));
  }

  /**
   * One request upstream and its response, held back from the host. A JSON-RPC error in a
   * 4xx body is the response (the transport delivers it before it throws).
   */
  async #exchange(body: Uint8Array, info: ClientMessageInfo, signal?: AbortSignal): Promise<RemoteMessage> {
    const message = await this.#held(body, info, signal);
    if (message === undefined) {
      throw new ProtocolError('ESP_NO_RESPONSE', `the server ended its reply to ${info.method} without a response`, { hint: 'check the server logs' });
    }
    return message;
  }

  /** One request upstream; its response, if the server sent one, is held back from the host. */
  async #held(body: Uint8Array, info: ClientMessageInfo, signal?: AbortSignal): Promise<RemoteMessage | undefined> {
    const key = idKey(info.id as JsonRpcId);
    const waiter: { message?: RemoteMessage } = {};
    this.#upstream.set(key, waiter);
    try {
      await this.#inner.send(body, info, () => waiter.message !== undefined, signal);
    } catch (err) {
      if (waiter.message === undefined) throw err;
    } finally {
      if (this.#upstream.get(key) === waiter) this.#upstream.delete(key);
    }
    return waiter.message;
  }

  #answer(msg: RemoteMessage): Promise<void> {
    return this.#deliver(msg);
  }

  #answerResult(id: JsonRpcId | undefined, result: Json): Promise<void> {
    return this.#answer(parseRemote(JSON.stringify({ jsonrpc: '2.0', id, result })));
  }

  /** A message of the bridged 2025-era session. */
  async #bridge(body: Uint8Array, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    const host = this.#host as HostProfile;
    if (info.kind === 'response') {
      // 2026-07-28 servers send no requests (MRTR), so nothing upstream waits for this.
      this.#log.warn({ id: info.id ?? null }, 'dropped an answer from the client that matches no request of the proxy');
      return;
    }
    if (info.kind === 'notification') {
      if (info.method === 'notifications/initialized') this.#listen.start((this.#discover as DiscoverResult).capabilities);
      if (ABSORBED.has(info.method ?? '')) return;
      return this.#inner.send(body, info, isAnswered, signal);
    }
    const message = JSON.parse(Buffer.from(body).toString('utf8')) as Json;
    const params = (message.params ?? {}) as Json;
    switch (info.method) {
      case 'initialize': {
        // A host that initializes again gets a fresh look at the server, and is from now on what this initialize says.
        const again = HostProfile.fromInitialize(body);
        const discover = await this.#probe(again, signal);
        if (discover === undefined) throw new ProtocolError('ESP_NOT_MODERN', `the server no longer answers server/discover as a ${MODERN_VERSION} server`, { hint: 'restart the MCP server connection in your client' });
        this.#discover = discover;
        this.#host = again;
        return this.#answer(parseRemote(initializeAnswer(info.id as JsonRpcId, discover, again)));
      }
      case 'ping':
        // Removed in 2026-07-28 (changelog, major change 5): the bridge itself is alive.
        return this.#answerResult(info.id, {});
      case 'logging/setLevel':
        // 2026-07-28 "Logging": the level travels in each request's _meta.
        if (typeof params.level === 'string') host.logLevel = params.level;
        return this.#answerResult(info.id, {});
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') this.#listen.subscribe(params.uri, info.method === 'resources/subscribe');
        return this.#answerResult(info.id, {});
    }
    return this.#request(message, info, isAnswered, signal);
  }

  /**
   * A host request sent as a 2026-07-28 request. On `input_required` the host is asked for
   * the inputs and the request retried with a new id and its answers, at most
   * MAX_INPUT_ROUNDS times; the final answer reaches the host under its own id.
   */
  async #request(message: Json, info: ClientMessageInfo, isAnswered: () => boolean, signal?: AbortSignal): Promise<void> {
    const host = this.#host as HostProfile;
    const hostId = info.id as JsonRpcId;
    if (!MULTI_ROUND.has(info.method ?? '')) {
      const req = modernRequest(message, hostId, host);
      const key = idKey(hostId);
      this.#relayed.set(key, info.method as string);
      try {
        return await this.#inner.send(req.body, req.info, isAnswered, signal);
      } finally {
        this.#relayed.delete(key);
      }
    }
    let retry: RetryInput | undefined;
    for (let round = 0; round <= MAX_INPUT_ROUNDS; round++) {
      const req = modernRequest(message, round === 0 ? hostId : `mcp-signing-proxy-retry-${++this.#seq}`, host, retry);
      let reply: RemoteMessage;
      try {
        reply = await this.#exchange(req.body, req.info, signal);
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      const value = reply.bytes.includes('"input_required"') ? (messageValue(reply) as { id?: unknown; result?: Json }) : undefined;
      if (value?.result?.resultType !== 'input_required') return this.#answer(this.#legacy.shape(round === 0 ? reply : withId(reply, hostId), info.method, info.name));
      if (round === MAX_INPUT_ROUNDS) break;
      const inputRequests = (value.result.inputRequests ?? {}) as Json;
      try {
        const inputResponses = await (this.#rounds as InputRounds).gather(inputRequests, host, info.method as string, signal);
        retry = { inputResponses, requestState: typeof value.result.requestState === 'string' ? value.result.requestState : undefined };
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof MissingCapabilityError) return this.#answer(parseRemote(JSON.stringify({ jsonrpc: '2.0', id: hostId, error: missingCapability(err) })));
        throw err;
      }
    }
    throw new ProtocolError('ESP_INPUT_ROUNDS', `the server asked for client input ${MAX_INPUT_ROUNDS} times on ${info.method} without finishing it`, {
      hint: 'the server keeps asking for more input; check the server logs',
    });
  }

  async terminate(timeoutMs: number): Promise<void> {
    this.#listen.stop();
    await this.#inner.terminate(timeoutMs);
  }

  close(): void {
    this.#listen.stop();
    this.#inner.close();
  }

  /**
   * The listen request on the inner transport, which re-issues it after a dropped stream;
   * resolves with the server's response to it, or undefined when the server tore it down
   * or the bridge closed it.
   */
  async #listenStream(id: string, notifications: Json, signal: AbortSignal): Promise<unknown> {
    const req = ownRequest(id, 'subscriptions/listen', this.#host as HostProfile, { notifications });
    const reply = await this.#held(req.body, req.info, signal).catch((err: unknown) => {
      if (!signal.aborted) throw err;
    });
    return reply === undefined ? undefined : messageValue(reply);
  }
}

/** The final answer of a retried request under the host's id. */
function withId(msg: RemoteMessage, id: JsonRpcId): RemoteMessage {
  const value = messageValue(msg) as Json;
  value.id = id;
  return parseRemote(JSON.stringify(value));
}

/** 2026-07-28 "MissingRequiredClientCapabilityError": data.requiredCapabilities names what is missing. */
function missingCapability(err: MissingCapabilityError): Json {
  // A dotted capability (`elicitation.url`) is a nested object, as clients declare it.
  const requiredCapabilities = err.capability.split('.').reduceRight<Json>((inner, key) => ({ [key]: inner }), {});
  return { code: err.jsonRpcCode, message: `mcp-signing-proxy: ${err.message} (fix: ${err.hint})`, data: { code: err.code, requiredCapabilities } };
}
