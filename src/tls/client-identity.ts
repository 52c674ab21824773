import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../logging/safe-url.js';
import { readSettingFile } from './read-file.js';

/** The TLS options that present a client certificate (undici `connect` / `requestTls`). */
export type ClientIdentityTls =
  | { readonly cert: Buffer; readonly key: Buffer; readonly passphrase?: string }
  | { readonly pfx: Buffer; readonly passphrase?: string };

/**
 * A validated client certificate. `tls` holds the exact bytes that were validated, so a
 * file replaced between the check and the handshake cannot slip through unchecked.
 */
export interface ClientIdentity {
  readonly tls: ClientIdentityTls;
  /** The files it came from, certificate (or PFX) first; re-read on change (identity-source.ts). */
  readonly files: readonly string[];
  /** Safe to log: subject CN, expiry and SHA-256 fingerprint of the certificate. */
  readonly subject: string;
  readonly notAfter: Date;
  readonly fingerprint: string;
  /** Worth a warning but not fatal: expires within 7 days, not issued for clientAuth. */
  readonly warnings: readonly string[];
}

const EXPIRY_WARNING_MS = 7 * 86_400_000;
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const FIX_PEM = 'set --client-cert/MCP_CLIENT_CERT and --client-key/MCP_CLIENT_KEY to PEM files';
const FIX_PASSPHRASE = 'set MCP_CLIENT_KEY_PASSPHRASE (environment only) to the key passphrase';

/**
 * Loads and validates the configured client identity (readable, parseable, key
 * matches certificate, not expired). Throws a ConfigError naming the file and the problem;
 * messages never contain the passphrase. Returns undefined when no client certificate is
 * configured.
 */
export function loadClientIdentity(tls: TlsConfig, now: number = Date.now()): ClientIdentity | undefined {
  registerSecret(tls.passphrase);
  if (tls.clientPfx !== undefined) return loadPfx(tls.clientPfx, tls.passphrase, now);
  if (tls.clientCert !== undefined && tls.clientKey !== undefined) return loadPem(tls.clientCert, tls.clientKey, tls.passphrase, now);
  return undefined;
}

function loadPem(certPath: string, keyPath: string, passphrase: string | undefined, now: number): ClientIdentity {
  const certPem = readSettingFile('client certificate', certPath, FIX_PEM);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    const looksLikeKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certPem.toString('latin1'));
    throw new ConfigError(
      looksLikeKey ? `client certificate ${certPath} holds a private key, not a certificate` : `client certificate ${certPath} is not a PEM certificate`,
      looksLikeKey ? 'the certificate and key files look swapped' : 'it must contain -----BEGIN CERTIFICATE-----; for a .p12/.pfx file use --client-pfx / MCP_CLIENT_PFX',
    );
  }
  const keyPem = readSettingFile('client key', keyPath, FIX_PEM);
  const key = parsePrivateKey(keyPath, keyPem, passphrase);
  if (!x509.checkPrivateKey(key)) {
    throw new ConfigError(`client key ${keyPath} does not match client certificate ${certPath}`, 'use the private key that the certificate was issued for');
  }
  const tls = passphrase === undefined ? { cert: certPem, key: keyPem } : { cert: certPem, key: keyPem, passphrase };
  // What only OpenSSL's TLS layer rejects (e.g. a key too weak for its security level).
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new ConfigError(`client certificate ${certPath} cannot be used for TLS (${firstLine(err)})`, FIX_PEM);
  }
  return describe(x509, tls, [certPath, keyPath], now);
}

function parsePrivateKey(keyPath: string, pem: Buffer, passphrase: string | undefined): KeyObject {
  const text = pem.toString('latin1');
  // PKCS#8 "ENCRYPTED PRIVATE KEY" or the traditional "Proc-Type: 4,ENCRYPTED" header.
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text);
  if (encrypted && passphrase === undefined) {
    throw new ConfigError(`client key ${keyPath} is encrypted and MCP_CLIENT_KEY_PASSPHRASE is not set`, FIX_PASSPHRASE);
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch {
    // OpenSSL reports a wrong passphrase as "bad decrypt"; any failure on an encrypted key is that.
    if (encrypted) throw new ConfigError(`cannot decrypt client key ${keyPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`, FIX_PASSPHRASE);
    const looksLikeCert = /-----BEGIN CERTIFICATE-----/.test(text);
    throw new ConfigError(
      looksLikeCert ? `client key ${keyPath} holds a certificate, not a private key` : `client key ${keyPath} is not a PEM private key`,
      looksLikeCert ? 'the certificate and key files look swapped' : 'it must contain -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)',
    );
  }
}

function loadPfx(pfxPath: string, passphrase: string | undefined, now: number): ClientIdentity {
  const pfx = readSettingFile('client PFX', pfxPath, 'set --client-pfx / MCP_CLIENT_PFX to a PKCS#12 (.p12/.pfx) file');
  const tls = passphrase === undefined ? { pfx } : { pfx, passphrase };
  let der: Buffer | null | undefined;
  try {
    // Node has no public PKCS#12 parser: open it the way tls.connect will, then take the
    // certificate (DER) from the native secure context.
    const native = createSecureContext(tls).context as { getCertificate?: () => Buffer | null };
    der = native.getCertificate?.();
  } catch (err) {
    // OpenSSL's PKCS#12 MAC check is what fails on a wrong or missing passphrase.
    if (/mac verify failure/i.test(firstLine(err))) {
      throw new ConfigError(
        passphrase === undefined ? `client PFX ${pfxPath} is protected by a passphrase and MCP_CLIENT_KEY_PASSPHRASE is not set` : `cannot open client PFX ${pfxPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`,
        FIX_PASSPHRASE,
      );
    }
    throw new ConfigError(`client PFX ${pfxPath} is not a usable PKCS#12 file (${firstLine(err)})`, 'export one with: openssl pkcs12 -export -in cert.pem -inkey key.pem -out client.p12');
  }
  if (!der) throw new ConfigError(`client PFX ${pfxPath} contains no certificate`, 'export the certificate together with its private key');
  return describe(new X509Certificate(der), tls, [pfxPath], now);
}

/** Checks the validity dates, collects warnings and the loggable facts. */
function describe(x509: X509Certificate, tls: ClientIdentityTls, files: string[], now: number): ClientIdentity {
  const file = files[0] ?? '';
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now) {
    throw new ConfigError(`client certificate ${file} expired on ${notAfter.toISOString()}`, 'renew the client certificate: the server would reject it');
  }
  if (notBefore.getTime() > now) {
    throw new ConfigError(`client certificate ${file} is not valid before ${notBefore.toISOString()}`, 'check the system clock, or wait until the certificate becomes valid');
  }
  const warnings: string[] = [];
  const left = notAfter.getTime() - now;
  if (left < EXPIRY_WARNING_MS) {
    warnings.push(`client certificate ${file} expires on ${notAfter.toISOString()} (in ${Math.floor(left / 3_600_000)} h); renew it soon — a replaced file is picked up without a restart`);
  }
  // Node 20's X509Certificate.keyUsage lists the *extended* key usages (undefined = none).
  const eku = x509.keyUsage;
  if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) {
    warnings.push(`client certificate ${file} is not issued for client authentication (extendedKeyUsage lacks clientAuth); servers may reject it`);
  }
  const subject = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? x509.subject;
  return { tls, files, subject, notAfter, fingerprint: x509.fingerprint256, warnings };
}

/** The first line of an OpenSSL error message (never contains the passphrase). */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? '').slice(0, 200);
}
