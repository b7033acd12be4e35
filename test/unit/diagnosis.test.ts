// A diagnosis is made once, at the end of a mode, and no stage may change it afterwards.
import { describe, expect, it } from 'vitest';
import { makeDiagnosis } from '../../src/core/diagnosis.js';
import { decideVerdict } from '../../src/probe/verdict.js';

describe('makeDiagnosis', () => {
  it('freezes the diagnosis and its parts: a late change throws instead of going unseen', () => {
    const verdict = decideVerdict({ signal: 'SIGTERM', mercyMs: 1000, deadlineMs: 1000, samples: [] });
    const diagnosis = makeDiagnosis({
      mode: 'probe', target: { pid: 42, runtime: { kind: 'node' }, command: 'node app.js', reachedBy: 'attach' },
      verdict, findings: [], warnings: ['w'], exitCode: 1,
    });
    expect(() => { (diagnosis as { exitCode: number }).exitCode = 0; }).toThrow(TypeError);
    expect(() => { diagnosis.verdict!.killed = true; }).toThrow(TypeError);
    expect(() => { (diagnosis.warnings as string[]).push('late'); }).toThrow(TypeError);
  });
});
