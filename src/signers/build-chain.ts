import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { createBearerSigner } from './bearer.js';
import type { Signer } from './signer.js';
import { createStaticHeadersSigner } from './static-headers.js';

/**
 * The signer chain in DESIGN.md order: static headers → headers helper → bearer | SigV4
 * (last, so it covers
 * every header added before it). The AWS modules are imported only when SigV4 is chosen:
 * the host starts us at every session start (DESIGN.md principle 5).
 */
export async function buildSignerChain(config: Config, logger: Logger): Promise<Signer[]> {
  const chain: Signer[] = [];
  if (config.headers.length > 0) chain.push(createStaticHeadersSigner(config.headers));
  if (config.headersHelper !== undefined) {
    const { createHeadersHelperSigner } = await import('./headers-helper.js');
    chain.push(createHeadersHelperSigner({ ...config.headersHelper, signer: config.signer, endpoint: config.endpoint, logger }));
  }
  if (config.signer === 'bearer' && config.bearer !== undefined) {
    chain.push(createBearerSigner(config.bearer));
  } else if (config.signer === 'sigv4' && config.sigv4 !== undefined) {
    const [{ createSigV4Signer }, { createAwsCredentialSource }, { createAwsRequestHandler }, { prewarmCredentials }] = await Promise.all([
      import('./sigv4.js'),
      import('../credentials/aws-credentials.js'),
      import('../tls/aws-request-handler.js'),
      import('../credentials/prewarm-credentials.js'),
    ]);
    // The SDK's own STS/SSO traffic gets the same CA bundle and proxy as ours (issue 4).
    const requestHandler = await createAwsRequestHandler(config, logger);
    const credentials = prewarmCredentials(await createAwsCredentialSource(config.sigv4, logger, { requestHandler }));
    chain.push(createSigV4Signer({ service: config.sigv4.service, region: config.sigv4.region, credentials }));
  }
  return chain;
}
