import { copyFileSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { loadClientIdentity } from '../../src/tls/client-identity.js';
import { createClientIdentitySource } from '../../src/tls/identity-source.js';
import { loadCaBundle } from '../../src/tls/trust.js';
import { captureLog } from '../helpers/log-capture.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.cleanup());

const NONE: TlsConfig = { clientCert: undefined, clientKey: undefined, clientPfx: undefined, passphrase: undefined, caCert: undefined, insecure: false };
const pem = (cert: string, key: string, passphrase?: string): TlsConfig => ({ ...NONE, clientCert: cert, clientKey: key, passphrase });
const pfx = (path: string, passphrase?: string): TlsConfig => ({ ...NONE, clientPfx: path, passphrase });

/** The ConfigError a load throws (fails the test if it does not throw one). */
function configError(tls: TlsConfig): ConfigError {
  try {
    loadClientIdentity(tls);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadClientIdentity', () => {
  it('returns undefined without a client certificate', () => {
    expect(loadClientIdentity(NONE)).toBeUndefined();
  });

  it('loads a PEM pair and describes it without secrets', () => {
    const id = loadClientIdentity(pem(pki.clientOne.certPath, pki.clientOne.keyPath));
    expect(id).toMatchObject({ subject: 'client-one', files: [pki.clientOne.certPath, pki.clientOne.keyPath], warnings: [] });
    expect(id?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(id?.tls).toEqual({ cert: Buffer.from(pki.clientOne.cert), key: Buffer.from(pki.clientOne.key) });
  });

  it('decrypts an encrypted key with the passphrase', () => {
    const id = loadClientIdentity(pem(pki.clientOne.certPath, pki.encryptedKeyPath, pki.passphrase));
    expect(id?.subject).toBe('client-one');
    expect(id?.tls).toMatchObject({ passphrase: pki.passphrase });
  });

  it('names the key file when the passphrase is missing or wrong, never the passphrase', () => {
    expect(configError(pem(pki.clientOne.certPath, pki.encryptedKeyPath)).message).toBe(
      `client key ${pki.encryptedKeyPath} is encrypted and MCP_CLIENT_KEY_PASSPHRASE is not set`,
    );
    const wrong = configError(pem(pki.clientOne.certPath, pki.encryptedKeyPath, 'not the passphrase'));
    expect(wrong.message).toBe(`cannot decrypt client key ${pki.encryptedKeyPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`);
    expect(JSON.stringify(wrong)).not.toContain('not the passphrase');
  });

  it('refuses a key that does not belong to the certificate', () => {
    expect(configError(pem(pki.clientOne.certPath, pki.clientTwo.keyPath)).message).toBe(
      `client key ${pki.clientTwo.keyPath} does not match client certificate ${pki.clientOne.certPath}`,
    );
  });

  it('names unreadable, non-PEM and swapped files', () => {
    const missing = `${pki.dir}/nope.crt`;
    expect(configError(pem(missing, pki.clientOne.keyPath)).message).toBe(`client certificate ${missing} cannot be read (ENOENT)`);
    expect(configError(pem(pki.dir, pki.clientOne.keyPath)).message).toBe(`client certificate ${pki.dir} cannot be read (EISDIR)`);
    const garbage = pki.write('garbage.pem', 'hello\n');
    expect(configError(pem(garbage, pki.clientOne.keyPath)).message).toBe(`client certificate ${garbage} is not a PEM certificate`);
    expect(configError(pem(pki.clientOne.certPath, garbage)).message).toBe(`client key ${garbage} is not a PEM private key`);
    expect(configError(pem(pki.clientOne.keyPath, pki.clientOne.certPath)).message).toBe(`client certificate ${pki.clientOne.keyPath} holds a private key, not a certificate`);
    expect(configError(pem(pki.clientOne.certPath, pki.clientTwo.certPath)).message).toBe(`client key ${pki.clientTwo.certPath} holds a certificate, not a private key`);
  });

  it('refuses an expired certificate and warns about one expiring within 7 days', () => {
    expect(configError(pem(pki.expiredClient.certPath, pki.expiredClient.keyPath)).message).toMatch(
      new RegExp(`^client certificate ${pki.expiredClient.certPath} expired on \\d{4}-\\d\\d-\\d\\dT`),
    );
    const soon = loadClientIdentity(pem(pki.expiringClient.certPath, pki.expiringClient.keyPath));
    expect(soon?.warnings).toEqual([expect.stringMatching(new RegExp(`^client certificate ${pki.expiringClient.certPath} expires on .* \\(in 4[0-8] h\\)`))]);
    // The same certificate, seen from a clock 3 days later, is expired.
    expect(() => loadClientIdentity(pem(pki.expiringClient.certPath, pki.expiringClient.keyPath), Date.now() + 3 * 86_400_000)).toThrow(/expired on/);
  });

  it('warns when the certificate is not issued for client authentication', () => {
    const id = loadClientIdentity(pem(pki.server.certPath, pki.server.keyPath));
    expect(id?.warnings).toEqual([`client certificate ${pki.server.certPath} is not issued for client authentication (extendedKeyUsage lacks clientAuth); servers may reject it`]);
  });

  it('loads a PFX with its passphrase and names the file on a wrong, missing or broken one', () => {
    const id = loadClientIdentity(pfx(pki.pfxPath, pki.passphrase));
    expect(id).toMatchObject({ subject: 'client-one', files: [pki.pfxPath] });
    expect(id?.fingerprint).toBe(loadClientIdentity(pem(pki.clientOne.certPath, pki.clientOne.keyPath))?.fingerprint);
    expect(configError(pfx(pki.pfxPath, 'nope')).message).toBe(`cannot open client PFX ${pki.pfxPath}: wrong passphrase in MCP_CLIENT_KEY_PASSPHRASE`);
    expect(configError(pfx(pki.pfxPath)).message).toBe(`client PFX ${pki.pfxPath} is protected by a passphrase and MCP_CLIENT_KEY_PASSPHRASE is not set`);
    expect(configError(pfx(pki.clientOne.certPath, 'x')).message).toMatch(new RegExp(`^client PFX ${pki.clientOne.certPath} is not a usable PKCS#12 file`));
  });
});

describe('createClientIdentitySource (rotation)', () => {
  function rotatingFiles() {
    const cert = pki.write(`rot-${Math.random()}.crt`, pki.clientOne.cert);
    const key = pki.write(`rot-${Math.random()}.key`, pki.clientOne.key);
    return { cert, key, tls: pem(cert, key) };
  }

  it('throws the start-up ConfigError and logs the loaded identity', () => {
    const log = captureLog();
    expect(() => createClientIdentitySource(pem(pki.clientOne.certPath, pki.clientTwo.keyPath), log.logger)).toThrow(ConfigError);
    const f = rotatingFiles();
    createClientIdentitySource(f.tls, log.logger);
    expect(log.entries().find((e) => e.msg === 'client certificate loaded')).toMatchObject({ subject: 'client-one', file: f.cert });
  });

  it('picks up replaced files and keeps the old identity on a broken replacement, logging once per change', () => {
    const log = captureLog();
    const f = rotatingFiles();
    const source = createClientIdentitySource(f.tls, log.logger);
    const first = source?.current();
    expect(source?.current()).toBe(first); // unchanged files: same object, nothing re-read
    writeFileSync(f.cert, pki.clientOne.cert); // rewritten with the same contents
    expect(source?.current()).toBe(first);
    expect(log.entries().some((e) => /changed on disk/.test(e.msg))).toBe(false);

    writeFileSync(f.cert, 'not a certificate\n');
    expect(source?.current()).toBe(first);
    expect(source?.current()).toBe(first);
    const broken = log.warnings(/cannot be used, keeping the previous certificate/);
    expect(broken).toHaveLength(1);
    expect(broken[0]?.msg).toContain(`client certificate ${f.cert} is not a PEM certificate`);

    // Half-rotated: new certificate, old key → still the old identity, one more warning.
    copyFileSync(pki.clientTwo.certPath, f.cert);
    expect(source?.current()).toBe(first);
    expect(log.warnings(/keeping the previous certificate/).at(-1)?.msg).toContain('does not match client certificate');

    copyFileSync(pki.clientTwo.keyPath, f.key);
    const second = source?.current();
    expect(second?.subject).toBe('client-two');
    expect(log.entries().find((e) => /changed on disk/.test(e.msg))).toMatchObject({ subject: 'client-two' });
    expect(log.warnings(/keeping the previous certificate/)).toHaveLength(2);
  });

  it('warns once when the certificate in use expires', () => {
    const log = captureLog();
    let now = Date.now();
    const source = createClientIdentitySource(pem(pki.expiringClient.certPath, pki.expiringClient.keyPath), log.logger, () => now);
    expect(log.warnings(/expires on/)).toHaveLength(1);
    now += 3 * 86_400_000;
    source?.current();
    source?.current();
    expect(log.warnings(/has expired; servers will refuse new connections/)).toHaveLength(1);
  });
});

describe('loadCaBundle', () => {
  it('adds the bundle to the default roots and NODE_EXTRA_CA_CERTS instead of replacing them', () => {
    const log = captureLog();
    const extra = pki.write('extra-ca.pem', pki.rogueCa.cert);
    const bundle = loadCaBundle({ ...NONE, caCert: pki.ca.certPath }, { NODE_EXTRA_CA_CERTS: extra }, log.logger);
    expect(bundle).toHaveLength(rootCertificates.length + 2);
    expect(bundle?.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    expect(bundle?.at(-2)?.trim()).toBe(pki.rogueCa.cert.trim());
    expect(bundle?.at(-1)?.trim()).toBe(pki.ca.cert.trim());
  });

  it('leaves the trust store alone without --ca-cert', () => {
    expect(loadCaBundle(NONE, { NODE_EXTRA_CA_CERTS: '/nonexistent' }, captureLog().logger)).toBeUndefined();
  });

  it('warns about an unreadable NODE_EXTRA_CA_CERTS and refuses a bundle without certificates', () => {
    const log = captureLog();
    expect(loadCaBundle({ ...NONE, caCert: pki.ca.certPath }, { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' }, log.logger)).toHaveLength(rootCertificates.length + 1);
    expect(log.warnings(/NODE_EXTRA_CA_CERTS cannot be read/)).toHaveLength(1);
    expect(() => loadCaBundle({ ...NONE, caCert: pki.clientOne.keyPath }, {}, log.logger)).toThrow(`CA bundle ${pki.clientOne.keyPath} contains no PEM certificate`);
    expect(() => loadCaBundle({ ...NONE, caCert: '/nonexistent/ca.pem' }, {}, log.logger)).toThrow('CA bundle /nonexistent/ca.pem cannot be read (ENOENT)');
    const broken = pki.write('broken-ca.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => loadCaBundle({ ...NONE, caCert: broken }, {}, log.logger)).toThrow(`CA bundle ${broken} has an unreadable certificate (#1)`);
  });
});
