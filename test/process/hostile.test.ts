// Hostile input and faults, in both modes: strings from the target that would act on a
// terminal, a CI log or an XML reader; files a target names that are FIFOs or devices; output
// without end; processes that exit, stop or block at the worst moment; bad options. Each case
// gives the verdict it earned, stays inert, ends in bounded time and memory.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../src/reach/proc.js';
import { CLI, ROOT, blamedLine, freePort, listeningPorts, processesMatching, runCli, startFixture, startProcess, stop } from './helpers.js';
import { RUNTIME_PATHS, needs } from './needs.js';

const node = process.execPath;
/** reload-doctor's memory must stay bounded whatever the target does (the budget). */
const PEAK_BUDGET_MB = 200;

// ---- hostile strings -------------------------------------------------------------------------

/** A seeded generator: the same 200 strings on every run, so a failure can be replayed. */
function hostileStrings(count: number, seed = 20261128): string[] {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pieces = [
    '\u001b[2J', '\u001b]0;pwned\u0007', '\u001b[31mred', '\u009b31m', '\r', '\n', '\n::error file=evil.js,line=1::gotcha',
    '::warning::x', '%0A', '%25', '\ufffe', '\uffff', '\ud800', '\u0000', '\u0007', '\u007f', '\u202e', '\u2066', '<![CDATA[', ']]>',
    '&amp;', '<x>', '"', "'", ',', ':', 'é', '漢', '😀', ' ', '\t', 'x'.repeat(300),
  ];
  return Array.from({ length: count }, (_, i) => {
    let text = `h${i}`;
    const parts = 1 + Math.floor(random() * 6);
    for (let p = 0; p < parts; p++) text += pieces[Math.floor(random() * pieces.length)];
    return text;
  });
}

/** Bytes a terminal acts on: C0 (but newline), DEL, C1, bidi controls. Our own text has none. */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function expectInertText(text: string, what: string): void {
  const line = text.split('\n').find((l) => ACTIVE.test(l));
  expect(line, `${what}: a line with a raw control character`).toBeUndefined();
}

/** Each "::" line is one of our annotations, whole; no other line starts a workflow command. */
function expectInertGithub(output: string): void {
  for (const line of output.split('\n')) {
    if (!line.startsWith('::')) continue;
    expect(line).toMatch(/^::(error|warning|notice)( [^:]*)?::[^\r]*$/);
    expect(line).not.toMatch(/::(error|warning|notice)[^\n]*::[^\n]*::(error|warning|notice)/);
  }
  const text = output.split('\n').filter((l) => !/^::(error|warning|notice)[ :]/.test(l)).join('\n');
  expect(text).not.toMatch(/^\s*::/m);
  expectInertText(output, 'github');
}

function expectWellFormedXml(file: string): void {
  // Python's expat: a strict XML 1.0 parser.
  execFileSync('/usr/bin/python3', ['-c', 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])', file]);
}

describe('injection: every string from the target is inert in every format', () => {
  it('200 hostile strings as process title, argv, socket paths, child argv and callback names: text, JSON, GitHub, JUnit', async (ctx) => {
    needs(ctx, 'python');
    const strings = hostileStrings(200);
    const dir = mkdtempSync(join(tmpdir(), 'rd-fuzz-'));
    const file = join(dir, 'strings.json');
    writeFileSync(file, JSON.stringify(strings));
    const argv = strings.slice(1, 20).map((s) => s.replace(/\u0000/g, ''));

    const app = await startFixture('hostile-names.cjs', { HOSTILE_FILE: file }, argv);
    const text = await runCli(['handles', String(app.pid)], { measurePeak: true });
    expect(text.code).toBe(0);
    expect(text.peakRssMb).toBeLessThan(PEAK_BUDGET_MB);
    expect(text.stdout).toMatch(/\\x1b\[2J|\\x1b\]0;pwned/); // shown, escaped
    expectInertText(text.stdout, 'text');
    const json = await runCli(['handles', String(app.pid), '--json']);
    expect(json.json, `exit ${json.code}: ${json.stderr}\n${json.stdout.slice(0, 400)}`).toBeDefined();
    expect(json.json.findings.length).toBeGreaterThan(0);
    // JSON carries them as they are (escaped by JSON itself).
    expect(JSON.stringify(json.json)).toContain('\\u001b[2J');
    await stop(app.child);

    const report = join(dir, 'report.xml');
    const command = ['--', node, 'fixtures/hostile-names.cjs', ...argv];
    const github = await runCli(['run', '--mercy', '1s', '--ready', 'log:^READY', '--format', 'github', ...command], { env: { HOSTILE_FILE: file }, measurePeak: true });
    expect(github.code).toBe(1);
    expect(github.peakRssMb).toBeLessThan(PEAK_BUDGET_MB);
    console.log(`200 hostile strings: peak RSS ${text.peakRssMb!.toFixed(0)} MB (handles), ${github.peakRssMb!.toFixed(0)} MB (run)`);
    expectInertGithub(github.stdout);
    expectInertText(github.stderr.replace(/^\[service\] /gm, ''), 'service output');
    const junit = await runCli(['run', '--mercy', '1s', '--ready', 'log:^READY', '--format', 'junit', '--report-file', report, ...command], { env: { HOSTILE_FILE: file } });
    expect(junit.code).toBe(1);
    expectWellFormedXml(report);
    expect(readFileSync(report, 'utf8')).not.toMatch(/[\ufffe\uffff]/);
  });
});

describe('hostile files and processes', () => {
  it('a process whose executable is uwsgi, with --ini a FIFO or /dev/zero: read as nothing, in bounded time and memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-uwsgi-'));
    const fifo = join(dir, 'uwsgi.ini');
    execFileSync('mkfifo', [fifo]);
    const fake = join(dir, 'uwsgi');
    copyFileSync('/bin/sh', fake);
    chmodSync(fake, 0o755);
    for (const ini of [fifo, '/dev/zero']) {
      // A "master" with a child, so its workers (and its options) are looked at.
      const master = await startProcess([fake, '-c', 'trap "" TERM; sleep 300 & wait', '--ini', ini], {}, 'ignore', { ready: false });
      const result = await runCli([String(master.pid), '--mercy', '1s', '--json'], { measurePeak: true, timeoutMs: 20_000 });
      expect(result.code, ini).toBe(1);
      expect(result.json.tree.kind, ini).toBe('uwsgi');
      expect(result.peakRssMb, ini).toBeLessThan(PEAK_BUDGET_MB);
      console.log(`uwsgi --ini ${ini}: peak RSS ${result.peakRssMb!.toFixed(0)} MB`);
      await stop(master.child);
    }
  });

  it("a package.json that is a FIFO: the package is named without its version, and `handles` does not hang", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-fifo-pkg-'));
    const pkg = join(dir, 'node_modules', 'fifo-pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"fifo-pkg","version":"1.0.0"}\n');
    writeFileSync(join(pkg, 'index.js'), 'module.exports = () => setInterval(function tick() {}, 1000);\n');
    writeFileSync(join(dir, 'app.js'), "require('fifo-pkg')();\nconsole.log('READY {}');\n");
    const app = await startProcess([node, join(dir, 'app.js')]);
    // Loaded: now its package.json becomes a FIFO nobody writes to.
    rmSync(join(pkg, 'package.json'));
    execFileSync('mkfifo', [join(pkg, 'package.json')]);
    const result = await runCli(['handles', String(app.pid), '--json'], { timeoutMs: 20_000, measurePeak: true });
    expect(result.code).toBe(0);
    expect(result.peakRssMb).toBeLessThan(PEAK_BUDGET_MB);
    console.log(`package.json a FIFO: peak RSS ${result.peakRssMb!.toFixed(0)} MB`);
    const finding = result.json.findings.find((f: any) => f.handles.some((h: any) => h.kind === 'timer'));
    expect(finding.handles[0].owner.package).toEqual({ name: 'fifo-pkg' });
    expect(listeningPorts(app.pid)).toEqual([]);
  });

  it('run: 100 MB of output without a newline is cut, not held (bounded memory)', async () => {
    const result = await runCli(['run', '--mercy', '5s', '--ready', 'log:^READY', '--', node, 'fixtures/long-line.cjs'], { env: { LONG_LINE_MB: '100' }, measurePeak: true, timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^\[service\] x+… \(line cut at 65536 characters\)$/m);
    expect(result.peakRssMb).toBeLessThan(PEAK_BUDGET_MB);
    console.log(`100 MB line: peak RSS ${result.peakRssMb!.toFixed(0)} MB`);
  });
});

describe('the verdict it earned, under faults', () => {
  it('run: ready before the app ran its first line (delay:1ms, a port someone else holds) still signals the app itself', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    try {
      for (const ready of ['delay:1ms', `port:${(holder.address() as net.AddressInfo).port}`]) {
        const result = await runCli(['run', '--mercy', '5s', '--ready', ready, '--format', 'json', '--', node, 'fixtures/clean-exit.cjs']);
        expect(result.code, ready).toBe(0);
        expect(result.json.verdict.outcome, ready).toBe('exited');
        expect(result.json.target.runtime.kind, ready).toBe('node');
      }
    } finally {
      holder.close();
    }
  });

  it('Ctrl-C or SIGTERM to run --report-file during the mercy: the report says it was interrupted, never "exited"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-interrupt-'));
    for (const [i, signal] of (['SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM'] as const).entries()) {
      const report = join(dir, `report-${i}.json`);
      const cli = spawn(node, [CLI, 'run', '--mercy', '30s', '--ready', 'log:^READY', '--format', 'json', '--report-file', report, '--', '/usr/bin/python3', 'fixtures/python-term-ignorer.py'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      cli.stderr.on('data', (chunk) => { err += chunk; });
      for (let t = 0; t < 200 && !/SIGTERM: ignoring it/.test(err); t++) await sleep(25);
      await sleep(100 * i);
      cli.kill(signal);
      const code = await new Promise((resolve) => cli.once('exit', resolve));
      expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
      const doc = JSON.parse(readFileSync(report, 'utf8'));
      expect(doc).toMatchObject({ verdict: null, exitCode: code, unfinished: expect.stringMatching(new RegExp(`^interrupted by ${signal} before the verdict`)) });
    }
  });

  it('run: a daemon that left the service\'s tree and session is found, named and killed', async () => {
    const result = await runCli(['run', '--mercy', '5s', '--format', 'json', '--', node, 'fixtures/daemon.cjs']);
    expect(result.code).toBe(0);
    expect(result.json.verdict.outcome).toBe('exited');
    const daemon = result.json.run.leftBehind.find((p: any) => p.command === 'sleep 300');
    expect(daemon, JSON.stringify(result.json.run)).toBeDefined();
    expect(result.json.run.killedPids).toContain(daemon.pid);
    expect(isAlive(daemon.pid)).toBe(false);
    expect(result.stdout).toBe(result.stdout); // the JSON was printed whole
  });

  it('a target that exits during the snapshot, just past the mercy, is "exited late" with its time, not "still alive"', async () => {
    // It exits 30 ms after the deadline's window opens: inside the snapshot of its 6,000 handles.
    const app = await startFixture('many-handles.cjs', { EXIT_IN_WINDOW_MS: '30' }, ['6000']);
    const result = await runCli([String(app.pid), '--mercy', '1s', '--json']);
    expect(result.code).toBe(1);
    expect(result.json.verdict.outcome).toBe('exited-late');
    expect(result.json.verdict.exitedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(result.json.verdict.exitedAfterMs).toBeLessThan(5000);
    expect(JSON.stringify(result.json)).not.toMatch(/blocked in a synchronous call/);
  });

  it('a target stopped during the mercy: said so, with no culprit of our own, in bounded time', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    const cli = spawn(node, [CLI, String(app.pid), '--mercy', '2s', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout.on('data', (chunk) => { out += chunk; });
    await sleep(1000);
    process.kill(app.pid, 'SIGSTOP');
    const started = Date.now();
    try {
      expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(1);
    } finally {
      process.kill(app.pid, 'SIGCONT');
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    const doc = JSON.parse(out);
    expect(doc.warnings.join('\n')).toMatch(/is stopped/);
    expect(doc.snapshot.source).toBe('proc');
    // Our own inspector's sockets are never the target's culprits.
    expect(doc.findings).toEqual([]);
  });

  it('a SIGTERM handler blocked reading a FIFO: /proc shows it blocked, and nothing of ours is blamed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-fifo-'));
    const fifo = join(dir, 'never-written');
    execFileSync('mkfifo', [fifo]);
    const app = await startFixture('blocked-on-fifo.cjs', { FIFO: fifo });
    const result = await runCli([String(app.pid), '--mercy', '1500ms', '--json', '--kill'], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    expect(result.json.snapshot.source).toBe('proc');
    expect(result.json.snapshot.notes.join('\n')).toMatch(/blocked in a synchronous call/);
    expect(result.json.findings.flatMap((f: any) => f.handles).filter((h: any) => /TCP listening/.test(h.label))).toEqual([]);
  });

  it('run under Deno: read through /proc, and nothing of ours is blamed', async (ctx) => {
    needs(ctx, 'deno');
    const result = await runCli(['run', '--mercy', '1s', '--ready', 'log:^READY', '--format', 'json', '--', RUNTIME_PATHS.deno, 'run', '-A', 'fixtures/forgotten-interval.mjs']);
    expect(result.json.target.runtime).toMatchObject({ kind: 'other', name: 'Deno' });
    expect(result.json.snapshot?.source ?? 'proc').toBe('proc');
    expect(JSON.stringify(result.json.findings)).not.toMatch(/9229|inspector/);
  });

  it('a connection accepted by a process seen through /proc is incoming, not "an open outgoing connection"', async (ctx) => {
    needs(ctx, 'python');
    const app = await startFixture('python-term-ignorer.py');
    const port = listeningPorts(app.pid)[0]!;
    const client = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const result = await runCli(['handles', String(app.pid), '--json']);
      const incoming = result.json.findings.find((f: any) => f.id === 'generic/incoming');
      expect(incoming.why).toMatch(/incoming connection/);
      expect(incoming.handles[0].label).toMatch(/← 127\.0\.0\.1:\d+ ESTABLISHED \(incoming\)$/);
      expect(result.json.findings.some((f: any) => f.id === 'generic/client')).toBe(false);
    } finally {
      client.destroy();
    }
  });

  it('a plain net.Server connection is not called an upgraded WebSocket', async () => {
    const app = await startFixture('net-connection.cjs');
    const client = net.connect(app.ready.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const result = await runCli([String(app.pid), '--mercy', '1500ms', '--json']);
      expect(result.code).toBe(1);
      expect(result.json.findings.map((f: any) => f.id)).toEqual(['generic/incoming']);
      expect(result.json.findings[0].fix).toMatch(/destroy\(\)/);
      expect(result.json.findings[0].location).toMatchObject({ file: 'fixtures/net-connection.cjs', line: blamedLine('net-connection.cjs', 'server') });
    } finally {
      client.destroy();
    }
  });

  it('attach runs end as soon as their report is out', async () => {
    const app = await startFixture('forgotten-interval.mjs');
    for (const args of [['handles', String(app.pid)], [String(app.pid), '--mercy', '1s']]) {
      const result = await runCli(args);
      expect(result.lingerMs, args.join(' ')).toBeLessThan(1000);
    }
  });

  it('a target started with --inspect=127.0.0.1:0: its own port gets no request; said why, and /proc instead', async () => {
    const app = await startProcess([node, '--inspect=127.0.0.1:0', 'fixtures/request-logger.cjs']);
    const result = await runCli(['handles', String(app.pid), '--json']);
    expect(result.code).toBe(3);
    expect(result.json.warnings.join('\n')).toMatch(/runs its inspector on a port its command line does not name/);
    await sleep(200);
    expect(app.output()).not.toMatch(/REQUEST/);
  });
});

describe('input, checked before anything starts', () => {
  it.each([
    [['run', '--', ''], /no command to run/],
    [['run', '--ready-timeout', '40000m', '--', node, 'x.js'], /invalid --ready-timeout "40000m": use a duration from 1ms to 24h/],
    [['run', '--mercy', '0.4ms', '--', node, 'x.js'], /invalid mercy "0\.4ms"/],
    [['run', '--ready', 'port:0x50', '--', node, 'x.js'], /port must be a decimal number from 1 to 65535/],
    [['run', '--ready', 'port: 80', '--', node, 'x.js'], /port must be a decimal number/],
    [['run', '--report-file', '/nonexistent-dir/report.xml', '--', node, 'fixtures/clean-exit.cjs'], /cannot write the report file "\/nonexistent-dir\/report\.xml"/],
  ])('%j → exit 2, one line, nothing started', async (args, pattern) => {
    const marker = `--rd-input=${Math.random()}`;
    const result = await runCli([...args, marker]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(processesMatching(marker)).toEqual([]);
  });

  it('an unwritable report file is refused before the service starts (not found out after the run)', async () => {
    const port = await freePort();
    const result = await runCli(['run', '--report-file', tmpdir(), '--', node, 'fixtures/graceful-server.cjs'], { env: { PORT: String(port) } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot write the report file/);
    expect(result.stderr).not.toMatch(/\[service\]/);
  });
});
