/**
 * Error taxonomy. Every error the proxy raises carries a stable `code` and a message that
 * is safe to show the client (and so the model): no header values, no upstream bodies, no
 * credentials. `toJSON()` is what the logger's err serializer
 * writes (logging/logger.ts); pino's default would copy every property, stack and cause.
 */
import { scrubSecrets } from './logging/safe-url.js';

export interface ProxyErrorOptions {
  /** What the user can do about it; appended to the client-visible message. */
  hint?: string;
  /** HTTP status of the upstream response, when one caused the error. */
  httpStatus?: number;
  /** Whether the request may be sent again without risk (connect-phase failures). */
  retryable?: boolean;
  /** The JSON-RPC error code the client sees; default -32603 (internal error). */
  jsonRpcCode?: number;
  cause?: unknown;
}

export class ProxyError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  readonly jsonRpcCode: number | undefined;

  constructor(code: string, message: string, opts: ProxyErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.httpStatus = opts.httpStatus;
    this.retryable = opts.retryable ?? false;
    this.jsonRpcCode = opts.jsonRpcCode;
  }

  toJSON(): Record<string, unknown> {
    return { type: this.name, code: this.code, message: scrubSecrets(this.message), hint: this.hint && scrubSecrets(this.hint), httpStatus: this.httpStatus };
  }
}

/** A setting is missing or wrong: start-up stops with this message (names flag/env + fix). */
export class ConfigError extends ProxyError {
  constructor(message: string, hint?: string) {
    super('ESP_CONFIG', message, hint === undefined ? {} : { hint });
  }
}

/** The remote answered with an HTTP status we cannot turn into a JSON-RPC message. */
export class UpstreamHttpError extends ProxyError {}

/** No HTTP response at all: DNS, refused, reset, TLS, proxy. */
export class UpstreamNetworkError extends ProxyError {}

/** Credentials could not be obtained or were rejected (SSO expired, AccessDenied …). */
export class CredentialError extends ProxyError {}

/** The remote broke the MCP transport contract (bad content type, stream ended early …). */
export class ProtocolError extends ProxyError {}

/** The client sent something that is not a JSON-RPC message the proxy can relay. */
export class InvalidMessageError extends ProxyError {}

/** A request the configured policy refuses (README "Least privilege"); never sent upstream. */
export class PolicyError extends ProxyError {
  /** The setting that refuses it, e.g. --deny-tools. */
  readonly rule: string;

  constructor(message: string, rule: string, hint: string) {
    super('ESP_POLICY_DENIED', message, { hint, jsonRpcCode: JSONRPC_INVALID_PARAMS });
    this.rule = rule;
  }
}

/** JSON-RPC error codes (https://www.jsonrpc.org/specification#error_object). */
export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

const PREFIX = 'mcp-signing-proxy: ';

/** Maps any thrown value to the JSON-RPC error the client sees (one place, so no secret slips into a message). */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (err instanceof ProxyError) {
    // The last line of defence: a value the proxy holds as a secret never reaches the model,
    // whichever message might have quoted it.
    const hint = err.hint && scrubSecrets(err.hint);
    const message = PREFIX + scrubSecrets(err.message) + (hint ? ` (fix: ${hint})` : '');
    const data: Record<string, unknown> = { code: err.code };
    if (err.httpStatus !== undefined) data.httpStatus = err.httpStatus;
    if (hint !== undefined) data.hint = hint;
    return { code: err.jsonRpcCode ?? JSONRPC_INTERNAL_ERROR, message, data };
  }
  // Unknown errors may carry anything in their message (a dependency's text); keep only
  // the class name so nothing unexpected reaches the model.
  const name = err instanceof Error ? err.name : typeof err;
  return {
    code: JSONRPC_INTERNAL_ERROR,
    message: `${PREFIX}internal error (${name}); see the proxy log on stderr`,
    data: { code: 'ESP_INTERNAL' },
  };
}
