import type { HeaderPair } from '../config/headers.js';
import { withHeaders, type Signer } from './signer.js';

/** Adds the user's fixed headers. Runs first, so SigV4 (last) signs them too. */
export function createStaticHeadersSigner(pairs: readonly HeaderPair[]): Signer {
  const add: Record<string, string> = {};
  for (const [name, value] of pairs) add[name] = add[name] === undefined ? value : `${add[name]}, ${value}`;
  return {
    name: 'static-headers',
    sign: async (req) => withHeaders(req, add),
  };
}
