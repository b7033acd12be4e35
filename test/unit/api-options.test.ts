// The API's options, decided without starting anything: which mode, what each option becomes,
// the package.json defaults under the caller's options, and the one-line UsageError for each
// mistake. Then the Markdown summary's escaping (the Action's step summary).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type CheckOptions } from '../../src/api/options.js';
import { makeDiagnosis } from '../../src/core/diagnosis.js';
import { UsageError } from '../../src/core/errors.js';
import { inertDiagnosis } from '../../src/core/sanitize.js';
import { renderMarkdownSummary } from '../../src/report/markdown.js';

const withPackage = (manifest: object): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rd-unit-pkg-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
};

describe('resolveOptions', () => {
  it('a pid is attach mode, a command is run mode; durations as text or milliseconds', () => {
    const attach = resolveOptions({ pid: 42, mercy: 2500, signal: 'int' });
    expect(attach.mode).toBe('attach');
    expect(attach.request).toMatchObject({ pid: 42, mercyMs: 2500, signal: { name: 'SIGINT' }, useInspector: true, kill: false, timeline: true });
    const run = resolveOptions({ command: ['node', 'a.js'], mercy: '3s', ready: 'port:8080', exercise: 'http://127.0.0.1:8080/', load: 20, packageDefaults: false });
    expect(run.mode).toBe('run');
    expect(run.request).toMatchObject({ command: ['node', 'a.js'], mercyMs: 3000, ready: { kind: 'port', port: 8080 }, readyTimeoutMs: 60_000, loadRate: 20, creationStacks: true });
  });

  it('every mistake is a UsageError that names the option', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ command: ['node'], pid: 3 }, /either a command .* or a pid/],
      [{ pid: 0 }, /pid: "0" is not a process id/],
      [{ pid: 1, mercy: 'soon' }, /invalid mercy "soon"/],
      [{ pid: 1, mercy: Infinity }, /invalid mercy Infinity/],
      [{ pid: 1, signal: 15 }, /signal must be a string/],
      [{ command: 'node a.js', packageDefaults: false }, /command must be an array of strings/],
      [{ command: [], packageDefaults: false }, /no command to run/],
      [{ command: ['node'], load: 10, packageDefaults: false }, /load needs exercise/],
      [{ command: ['node'], exercise: 'ftp://x', packageDefaults: false }, /invalid --exercise "ftp:\/\/x"/],
      [{ command: ['node'], load: 5000, exercise: 'http://x/', packageDefaults: false }, /invalid --load "5000"/],
      [{ command: ['node'], env: { PORT: 80 }, packageDefaults: false }, /env must be an object of strings/],
      [{ command: ['node'], timeline: 'no', packageDefaults: false }, /timeline must be true or false/],
      [{ command: ['node'], cwd: '/nonexistent/dir' }, /cwd "\/nonexistent\/dir" is not a directory/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of cases) {
      expect(() => resolveOptions(options as CheckOptions), JSON.stringify(options)).toThrow(UsageError);
      expect(() => resolveOptions(options as CheckOptions)).toThrow(message);
    }
  });

  it('package.json\'s reloadDoctor key gives run\'s defaults; what the caller gives wins; a string command is split into words', () => {
    const cwd = withPackage({ name: 'svc', reloadDoctor: { command: 'node  server.js --port 0', mercy: '20s', ready: 'log:^up', timeline: false } });
    const fromPackage = resolveOptions({ cwd } as CheckOptions);
    expect(fromPackage.request).toMatchObject({ command: ['node', 'server.js', '--port', '0'], mercyMs: 20_000, ready: { kind: 'log' }, timeline: false, cwd });
    const overridden = resolveOptions({ cwd, command: ['node', 'other.js'], mercy: '2s', timeline: undefined });
    expect(overridden.request).toMatchObject({ command: ['node', 'other.js'], mercyMs: 2000, timeline: false });
    expect(resolveOptions({ cwd, command: ['x'], packageDefaults: false }).request).toMatchObject({ mercyMs: 10_000, timeline: true });
  });

  it('a bad reloadDoctor key is refused in one line, never half-used', () => {
    expect(() => resolveOptions({ cwd: withPackage({ reloadDoctor: { comand: ['x'] } }) } as CheckOptions)).toThrow(/unknown keys: comand \(known: command, mercy/);
    expect(() => resolveOptions({ cwd: withPackage({ reloadDoctor: ['x'] }) } as CheckOptions)).toThrow(/must be an object of run's options/);
    expect(() => resolveOptions({ cwd: withPackage({ reloadDoctor: { command: ['x'], mercy: 'later' } }) } as CheckOptions)).toThrow(/invalid mercy "later"/);
    const broken = mkdtempSync(join(tmpdir(), 'rd-unit-pkg-'));
    writeFileSync(join(broken, 'package.json'), '{ not json');
    expect(() => resolveOptions({ cwd: broken } as CheckOptions)).toThrow(/cannot read the reloadDoctor defaults in .*package\.json/);
    // No package.json at all: no defaults, and no command is the usual one-line error.
    expect(() => resolveOptions({ cwd: mkdtempSync(join(tmpdir(), 'rd-unit-empty-')) } as CheckOptions)).toThrow(/no command to run/);
  });
});

describe('the Markdown summary', () => {
  const hostile = makeDiagnosis({
    mode: 'run', target: { pid: 7, runtime: { kind: 'node', version: 'v22.1.0' }, command: 'node `x` | y', reachedBy: 'spawn' },
    verdict: { outcome: 'still-alive', signal: 'SIGTERM', mercyMs: 3000, deadlineMs: 3000, busy: false, samples: [], killed: true },
    findings: [{
      id: 'generic/timer', title: 'Timeout <img src=x onerror=alert(1)> | [link](http://evil)', severity: 'blocks', why: 'line one\nline two', fix: '**clearInterval**(t)',
      location: { url: '/work/app/src/a b.js', file: 'src/a b.js', line: 12, column: 3, internal: false }, handles: [],
    }],
    warnings: ['<script>alert(1)</script>'], exitCode: 1,
  });

  it('escapes every string from the target: no HTML, no link, no table cell of its own; links only our own', () => {
    const markdown = renderMarkdownSummary(inertDiagnosis(hostile), { workspace: '/work/app', blobUrl: 'https://github.com/o/r/blob/abc' });
    expect(markdown).not.toMatch(/<img|<script|\]\(http:\/\/evil/);
    expect(markdown).toContain('Timeout &lt;img src=x onerror=alert\\(1\\)&gt; \\| \\[link\\]\\(http://evil\\)');
    expect(markdown).toContain('[src/a b\\.js:12](https://github.com/o/r/blob/abc/src/a%20b.js#L12)');
    expect(markdown).toContain('\\*\\*clearInterval\\*\\*\\(t\\)');
    expect(markdown).toContain('`node ˋxˋ \\| y` · pid 7');
    expect(markdown).toContain('> ⚠ &lt;script&gt;alert\\(1\\)&lt;/script&gt;');
    // Every table row has its four cells and no more.
    for (const row of markdown.split('\n').filter((line) => line.startsWith('| '))) expect(row.split(/(?<!\\)\|/).length).toBe(6);
  });

  it('without a place on GitHub the line is shown, not linked; a run with no verdict says why', () => {
    expect(renderMarkdownSummary(hostile, {})).toContain('| src/a b\\.js:12 |');
    const unfinished = makeDiagnosis({ mode: 'run', target: { pid: 0, runtime: { kind: 'other' }, command: 'node a.js', reachedBy: 'spawn' }, findings: [], warnings: [], exitCode: 4, unfinished: 'the service exited (code 1) before it was ready' });
    expect(renderMarkdownSummary(unfinished, {})).toMatch(/^### reload-doctor: ✖ no verdict\n\n`node a\.js`: the service exited \\\(code 1\\\) before it was ready/);
  });
});
