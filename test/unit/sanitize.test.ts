// The one sanitiser every string from a target passes on its way out, and the bounded line
// splitter for a service's output.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { makeDiagnosis } from '../../src/core/diagnosis.js';
import { inert, inertDiagnosis, noWorkflowCommands, xmlChars } from '../../src/core/sanitize.js';
import type { Diagnosis } from '../../src/core/diagnosis.js';
import { MAX_LINE_CHARS, splitLines } from '../../src/reach/spawn.js';

describe('inert', () => {
  it('shows control characters, C1 codes and bidi controls escaped', () => {
    expect(inert('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(inert('title\u001b]0;x\u0007')).toBe('title\\x1b]0;x\\x07');
    expect(inert('one\ntwo\r\tthree')).toBe('one\\ntwo\\r\\tthree');
    expect(inert('\u009b31m\u007f')).toBe('\\x9b31m\\x7f');
    expect(inert('abc\u202edef\u2066')).toBe('abc\\u202edef\\u2066');
    expect(inert('plain é 漢 😀 :: % <x>')).toBe('plain é 漢 😀 :: % <x>');
  });

  it('reaches every string of a diagnosis, nested anywhere', () => {
    const diagnosis = makeDiagnosis({
      mode: 'handles', target: { pid: 1, runtime: { kind: 'other' }, command: 'evil\n::error::x', reachedBy: 'attach' },
      findings: [{ id: 'generic/x', title: '\u001b[2J', severity: 'blocks', why: 'w', fix: 'f', handles: [{ kind: 'other', blocking: true, label: 'l\r', details: { path: '\u001b]0;t\u0007' } }] }],
      warnings: ['\u0007'], exitCode: 0,
    });
    const safe = inertDiagnosis(diagnosis);
    const strings: string[] = [];
    JSON.stringify(safe, (_key, value) => { if (typeof value === 'string') strings.push(value); return value; });
    expect(strings.filter((text) => /[\u0000-\u001f]/.test(text))).toEqual([]);
    expect(safe.target.command).toBe('evil\\n::error::x');
    expect(safe.findings[0]!.handles[0]!.details.path).toBe('\\x1b]0;t\\x07');
    expect(safe.target.pid).toBe(1);
  });

  it('copies only what holds a string that changes, and keeps what was shared shared', () => {
    const hostile = { label: 'a\u0007', details: { port: 1 } };
    const clean = { label: 'ok', details: { port: 2 } };
    const diagnosis = { snapshot: { handles: [hostile, clean] }, findings: [{ handles: [hostile, clean] }] } as unknown as Diagnosis;
    const safe = inertDiagnosis(diagnosis) as unknown as typeof diagnosis & { snapshot: { handles: Array<typeof hostile> }; findings: Array<{ handles: Array<typeof hostile> }> };
    expect(safe.snapshot.handles[0]!.label).toBe('a\\x07');
    expect(safe.findings[0]!.handles[0]).toBe(safe.snapshot.handles[0]); // one copy, in both places
    expect(safe.snapshot.handles[0]!.details).toBe(hostile.details); // nothing in it changed: the original
    expect(safe.snapshot.handles[1]).toBe(clean);
    expect(hostile.label).toBe('a\u0007'); // the original is untouched
  });
});

describe('XML and CI logs', () => {
  it('keeps only characters XML 1.0 allows', () => {
    expect(xmlChars('ok\t\n\r é \ufffe\uffff\ud800x\u{1f600}')).toBe('ok\t\n\r é \ufffd\ufffd\ufffdx\u{1f600}');
  });

  it('no line of a log can start a workflow command', () => {
    expect(noWorkflowCommands('fine\n::error::x\n  ::warning::y')).toBe('fine\n ::error::x\n   ::warning::y');
  });
});

describe('splitLines', () => {
  it('gives whole lines, cuts one longer than the cap, and holds no more than the cap', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    splitLines(stream, (line) => lines.push(line));
    stream.write('first\r\nsec');
    stream.write('ond\n');
    for (let i = 0; i < 5; i++) stream.write('x'.repeat(MAX_LINE_CHARS));
    stream.write('\nafter\n');
    stream.end('tail');
    await new Promise((resolve) => stream.on('end', resolve));
    expect(lines[0]).toBe('first');
    expect(lines[1]).toBe('second');
    expect(lines[2]).toBe(`${'x'.repeat(MAX_LINE_CHARS)}… (line cut at ${MAX_LINE_CHARS} characters)`);
    expect(lines.slice(3)).toEqual(['after', 'tail']);
  });
});
