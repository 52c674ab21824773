import { inspect } from 'node:util';

/**
 * Where a secret comes from, never the secret itself: the configuration holds these, so
 * printing or logging the configuration (JSON, util.inspect, pino) shows the source's label
 * only. The value is read when a signer is built, and registered for masking there.
 */
export class SecretSource {
  /** E.g. "env MCP_BEARER_TOKEN" or "file /run/secrets/client-secret". */
  readonly label: string;
  readonly #read: () => string;

  constructor(label: string, read: () => string) {
    this.label = label;
    this.#read = read;
  }

  /** The secret; read again on every call (a file may have been rewritten). */
  reveal(): string {
    return this.#read();
  }

  toJSON(): string {
    return this.label;
  }

  toString(): string {
    return this.label;
  }

  [inspect.custom](): string {
    return `SecretSource(${this.label})`;
  }
}
