import type { TlsConfig } from '../config/config.js';
import { fileStamp } from '../file-stamp.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { loadClientIdentity, type ClientIdentity } from './client-identity.js';

/** The client identity new connections should use. */
export interface ClientIdentitySource {
  /** Re-reads the files when they changed on disk (a stat per call: cheap next to a request). */
  current(): ClientIdentity;
}

/**
 * Loads the client identity (throwing a ConfigError at start-up) and keeps it fresh:
 * certificate files replaced on disk are picked up without a restart. A
 * broken replacement keeps the previous identity and is logged once per change, because a
 * half-rotated pair (new certificate, old key) is a normal moment during a rotation
 * (ghostunnel test-client-reload-broken-certificate). Returns undefined when no client
 * certificate is configured.
 */
export function createClientIdentitySource(tls: TlsConfig, logger: Logger, now: () => number = Date.now): ClientIdentitySource | undefined {
  const initial = loadClientIdentity(tls, now());
  if (initial === undefined) return undefined;
  logIdentity(logger, 'client certificate loaded', initial);
  let identity = initial;
  let seen = fileStamp(identity.files);
  let expiryLogged = false;

  return {
    current(): ClientIdentity {
      const active = identity;
      const signature = fileStamp(active.files);
      if (signature !== seen) {
        seen = signature;
        try {
          const next = loadClientIdentity(tls, now()) ?? active;
          // Rewritten with the same contents (a touch, a secret re-sync): keep the agent and its pool.
          if (!sameIdentity(next, active)) {
            identity = next;
            expiryLogged = false;
            logIdentity(logger, 'client certificate changed on disk; new connections use it', identity);
          }
        } catch (err) {
          const reason = err instanceof ProxyError ? `${err.message}${err.hint ? ` (fix: ${err.hint})` : ''}` : `unexpected ${err instanceof Error ? err.name : 'error'}`;
          logger.warn({ subject: active.subject, fingerprint: active.fingerprint }, `client certificate files changed but cannot be used, keeping the previous certificate: ${reason}`);
        }
      }
      if (!expiryLogged && now() >= identity.notAfter.getTime()) {
        expiryLogged = true;
        logger.warn({ subject: identity.subject, notAfter: identity.notAfter.toISOString() }, `client certificate ${identity.files[0]} has expired; servers will refuse new connections until the file is replaced`);
      }
      return identity;
    },
  };
}

function sameIdentity(a: ClientIdentity, b: ClientIdentity): boolean {
  const bytes = (id: ClientIdentity) => ('pfx' in id.tls ? id.tls.pfx : id.tls.key);
  return a.fingerprint === b.fingerprint && bytes(a).equals(bytes(b));
}

function logIdentity(logger: Logger, msg: string, id: ClientIdentity): void {
  logger.info({ file: id.files[0], subject: id.subject, notAfter: id.notAfter.toISOString(), fingerprint: id.fingerprint }, msg);
  for (const warning of id.warnings) logger.warn(warning);
}
