/**
 * `npm run conformance`: the MCP conformance suite's client scenarios through the built
 * proxy, for each revision, as the table the README publishes (Protocols → Conformance).
 *
 *   npm run conformance                               # every client scenario, both revisions
 *   npm run conformance -- tools_call sse-retry       # only these scenarios
 *   CONFORMANCE_NODE=/path/to/node22 npm run conformance
 */
import { REVISIONS, runRevision, suiteNode, type ScenarioResult } from './conformance-run.js';

const only = process.argv.slice(2);
const node = suiteNode();
const byRevision = new Map<string, ScenarioResult[]>();
for (const revision of REVISIONS) byRevision.set(revision, await runRevision(revision, only, node));

const scenarios = [...new Set([...byRevision.values()].flat().map((r) => r.scenario))].sort();
const cell = (r: ScenarioResult | undefined) => (r === undefined ? 'n/a' : `${r.failed === 0 ? 'pass' : 'fail'} ${r.passed}/${r.passed + r.failed}${r.scored ? '' : ' (not scored)'}`);
console.log(`| scenario | ${REVISIONS.join(' | ')} | why it fails |`);
console.log(`|---|${REVISIONS.map(() => '---|').join('')}---|`);
let failures = 0;
for (const scenario of scenarios) {
  const row = REVISIONS.map((v) => byRevision.get(v)!.find((r) => r.scenario === scenario));
  const reasons = [...new Set(row.flatMap((r) => (r?.reason ? [r.reason.replace(/\|/g, '\\|').slice(0, 160)] : [])))];
  failures += row.filter((r) => r !== undefined && r.scored && r.failed > 0).length;
  console.log(`| ${scenario} | ${row.map(cell).join(' | ')} | ${reasons.join('; ')} |`);
}
console.log(`\n${failures} scored scenario run(s) failing`);
