import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { createBearerSigner } from './bearer.js';
import type { Signer } from './signer.js';
import { createStaticHeadersSigner } from './static-headers.js';

export interface ChainDeps {
  /** For the AWS SDK's own (STS/SSO) traffic: same CA bundle and proxy as ours. */
  awsRequestHandler?: unknown;
}

/**
 * The signer chain in DESIGN.md order: static headers → bearer | SigV4 (last, so it covers
 * every header added before it). The AWS modules are imported only when SigV4 is chosen:
 * the host starts us at every session start (DESIGN.md principle 5).
 */
export async function buildSignerChain(config: Config, logger: Logger, deps: ChainDeps = {}): Promise<Signer[]> {
  const chain: Signer[] = [];
  if (config.headers.length > 0) chain.push(createStaticHeadersSigner(config.headers));
  if (config.signer === 'bearer' && config.bearer !== undefined) {
    chain.push(createBearerSigner(config.bearer));
  } else if (config.signer === 'sigv4' && config.sigv4 !== undefined) {
    const [{ createSigV4Signer }, { createAwsCredentialSource }] = await Promise.all([
      import('./sigv4.js'),
      import('../credentials/aws-credentials.js'),
    ]);
    const credentials = await createAwsCredentialSource(config.sigv4, logger, { requestHandler: deps.awsRequestHandler });
    chain.push(createSigV4Signer({ service: config.sigv4.service, region: config.sigv4.region, credentials }));
  }
  return chain;
}
