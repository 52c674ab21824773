import { ProtocolError } from '../../errors.js';
import { CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, DEFAULT_LEGACY_VERSION, LEGACY_VERSIONS, LOG_LEVEL_KEY, MODERN_VERSION, PROTOCOL_VERSION_KEY } from './protocol.js';

type Json = Record<string, unknown>;

function object(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The server→client requests of an input_required result, and the capability each needs. */
const CAPABILITY_OF: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/**
 * What a 2025-era host said about itself in its initialize, kept for the life of the
 * process: a 2026-07-28 server learns it from every request's `_meta` instead
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/index#meta).
 */
export class HostProfile {
  /** Set by logging/setLevel; sent per request from then on (2026-07-28 "Logging"). */
  logLevel: string | undefined;

  private constructor(
    readonly requestedVersion: string | undefined,
    readonly clientInfo: Json,
    readonly capabilities: Json,
  ) {}

  static fromInitialize(body: Uint8Array): HostProfile {
    const params = object((JSON.parse(Buffer.from(body).toString('utf8')) as Json).params);
    if (params === undefined) throw new ProtocolError('ESP_BAD_INITIALIZE', 'the client sent initialize without params', { hint: 'the client must send protocolVersion, capabilities and clientInfo' });
    const version = typeof params.protocolVersion === 'string' ? params.protocolVersion : undefined;
    return new HostProfile(version, object(params.clientInfo) ?? { name: 'unknown', version: '0' }, object(params.capabilities) ?? {});
  }

  /** The version the initialize is answered with: the host's own when the bridge speaks it. */
  answerVersion(): string {
    return (LEGACY_VERSIONS as readonly string[]).includes(this.requestedVersion ?? '') ? (this.requestedVersion as string) : DEFAULT_LEGACY_VERSION;
  }

  /** The `_meta` every request upstream carries on the host's behalf. */
  meta(): Json {
    return {
      [PROTOCOL_VERSION_KEY]: MODERN_VERSION,
      [CLIENT_INFO_KEY]: this.clientInfo,
      [CLIENT_CAPABILITIES_KEY]: this.capabilities,
      ...(this.logLevel !== undefined && { [LOG_LEVEL_KEY]: this.logLevel }),
    };
  }

  /**
   * The capability `method` needs that the host did not declare, as a dotted path
   * (`elicitation.url`); undefined when it may be asked. URL-mode elicitation needs
   * `elicitation.url`: a host with a bare `elicitation: {}` (2025-11-25) or any 2025-06-18
   * host knows form mode only
   * (https://modelcontextprotocol.io/specification/2025-11-25/client/elicitation#capabilities).
   */
  missingCapability(method: string, params: Json = {}): string | undefined {
    const needed = CAPABILITY_OF[method] ?? method;
    const declared = object(this.capabilities[needed]);
    if (declared === undefined) return needed;
    if (method === 'elicitation/create' && params.mode === 'url' && object(declared.url) === undefined) return `${needed}.url`;
    return undefined;
  }
}
