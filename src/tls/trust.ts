import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { TlsConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { readSettingFile } from './read-file.js';

type Env = Readonly<Record<string, string | undefined>>;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * The `ca` option for TLS to the MCP server (and STS), or undefined for Node's defaults.
 *
 * Setting `ca` *replaces* the trust store: the bundled Mozilla roots and
 * NODE_EXTRA_CA_CERTS both stop applying (verified). `--ca-cert` must
 * add to them (README "Configuration"), so the result is the bundled roots + NODE_EXTRA_CA_CERTS + the
 * configured bundle. Without `--ca-cert` we leave `ca` unset and Node applies
 * NODE_EXTRA_CA_CERTS itself.
 */
export function loadCaBundle(tls: TlsConfig, env: Env, logger: Logger): string[] | undefined {
  if (tls.caCert === undefined) return undefined;
  const added = pemCertificates(readSettingFile('CA bundle', tls.caCert, 'set --ca-cert / MCP_CA_CERT to a PEM file of CA certificates'));
  if (added.length === 0) {
    throw new ConfigError(`CA bundle ${tls.caCert} contains no PEM certificate`, 'it must contain -----BEGIN CERTIFICATE----- blocks (convert DER with: openssl x509 -inform der -in ca.cer -out ca.pem)');
  }
  added.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ConfigError(`CA bundle ${tls.caCert} has an unreadable certificate (#${i + 1})`, 'check the file is an intact PEM bundle');
    }
  });
  return [...rootCertificates, ...nodeExtraCaCerts(env, logger), ...added];
}

/** NODE_EXTRA_CA_CERTS, which Node stops applying once `ca` is set; read so it keeps working. */
function nodeExtraCaCerts(env: Env, logger: Logger): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || file === '') return [];
  try {
    return pemCertificates(readFileSync(file));
  } catch (err) {
    // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same.
    logger.warn({ file, code: (err as NodeJS.ErrnoException).code }, 'NODE_EXTRA_CA_CERTS cannot be read; its certificates are not trusted');
    return [];
  }
}

function pemCertificates(data: Buffer): string[] {
  return data.toString('latin1').match(PEM_CERT) ?? [];
}
