import type { ClientMessageInfo } from '../../jsonrpc.js';

/** The first revision without sessions, GET streams or resumption (https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning). */
const MODERN_VERSION = '2026-07-28';

/**
 * Whether a message is of the 2026-07-28 era: its own `_meta` version, else the version
 * `initialize` negotiated. Versions are dates (YYYY-MM-DD), so they compare as strings.
 */
export function isModern(info: ClientMessageInfo, negotiated: string | undefined): boolean {
  const version = info.protocolVersion ?? negotiated;
  return version !== undefined && version >= MODERN_VERSION;
}
