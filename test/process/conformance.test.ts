/**
 * The MCP conformance suite's client scenarios through the spawned proxy
 * (https://github.com/modelcontextprotocol/conformance; README, "Protocols" → "Conformance"):
 * every scenario that passes today is listed here, so a regression fails CI. Scenarios that
 * fail because the proxy lacks the feature (scope step-up on 403, DPoP, …) are in the README
 * table and `npm run conformance`, not here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runRevision, type Revision, type ScenarioResult } from '../../scripts/conformance-run.js';

/** Scenarios both revisions run: OAuth client credentials, and the browser login (the driver plays the person and the browser). */
const BOTH = [
  'json-schema-2020-12-preservation',
  'auth/pre-registration',
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/basic-cimd',
  'auth/scope-from-www-authenticate',
  'auth/scope-from-scopes-supported',
  'auth/scope-omitted-when-undefined',
  'auth/scope-retry-limit',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none',
];

const PASSING: Record<Revision, string[]> = {
  '2025-11-25': [
    'initialize',
    'tools_call',
    'sse-retry',
    'elicitation-sep1034-client-defaults',
    ...BOTH,
  ],
  '2026-07-28': [
    'tools_call',
    'request-metadata',
    'http-standard-headers',
    'http-custom-headers',
    'http-invalid-tool-headers',
    'sep-2322-client-request-state',
    'json-schema-ref-no-deref',
    ...BOTH,
    'auth/resource-mismatch',
    'auth/offline-access-scope',
    'auth/offline-access-not-supported',
    'auth/authorization-server-migration',
    'auth/iss-supported',
    'auth/iss-not-advertised',
    'auth/iss-supported-missing',
    'auth/iss-wrong-issuer',
    'auth/iss-unexpected',
    'auth/iss-normalized',
    'auth/metadata-issuer-mismatch',
  ],
};

for (const [revision, scenarios] of Object.entries(PASSING) as Array<[Revision, string[]]>) {
  describe(`conformance ${revision}`, () => {
    let results: ScenarioResult[] = [];
    // One batch per revision (each scenario in a suite run of its own, a few at a time); the
    // first run may install Node 22 for the suite.
    beforeAll(async () => {
      results = await runRevision(revision, scenarios);
    }, 240_000);

    it.each(scenarios)('%s passes every check', (scenario) => {
      const r = results.find((x) => x.scenario === scenario);
      expect(r, `${scenario} produced no results`).toBeDefined();
      expect(r!.failed, r!.reason).toBe(0);
      expect(r!.passed).toBeGreaterThan(0);
    });
  });
}
