import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/**
 * A throwaway PKI made at test time (ghostunnel's approach): EC keys,
 * sha256 signatures, every file written to a fresh temp dir. Nothing here is ever committed.
 */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface TestPki {
  readonly dir: string;
  /** The private CA that issued the server and the good client certificates. */
  readonly ca: PemPair;
  /** A CA nobody trusts. */
  readonly rogueCa: PemPair;
  /** Server certificate for localhost and 127.0.0.1 (serverAuth). */
  readonly server: PemPair;
  /** Server certificate issued for another name only (hostname mismatch). */
  readonly wrongNameServer: PemPair;
  /** Server certificate for localhost and 127.0.0.1 issued by the rogue CA. */
  readonly rogueServer: PemPair;
  /** Server certificate that expired yesterday. */
  readonly expiredServer: PemPair;
  /** Client certificates (clientAuth) from the private CA; two, for rotation tests. */
  readonly clientOne: PemPair;
  readonly clientTwo: PemPair;
  /** Client certificate issued by the rogue CA. */
  readonly rogueClient: PemPair;
  /** Client certificate that expired yesterday, and one that expires in two days. */
  readonly expiredClient: PemPair;
  readonly expiringClient: PemPair;
  /** clientOne's key, encrypted (PKCS#8, AES-256-CBC) with `passphrase`. */
  readonly encryptedKeyPath: string;
  /** clientOne as PKCS#12, protected with `passphrase` (openssl pkcs12 -export). */
  readonly pfxPath: string;
  readonly passphrase: string;
  /** Writes `text` to a new file in the PKI dir and returns its path. */
  write(name: string, text: string | Buffer): string;
  cleanup(): void;
}

const DAY = 86_400_000;

type Ext = NonNullable<Parameters<typeof generate>[1]>['extensions'];

const CA_EXTENSIONS: Ext = [
  { name: 'basicConstraints', cA: true, critical: true },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
];

function leafExtensions(usage: 'serverAuth' | 'clientAuth', names: string[] = [], ips: string[] = []): Ext {
  const ext: Ext = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', [usage]: true },
  ];
  if (names.length + ips.length > 0) {
    ext.push({ name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] });
  }
  return ext;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'esp-pki-'));
  const write = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const make = async (name: string, cn: string, extensions: Ext, issuer?: PemPair, validity: { notBeforeDate?: Date; notAfterDate?: Date } = {}): Promise<PemPair> => {
    const out = await generate([{ name: 'commonName', value: cn }], {
      algorithm: 'sha256',
      keyType: 'ec',
      extensions,
      ...validity,
      ...(issuer === undefined ? {} : { ca: { key: issuer.key, cert: issuer.cert } }),
    });
    // selfsigned omits the final newline; concatenated bundles need it.
    const cert = out.cert.endsWith('\n') ? out.cert : `${out.cert}\n`;
    const key = out.private.endsWith('\n') ? out.private : `${out.private}\n`;
    return { cert, key, certPath: write(`${name}.crt`, cert), keyPath: write(`${name}.key`, key) };
  };

  const ca = await make('ca', 'esp test CA', CA_EXTENSIONS);
  const rogueCa = await make('rogue-ca', 'esp rogue CA', CA_EXTENSIONS);
  const now = Date.now();
  const [server, rogueServer, wrongNameServer, expiredServer, clientOne, clientTwo, rogueClient, expiredClient, expiringClient] = await Promise.all([
    make('server', 'localhost', leafExtensions('serverAuth', ['localhost'], ['127.0.0.1']), ca),
    make('rogue-server', 'localhost', leafExtensions('serverAuth', ['localhost'], ['127.0.0.1']), rogueCa),
    make('wrong-name-server', 'wrong.example', leafExtensions('serverAuth', ['wrong.example']), ca),
    make('expired-server', 'localhost', leafExtensions('serverAuth', ['localhost'], ['127.0.0.1']), ca, { notBeforeDate: new Date(now - 30 * DAY), notAfterDate: new Date(now - DAY) }),
    make('client-one', 'client-one', leafExtensions('clientAuth'), ca),
    make('client-two', 'client-two', leafExtensions('clientAuth'), ca),
    make('rogue-client', 'rogue-client', leafExtensions('clientAuth'), rogueCa),
    make('expired-client', 'expired-client', leafExtensions('clientAuth'), ca, { notBeforeDate: new Date(now - 30 * DAY), notAfterDate: new Date(now - DAY) }),
    make('expiring-client', 'expiring-client', leafExtensions('clientAuth'), ca, { notBeforeDate: new Date(now - DAY), notAfterDate: new Date(now + 2 * DAY) }),
  ]);

  const passphrase = 'correct horse battery staple';
  const encryptedKeyPath = write(
    'client-one.enc.key',
    createPrivateKey(clientOne.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }),
  );
  const pfxPath = join(dir, 'client-one.p12');
  // The passphrase goes through the environment, not argv (habit worth keeping even in tests).
  execFileSync('openssl', ['pkcs12', '-export', '-in', clientOne.certPath, '-inkey', clientOne.keyPath, '-passout', 'env:ESP_PFX_PASS', '-out', pfxPath], {
    env: { ...process.env, ESP_PFX_PASS: passphrase },
    stdio: 'pipe',
  });

  return {
    dir, ca, rogueCa, server, rogueServer, wrongNameServer, expiredServer, clientOne, clientTwo, rogueClient, expiredClient, expiringClient,
    encryptedKeyPath, pfxPath, passphrase, write,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
