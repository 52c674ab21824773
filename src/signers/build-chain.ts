import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { Dispatcher } from '../transport/undici.js';
import { createKindSigner } from './registry.js';
import type { Signer } from './signer.js';
import { createStaticHeadersSigner } from './static-headers.js';

/**
 * The signer chain in the order of docs/architecture.md ("Adding a signer"): static headers → headers helper → the chosen kind
 * (bearer, SigV4 …) → the user's --signer-module (last, like SigV4, so it covers every
 * header added before it and the final body). Each kind imports
 * its heavy modules only when chosen: the host starts us at every session start, so
 * start-up time counts.
 */
export async function buildSignerChain(config: Config, logger: Logger, dispatcher: Dispatcher): Promise<Signer[]> {
  const chain: Signer[] = [];
  if (config.headers.length > 0) chain.push(createStaticHeadersSigner(config.headers));
  if (config.headersHelper !== undefined) {
    const { createHeadersHelperSigner } = await import('./headers-helper.js');
    chain.push(createHeadersHelperSigner({ ...config.headersHelper, signer: config.signer, endpoint: config.endpoint, logger }));
  }
  const kind = await createKindSigner(config.auth, { dispatcher, logger, now: Date.now, config });
  if (kind !== undefined) chain.push(kind);
  if (config.signerModule !== undefined) {
    const { loadSignerModule } = await import('./signer-module.js');
    chain.push(await loadSignerModule(config.signerModule, logger));
  }
  return chain;
}
