// The package as a user gets it: `npm pack` (its prepack builds), the tarball installed in an
// empty project without dev dependencies, then the CLI through npx, the API from a script, the
// Vitest matcher in a real Vitest run, the types under `tsc --strict`, and the GitHub Action's
// steps run as the runner runs them (its environment variables set, inputs as env).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, blamedLine } from './helpers.js';

// npm install needs the registry (for the package's own dependencies): without it, skipped, saying so.
const skip = spawnSync('npm', ['ping'], { timeout: 20_000, stdio: 'ignore' }).status !== 0;
if (skip) console.warn('the package tests will be skipped: the npm registry is not reachable (npm ping failed)');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const node = process.execPath;
const leakyLine = blamedLine('forgotten-interval.mjs', 'interval');

interface Result { code: number | null; stdout: string; stderr: string }

function exec(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = process.env, timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolveResult({ code, stdout, stderr }); });
  });
}

/** The same two tests for either runner: a clean service that must pass, a leaky one that must fail. */
function matcherTests(runner: string, matchers: string): string {
  return `
    import { expect, it } from '${runner}';
    import { reloadDoctorMatchers } from '${matchers}';
    expect.extend(reloadDoctorMatchers);
    it('clean', async () => {
      await expect({ command: [process.execPath, 'clean.cjs'] }).toShutDownWithin('5s');
    }, 60_000);
    it('leaky', async () => {
      await expect({ command: [process.execPath, 'server.mjs'], ready: 'log:^READY' }).toShutDownWithin('1500ms');
    }, 60_000);
  `;
}

/** Vitest and Jest write the same JSON report shape: the clean test passed, the leaky one failed with its culprit's line and fix. */
function expectMatcherVerdicts(result: Result, report: string): void {
  expect(result.code, result.stderr).toBe(1);
  const cases = JSON.parse(readFileSync(report, 'utf8')).testResults[0].assertionResults;
  const byName = Object.fromEntries(cases.map((c: { title: string }) => [c.title, c]));
  expect(byName.clean.status).toBe('passed');
  expect(byName.leaky.status).toBe('failed');
  const message: string = byName.leaky.failureMessages.join('\n');
  expect(message).toContain(`expected ${node} server.mjs to shut down within 1500ms`);
  expect(message).toContain(`created at <anonymous> (server.mjs:${leakyLine}:`);
  expect(message).toContain('fix  clearInterval(timer)');
}

let tarball = '';
let packed: { size: number; unpackedSize: number; files: Array<{ path: string }> };
let project = '';

describe.skipIf(skip)('the npm package', () => {
  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'rd-pack-'));
    // The real pack: its prepack cleans dist/ and builds it again.
    const pack = await exec('npm', ['pack', '--json', '--pack-destination', out], ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
    tarball = join(out, `reload-doctor-${VERSION}.tgz`);
    console.log(`packed: ${(packed.size / 1024).toFixed(0)} kB (${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.files.length} files)`);

    project = mkdtempSync(join(tmpdir(), 'rd-consumer-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'rd-consumer', private: true, type: 'module' }));
    const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], project);
    expect(install.code, install.stderr).toBe(0);
    copyFileSync(join(ROOT, 'fixtures/forgotten-interval.mjs'), join(project, 'server.mjs'));
    copyFileSync(join(ROOT, 'fixtures/clean-exit.cjs'), join(project, 'clean.cjs'));
  }, 240_000);

  it('ships only what users need, well under 500 kB', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths.filter((path) => !/^(dist\/.+\.(js|d\.ts)|docs\/[\w-]+\.md|README\.md|LICENSE|package\.json)$/.test(path))).toEqual([]);
    for (const entry of ['dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/matchers/vitest.js', 'dist/matchers/jest.js', 'dist/guardian.js', 'LICENSE']) expect(paths).toContain(entry);
    expect(packed.size).toBeLessThan(500 * 1024);
  });

  it('installs without dev dependencies: npx reload-doctor --version, and a real diagnosis through npx reload-doctor run', async () => {
    expect(existsSync(join(project, 'node_modules/vitest'))).toBe(false);
    const version = await exec('npx', ['--no-install', 'reload-doctor', '--version'], project);
    expect(version.stdout.trim()).toBe(VERSION);
    const run = await exec('npx', ['--no-install', 'reload-doctor', 'run', '--format', 'json', '--mercy', '1500ms', '--ready', 'log:^READY', '--', node, 'server.mjs'], project);
    expect(run.code, run.stderr).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.findings.map((f: { location?: { file: string; line: number } }) => f.location && `${f.location.file}:${f.location.line}`)).toContain(`server.mjs:${leakyLine}`);
  });

  it('the API from a script: import { checkShutdown } from "reload-doctor"', async () => {
    writeFileSync(join(project, 'api.mjs'), `
      import { checkShutdown, UsageError } from 'reload-doctor';
      const doc = await checkShutdown({ command: [process.execPath, 'server.mjs'], mercy: '1500ms', ready: 'log:^READY' });
      const usage = await checkShutdown({ pid: 1, mercy: 'soon' }).catch((error) => error);
      console.log(JSON.stringify({ schema: doc.schema, exitCode: doc.exitCode, lines: doc.findings.map((f) => f.location?.line), usage: usage instanceof UsageError && usage.exitCode }));
    `);
    const result = await exec(node, ['api.mjs'], project);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ schema: 'reload-doctor/diagnosis', exitCode: 1, lines: expect.arrayContaining([leakyLine]), usage: 2 });
  });

  it('the Vitest matcher in a real Vitest run: the clean service passes, the leaky one fails with its culprit and line', async () => {
    // The project's Vitest is this repository's (a symlink): what is tested is reload-doctor/vitest from the tarball.
    symlinkSync(join(ROOT, 'node_modules/vitest'), join(project, 'node_modules/vitest'));
    writeFileSync(join(project, 'shutdown.test.mjs'), matcherTests('vitest', 'reload-doctor/vitest'));
    const report = join(project, 'vitest-report.json');
    const result = await exec(node, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'shutdown.test.mjs', '--reporter=json', `--outputFile=${report}`], project);
    expectMatcherVerdicts(result, report);
  });

  it('the types: the API, the document and the matcher check under tsc --strict', () => {
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    if (!existsSync(join(project, 'node_modules/@types/node'))) symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['typed.ts'] }));
    writeFileSync(join(project, 'typed.ts'), `
      import { checkShutdown, AbortError, type ShutdownDocument, type FindingDocument } from 'reload-doctor';
      import { expect } from 'vitest';
      import 'reload-doctor/vitest';
      export async function check(): Promise<number> {
        const doc: ShutdownDocument = await checkShutdown({ command: ['node', 'server.mjs'], mercy: '3s', abortSignal: AbortSignal.timeout(60_000) });
        const first: FindingDocument | undefined = doc.findings[0];
        await expect({ command: ['node', 'server.mjs'] }).toShutDownWithin('3s');
        // @ts-expect-error the mercy is a duration, not a boolean
        await checkShutdown({ pid: 1, mercy: true });
        return doc.exitCode + (first?.location?.line ?? 0) + new AbortError().exitCode;
      }
    `);
    const tsc = spawnSync(node, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('the Jest matcher in a real Jest run (ES modules): the same verdicts, the culprit\'s line kept in the message', async () => {
    const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--no-save', 'jest@30'], project, process.env, 180_000);
    expect(install.code, install.stderr).toBe(0);
    writeFileSync(join(project, 'shutdown.jest.mjs'), matcherTests('@jest/globals', 'reload-doctor/jest'));
    const report = join(project, 'jest-report.json');
    const result = await exec(node, ['--experimental-vm-modules', join(project, 'node_modules/jest/bin/jest.js'), '--testMatch', '**/shutdown.jest.mjs', '--json', `--outputFile=${report}`], project);
    expectMatcherVerdicts(result, report);
  }, 240_000);

  describe('the GitHub Action (action.yml), its steps run as the runner runs them', () => {
    /** Runs the composite action's steps in order, with the runner's variables; stops at the first failing one. */
    async function runAction(inputs: Record<string, string>): Promise<Result & { summary: string }> {
      const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8'));
      const values: Record<string, string> = {};
      for (const [name, input] of Object.entries<{ default?: string; required?: boolean }>(action.inputs)) {
        values[name] = inputs[name] ?? input.default ?? '';
        if (input.required && !values[name]) throw new Error(`input ${name} is required`);
      }
      const expand = (text: string) => text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => values[name] ?? '');
      const runnerTemp = mkdtempSync(join(tmpdir(), 'rd-runner-'));
      const summary = join(runnerTemp, 'step-summary.md');
      writeFileSync(summary, '');
      // The machine's own environment (its proxy and CA settings reach npm, as on a runner), then the runner's variables.
      const base = {
        ...process.env, CI: 'true', GITHUB_ACTIONS: 'true',
        GITHUB_ACTION_PATH: ROOT, GITHUB_WORKSPACE: project, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary,
        GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'a'.repeat(40),
      };
      let last: Result = { code: 0, stdout: '', stderr: '' };
      expect(action.runs.using).toBe('composite');
      for (const step of action.runs.steps as Array<{ shell: string; run: string; env?: Record<string, string>; 'working-directory'?: string }>) {
        expect(step.shell).toBe('bash');
        const env = { ...base, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, expand(String(value))])) };
        const cwd = resolve(project, expand(step['working-directory'] ?? '.'));
        // As the runner runs a bash step: bash --noprofile --norc -eo pipefail <script>.
        last = await exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], cwd, env);
        if (last.code !== 0) break;
      }
      return { ...last, summary: readFileSync(summary, 'utf8') };
    }

    it('a leaky service fails the step (exit 1): an annotation at its line, a summary with the culprit linked to it', async () => {
      const result = await runAction({ command: 'node "server.mjs"', mercy: '1500ms', ready: 'log:^READY', version: tarball });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`^::error title=Timeout every 1000 ms,file=server\\.mjs,line=${leakyLine},col=\\d+::`, 'm'));
      expect(result.summary).toMatch(/^### reload-doctor: ✖ still alive 1\\?\.5 s after SIGTERM/m);
      expect(result.summary).toContain(`[server\\.mjs:${leakyLine}](https://github.com/acme/shop/blob/${'a'.repeat(40)}/server.mjs#L${leakyLine})`);
      expect(result.summary).toContain('clearInterval');
    });

    it('a clean service passes (exit 0) and says so in the summary; a bad input fails with one annotation', async () => {
      const clean = await runAction({ command: 'node clean.cjs', mercy: '5s', version: tarball });
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.summary).toMatch(/^### reload-doctor: ✔ exited .* after SIGTERM/m);
      const bad = await runAction({ command: 'node "unclosed', version: tarball });
      expect(bad.code).toBe(2);
      expect(bad.stdout.trim()).toBe('::error title=reload-doctor::the command input has an unclosed double quote');
    });
  });
});
