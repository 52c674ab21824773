import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headersFromRaw, verifySigV4 } from './sigv4-verifier.js';

/**
 * A loopback STS speaking the real AWS Query protocol: `POST /`,
 * form-encoded `Action=AssumeRole&Version=2011-06-15&…`, XML answers, SigV4 (service `sts`)
 * checked against the known source credentials, so the SDK's real STS client is exercised
 * end to end. AssumeRole (what the proxy calls) and GetCallerIdentity (what --check calls,
 * signed with source or issued credentials) are implemented.
 */

export interface SourceCredential {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export type StsFailure = 'AccessDenied' | 'ExpiredToken' | 'InvalidClientTokenId' | 'RegionDisabledException';

export interface FakeStsOptions {
  /** Source credentials allowed to call AssumeRole, by access key id. */
  readonly credentials: Readonly<Record<string, SourceCredential>>;
  /** Region the client must sign for (its `region` / stsRegion). */
  readonly region?: string;
  /** Lifetime of issued credentials; may be below STS's 900 s minimum. Default 3600. */
  readonly lifetimeSeconds?: number;
  /** Clock for the `<Expiration>` it issues (a test's fake clock). Default Date.now. */
  readonly now?: () => number;
  /** Prefix of issued secrets / tokens, e.g. a canary to look for in logs. */
  readonly secretPrefix?: string;
  /** Who GetCallerIdentity says a source key is; default an IAM user of account 111122223333. */
  readonly identities?: Readonly<Record<string, { readonly account: string; readonly arn: string }>>;
}

export interface AssumeRoleCall {
  /** Form parameters received: RoleArn, RoleSessionName, ExternalId, DurationSeconds … */
  readonly params: Readonly<Record<string, string>>;
  /** Access key id whose signature verified; undefined when the request was rejected before that. */
  readonly signedBy: string | undefined;
  readonly status: number;
  readonly errorCode: string | undefined;
}

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface FakeSts {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_STS or clientConfig.endpoint. */
  readonly url: string;
  readonly calls: readonly AssumeRoleCall[];
  readonly issued: readonly IssuedCredentials[];
  /** The access key id each GetCallerIdentity was signed with. */
  readonly identityCalls: readonly string[];
  lifetimeSeconds: number;
  /**
   * The next `times` (default 1) AssumeRole calls fail with this STS error; `message`
   * replaces STS's text (e.g. with a canary, to prove it is never repeated).
   */
  failNext(code: StsFailure, opts?: { times?: number; message?: string }): void;
  /** From now on, requests signed with this source key get ExpiredToken (as STS does). */
  expireSource(accessKeyId: string): void;
  close(): Promise<void>;
}

const FAILURES: Record<StsFailure, { status: number; message: string }> = {
  AccessDenied: { status: 403, message: 'User: arn:aws:iam::111122223333:user/fake is not authorized to perform: sts:AssumeRole on resource' },
  ExpiredToken: { status: 400, message: 'The security token included in the request is expired' },
  InvalidClientTokenId: { status: 403, message: 'The security token included in the request is invalid.' },
  RegionDisabledException: { status: 403, message: 'STS is not activated in this region for account' },
};

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function errorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

function callerIdentityXml(account: string, arn: string, requestId: string): string {
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
    `<Arn>${xmlEscape(arn)}</Arn><UserId>AIDAFAKE</UserId><Account>${account}</Account>` +
    `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
}

function assumedArn(params: Record<string, string>): { account: string; arn: string } {
  const roleArn = params.RoleArn ?? '';
  const account = roleArn.split(':')[4] ?? '111122223333';
  return { account, arn: `arn:aws:sts::${account}:assumed-role/${roleArn.split('/').pop() ?? 'role'}/${params.RoleSessionName ?? ''}` };
}

function successXml(c: IssuedCredentials, params: Record<string, string>, requestId: string): string {
  const roleArn = params.RoleArn ?? '';
  const roleName = roleArn.split('/').pop() ?? 'role';
  const account = roleArn.split(':')[4] ?? '111122223333';
  const session = params.RoleSessionName ?? '';
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
    `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${c.sessionToken}</SessionToken><Expiration>${c.expiration.toISOString()}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>AROAFAKE:${xmlEscape(session)}</AssumedRoleId>` +
    `<Arn>arn:aws:sts::${account}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(session)}</Arn></AssumedRoleUser>` +
    `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
}

/** The verifier answers as API Gateway does; STS's Query API names the same failures so. */
const STS_CODE: Readonly<Record<string, { code: string; status: number }>> = {
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFakeSts(opts: FakeStsOptions): Promise<FakeSts> {
  const region = opts.region ?? 'us-east-1';
  const now = opts.now ?? Date.now;
  const secretPrefix = opts.secretPrefix ?? 'FAKESTSSECRET';
  const calls: AssumeRoleCall[] = [];
  const issued: IssuedCredentials[] = [];
  /** AssumeRole parameters behind each issued key, for GetCallerIdentity. */
  const issuedFor = new Map<string, Record<string, string>>();
  const identityCalls: string[] = [];
  const failures: Array<{ code: StsFailure; message: string | undefined }> = [];
  const expiredSources = new Set<string>();
  let requestSeq = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const requestId = `fake-${++requestSeq}`;
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    const reply = (status: number, xml: string, signedBy: string | undefined, errorCode?: string): void => {
      if (params.Action === 'AssumeRole') calls.push({ params, signedBy, status, errorCode });
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(xml);
    };
    if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return reply(400, errorXml('InvalidRequest', 'expected a form-encoded POST', requestId), undefined, 'InvalidRequest');
    }
    // Signed with service `sts` and the client's region, by a known source key;
    // STS allows 15 minutes of clock skew.
    const verdict = verifySigV4(
      { method: req.method ?? 'POST', rawPath: req.url ?? '/', headers: headersFromRaw(req.rawHeaders), body },
      {
        credentials: (akid) => {
          const known = opts.credentials[akid] ?? issued.find((c) => c.accessKeyId === akid);
          return known === undefined ? undefined : { secretAccessKey: known.secretAccessKey, sessionToken: known.sessionToken, expired: expiredSources.has(akid) };
        },
        service: 'sts',
        region,
        maxSkewMs: 15 * 60_000,
      },
    );
    if (!verdict.ok) {
      const { code, status } = STS_CODE[verdict.errorType] ?? { code: verdict.errorType, status: 403 };
      return reply(status, errorXml(code, verdict.message, requestId), undefined, code);
    }
    if (params.Action === 'GetCallerIdentity' && params.Version === '2011-06-15') {
      identityCalls.push(verdict.accessKeyId);
      const role = issuedFor.get(verdict.accessKeyId);
      const who = role === undefined ? opts.identities?.[verdict.accessKeyId] ?? { account: '111122223333', arn: 'arn:aws:iam::111122223333:user/fake' } : assumedArn(role);
      return reply(200, callerIdentityXml(who.account, who.arn, requestId), verdict.accessKeyId);
    }
    if (params.Action !== 'AssumeRole' || params.Version !== '2011-06-15') {
      return reply(400, errorXml('InvalidAction', `unsupported action ${params.Action ?? ''}`, requestId), verdict.accessKeyId, 'InvalidAction');
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      const f = FAILURES[failure.code];
      return reply(f.status, errorXml(failure.code, failure.message ?? f.message, requestId), verdict.accessKeyId, failure.code);
    }
    const n = String(issued.length + 1).padStart(4, '0');
    const creds: IssuedCredentials = {
      accessKeyId: `ASIAFAKE${n.padStart(12, '0')}`,
      secretAccessKey: `${secretPrefix}${n}`.padEnd(40, 'x'),
      sessionToken: `${secretPrefix}TOKEN${n}`,
      expiration: new Date(Math.floor((now() + api.lifetimeSeconds * 1000) / 1000) * 1000),
    };
    issued.push(creds);
    issuedFor.set(creds.accessKeyId, params);
    reply(200, successXml(creds, params, requestId), verdict.accessKeyId);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: FakeSts = {
    url: `http://127.0.0.1:${port}`,
    calls,
    issued,
    identityCalls,
    lifetimeSeconds: opts.lifetimeSeconds ?? 3600,
    failNext(code, { times = 1, message } = {}) {
      for (let i = 0; i < times; i++) failures.push({ code, message });
    },
    expireSource(accessKeyId) {
      expiredSources.add(accessKeyId);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
