// Test helpers: spawn real fixture processes and the built CLI; nothing is mocked.
// Every fixture runs in its own process group and is killed (group and all) after each test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { isAlive, listeningTcp, readChildren, readCmdline, readStat } from '../../src/reach/proc.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}dist/cli.js`;

export interface Fixture {
  pid: number;
  child: ChildProcess;
  ready: any;
  output(): string;
}

const running = new Set<ChildProcess>();

afterEach(async () => {
  await Promise.all([...running].map(stop));
});

export async function stop(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode === null && child.signalCode === null) {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 5000); });
  } else {
    // The fixture died already: still sweep its group (children it left behind).
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* nothing left */ }
  }
}

/** Starts `fixtures/<file>` (with `node`, another Node binary if given) and waits for its READY line. */
export async function startFixture(file: string, env: Record<string, string> = {}, args: string[] = [], stdin: 'ignore' | 'pipe' = 'ignore', node = process.execPath): Promise<Fixture> {
  const command = file.endsWith('.py') ? '/usr/bin/python3' : node;
  return startProcess([command, `fixtures/${file}`, ...args], env, stdin);
}

/**
 * Starts any command in its own process group (killed after the test) and waits for its
 * READY line, or with `ready: false` only until it has started (a program that prints nothing).
 */
export async function startProcess(argv: string[], env: Record<string, string> = {}, stdin: 'ignore' | 'pipe' = 'ignore', options: { ready?: boolean } = {}): Promise<Fixture> {
  const [command, ...rest] = argv;
  const file = rest.join(' ');
  const child = spawn(command!, rest, {
    cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: [stdin, 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  if (options.ready === false) {
    await new Promise((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
    await sleep(200);
    return { pid: child.pid!, child, ready: {}, output: () => output };
  }
  const ready = await new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} not ready in 20 s:\n${output}`)), 20_000);
    const check = () => {
      // Only a whole line: a writer may flush "READY " and the JSON in two chunks.
      const match = /^READY (.*)\r?\n/m.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve(JSON.parse(match[1]!));
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${file} exited (${code}) before READY:\n${output}`)); });
  });
  return { pid: child.pid!, child, ready, output: () => output };
}

export interface CliResult {
  code: number | null; stdout: string; stderr: string; json?: any;
  /** reload-doctor's peak resident memory, MB (with `measurePeak`, through GNU time). */
  peakRssMb?: number;
  /** From the end of its output to its exit, ms: nothing should keep it waiting. */
  lingerMs?: number;
}

export async function runCli(args: string[], options: { timeoutMs?: number; wrap?: string[]; env?: Record<string, string>; measurePeak?: boolean; cwd?: string } = {}): Promise<CliResult> {
  const peakFile = options.measurePeak ? join(mkdtempSync(join(tmpdir(), 'rd-peak-')), 'peak') : undefined;
  const wrap = options.wrap ?? [process.execPath];
  const [command, ...prefix] = peakFile ? ['/usr/bin/time', '-o', peakFile, '-f', '%M', ...wrap] : wrap;
  // GITHUB_ACTIONS would switch `run` to annotations: tests choose the format themselves.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: undefined, ...options.env };
  const child = spawn(command!, [...prefix, CLI, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lastOutputAt = Date.now();
  child.stdout.on('data', (chunk) => { stdout += chunk; lastOutputAt = Date.now(); });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`CLI timed out: ${args.join(' ')}\n${stdout}\n${stderr}`)); }, options.timeoutMs ?? 45_000);
    child.once('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
  });
  const result: CliResult = { code, stdout, stderr, lingerMs: Date.now() - lastOutputAt };
  if (peakFile) result.peakRssMb = Number(readFileSync(peakFile, 'utf8').trim().split('\n').pop()) / 1024;
  const wantsJson = args.includes('--json') || args.join(' ').includes('--format json');
  if (wantsJson && stdout.trim().startsWith('{')) result.json = JSON.parse(stdout);
  return result;
}

/** The 1-based line of `// blame:<id>` in a fixture. */
export function blamedLine(file: string, id: string): number {
  const lines = readFileSync(`${ROOT}fixtures/${file}`, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(`blame:${id}`));
  if (index < 0) throw new Error(`no blame:${id} in ${file}`);
  return index + 1;
}

/** The ports the process listens on: compared before and after to prove the inspector is closed. */
export function listeningPorts(pid: number): number[] {
  return listeningTcp(pid).map((row) => row.localPort).sort((a, b) => a - b);
}

/** Every 1-based line marked `// blame:<id>` in a fixture. */
export function blamedLines(file: string, id: string): number[] {
  const lines = readFileSync(`${ROOT}fixtures/${file}`, 'utf8').split('\n');
  return lines.flatMap((line, index) => (line.includes(`blame:${id}`) ? [index + 1] : []));
}

/** Live processes (not zombies) whose command line contains `marker`, or in process group `pgid`. */
export function processesMatching(marker: string | undefined, pgid?: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    if (!isAlive(pid)) continue;
    const inGroup = pgid !== undefined && readStat(pid)?.pgrp === pgid;
    if (inGroup || (marker !== undefined && readCmdline(pid).join(' ').includes(marker))) found.push(pid);
  }
  return found;
}

export async function waitUntilGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

/** A TCP port nothing listens on right now (for "connection refused" cases and fixed ports). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Starts a uWSGI master (its own process group) and waits for both lazy workers to be up. */
export async function startUwsgi(ini: string, env: Record<string, string> = {}): Promise<{ master: number; workers: number[]; log: () => string }> {
  const child = spawn('/usr/bin/uwsgi', ['--ini', `${ROOT}fixtures/uwsgi-pymongo/${ini}`], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let log = '';
  child.stdout!.on('data', (chunk) => { log += chunk; });
  child.stderr!.on('data', (chunk) => { log += chunk; });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((log.match(/WSGI app 0 \(mountpoint=''\) ready/g) ?? []).length >= 2) break;
    await sleep(100);
  }
  const workers = readChildren(child.pid!);
  if (workers.length < 2) throw new Error(`uWSGI did not start two workers:\n${log}`);
  return { master: child.pid!, workers, log: () => log };
}
