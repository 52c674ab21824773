import { signerOf, type Config } from '../config/config.js';
import type { Signer } from '../signers/signer.js';
import type { ClientIdentitySource } from '../tls/identity-source.js';

/**
 * Who the proxy acts as, for each audit line (README "Audit log"): what the signers say
 * of their credential (a bearer token's hash prefix, an access key id's last 4), the role
 * assumed and its session name, and the client certificate's subject and fingerprint.
 */
export function auditIdentity(config: Config, signers: readonly Signer[], tls: ClientIdentitySource | undefined): () => Record<string, string> {
  const role = signerOf(config, 'sigv4')?.assumeRole;
  return () => {
    const out: Record<string, string> = {};
    for (const s of signers) Object.assign(out, s.identity?.());
    if (role !== undefined) {
      out.roleArn = role.roleArn;
      out.roleSessionName = role.sessionName;
    }
    const cert = tls?.current();
    if (cert !== undefined) {
      out.certSubject = cert.subject;
      out.certSha256 = cert.fingerprint;
    }
    return out;
  };
}
