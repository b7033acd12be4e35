// A rule tester in the style of ESLint's RuleTester: each case is a snapshot recorded from a
// real run (test/snapshots/, made by `npm run record-snapshots`) and what the rule must say
// of it. The whole engine runs, as in the CLI, so order conflicts between rules count.
//   valid:   snapshots on which the rule finds nothing (harmless twins, other families)
//   invalid: snapshots on which it finds exactly these findings
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding, Severity, Snapshot } from '../../src/core/types.js';
import { explain } from '../../src/explain/engine.js';
import type { Rule } from '../../src/explain/rule.js';

const SNAPSHOTS = new URL('../snapshots/', import.meta.url);
const FIXTURES = new URL('../../fixtures/', import.meta.url);
const cache = new Map<string, Snapshot>();

/** A recorded snapshot by name (the file test/snapshots/<name>.json). */
export function recorded(name: string): Snapshot {
  if (!cache.has(name)) cache.set(name, JSON.parse(readFileSync(new URL(`${name}.json`, SNAPSHOTS), 'utf8')).snapshot);
  return cache.get(name)!;
}

/** Where a fixture marks the line a report must point at: `// blame:<id>`. */
export function blamed(fixture: string, id: string): { file: string; lines: number[] } {
  const lines = readFileSync(new URL(fixture, FIXTURES), 'utf8').split('\n')
    .flatMap((line, index) => (line.includes(`blame:${id}`) ? [index + 1] : []));
  if (lines.length === 0) throw new Error(`no blame:${id} in fixtures/${fixture}`);
  return { file: `fixtures/${fixture}`, lines };
}

export interface ExpectedFinding {
  /** The finding's id when it is not the rule's own (a variant: "generic/interval"). */
  id?: string;
  title?: RegExp;
  severity?: Severity;
  /** The npm package named as its owner, or null for none. */
  package?: string | null;
  /** The app line it must point at. */
  location?: { file: string; lines: number[] };
  why?: RegExp;
  fix?: RegExp;
  /** How many handles it covers. */
  handles?: number;
}

export interface RuleCases {
  valid: string[];
  invalid: Array<{ snapshot: string; findings: ExpectedFinding[] }>;
}

const ofRule = (rule: Rule) => (finding: Finding) => finding.id === rule.id || finding.id.startsWith(`${rule.id}/`);

export function ruleCases(rule: Rule, cases: RuleCases): void {
  describe(`rule ${rule.id}`, () => {
    it('has valid and invalid cases', () => {
      expect(cases.valid.length).toBeGreaterThan(0);
      expect(cases.invalid.length).toBeGreaterThan(0);
    });
    for (const name of cases.valid) {
      it(`valid: ${name}`, () => {
        expect(explain(recorded(name)).filter(ofRule(rule)).map((f) => f.title)).toEqual([]);
      });
    }
    for (const { snapshot, findings: expected } of cases.invalid) {
      it(`invalid: ${snapshot}`, () => {
        const found = explain(recorded(snapshot)).filter(ofRule(rule));
        expect(found.map((f) => f.id)).toEqual(expected.map((e) => e.id ?? rule.id));
        expected.forEach((want, i) => expectFinding(found[i]!, want));
      });
    }
  });
}

function expectFinding(finding: Finding, want: ExpectedFinding): void {
  if (want.title) expect(finding.title).toMatch(want.title);
  if (want.severity) expect(finding.severity).toBe(want.severity);
  if (want.package !== undefined) expect(finding.owner?.name ?? null).toBe(want.package);
  if (want.why) expect(finding.why).toMatch(want.why);
  if (want.fix) expect(finding.fix).toMatch(want.fix);
  if (want.handles !== undefined) expect(finding.handles).toHaveLength(want.handles);
  if (want.location) {
    expect(finding.location?.file).toBe(want.location.file);
    expect(want.location.lines).toContain(finding.location?.line);
  }
}
