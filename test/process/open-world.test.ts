// The open-world corpus (fixtures/open-world/): services built from public bug threads on
// libraries that have no rule of ours, and clean traps beside them (a heavy library loaded and
// used that holds nothing). In attach mode and in run mode: the verdict on every one, nothing
// blamed in a trap or outside the culprit's own packages; and, scored over the corpus, the
// package named, the app's line (a `blame:app` line) and the library's real close call. The
// ground truth is checked without the tool: each hang's fixed variant (FIXED=1: the close call
// in its SIGTERM handler) exits, the plain one does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, blamedLines, runCli, startFixture, stop } from './helpers.js';
import { NODE_MAJORS, have, needs, type Need } from './needs.js';

interface Case {
  file: string;
  kind: string;
  /** The package (or `node:<module>`) that owns what hangs; absent for a trap. */
  owner?: string;
  /** Other packages its findings may name: the drivers under it. */
  drivers?: string[];
  /** The real close call, as the fix must say it. */
  close?: RegExp;
  need?: Need;
}

const HANGS: Case[] = [
  { file: 'grpc-server.cjs', kind: 'RPC', owner: '@grpc/grpc-js', close: /`server\.tryShutdown\(callback\)`.*`server\.forceShutdown\(\)`/ },
  { file: 'grpc-stream.cjs', kind: 'RPC', owner: '@grpc/grpc-js', close: /`stream\.cancel\(\)`/ },
  { file: 'kysely-pg.mjs', kind: 'query builder', owner: 'kysely', drivers: ['pg', 'pg-pool', 'pg-protocol'], close: /`await db\.destroy\(\)`/, need: 'postgres' },
  { file: 'pg-esm-pool.mjs', kind: 'SQL driver', owner: 'pg', drivers: ['pg-pool', 'pg-protocol'], close: /await pool\.end\(\)/, need: 'postgres' },
  { file: 'postgres-js.mjs', kind: 'SQL driver', owner: 'postgres', close: /`await sql\.(end|close)\(\)`/, need: 'postgres' },
  { file: 'mysql-pool.cjs', kind: 'SQL driver', owner: 'mysql', close: /`pool\.end\(callback\)`/, need: 'mariadb' },
  { file: 'pg-boss.cjs', kind: 'job queue', owner: 'pg-boss', drivers: ['pg', 'pg-pool', 'pg-protocol'], close: /`await boss\.stop\(\)`/, need: 'postgres' },
  { file: 'bee-queue-worker.cjs', kind: 'job queue', owner: 'bee-queue', drivers: ['redis', '@redis/client'], close: /`await emails\.close\(\)`/, need: 'redis' },
  { file: 'croner-job.mjs', kind: 'scheduler', owner: 'croner', close: /`cleanup\.stop\(\)`/ },
  { file: 'toad-scheduler.cjs', kind: 'scheduler', owner: 'toad-scheduler', close: /`scheduler\.stop\(\)`/ },
  { file: 'nodemailer-pool.cjs', kind: 'mail', owner: 'nodemailer', close: /`mailer\.close\(\)`/ },
  { file: 'eventsource-client.mjs', kind: 'streaming client', owner: 'eventsource', close: /`events\.close\(\)`/ },
  { file: 'ws-client.cjs', kind: 'streaming client', owner: 'ws', close: /`feed\.close\(/ },
  { file: 'undici-stream.mjs', kind: 'HTTP client', owner: 'undici', close: /`await upstream\.close\(\)`/ },
  { file: 'generic-pool.cjs', kind: 'worker and resource pool', owner: 'generic-pool', drivers: ['ioredis'], close: /`await connections\.drain\(\); await connections\.clear\(\)`/, need: 'redis' },
  { file: 'worker-thread.mjs', kind: 'worker and resource pool', owner: 'node:worker_threads', close: /terminate\(\)/ },
  { file: 'watch-file.cjs', kind: 'file watcher', owner: 'node:fs', close: /fs\.unwatchFile\(/ },
  { file: 'http2-session.cjs', kind: 'Node core', owner: 'node:http2', close: /`session\.close\(/ },
  { file: 'dgram-socket.cjs', kind: 'Node core', owner: 'node:dgram', close: /`metrics\.close\(/ },
  { file: 'child-process.cjs', kind: 'Node core', owner: 'node:child_process', close: /`helper\.kill\(/ },
];

const TRAPS: Case[] = [
  { file: 'traps/grpc-unary.cjs', kind: 'RPC' },
  { file: 'traps/kysely-destroyed.mjs', kind: 'query builder', need: 'postgres' },
  { file: 'traps/croner-unref.mjs', kind: 'scheduler' },
  { file: 'traps/nodemailer-direct.cjs', kind: 'mail' },
  { file: 'traps/eventsource-closed.mjs', kind: 'streaming client' },
  { file: 'traps/fetch-keepalive.mjs', kind: 'HTTP client' },
  { file: 'traps/piscina-idle.cjs', kind: 'worker and resource pool' },
  { file: 'traps/worker-unref.mjs', kind: 'worker and resource pool' },
  { file: 'traps/prom-metrics.cjs', kind: 'telemetry' },
  { file: 'traps/node-cache.cjs', kind: 'cache' },
  { file: 'traps/http2-unref.cjs', kind: 'Node core' },
];

type Mode = 'attach' | 'run';
interface Score { file: string; mode: Mode; trap: boolean; verdict: boolean; innocent: string[]; package: boolean; line: boolean; close: boolean; said: string }

const scores: Score[] = [];
let peers: ChildProcess | undefined;
let env: Record<string, string> = {};

// The peers live for the whole file (the helpers stop what they start after each test).
beforeAll(async () => {
  peers = spawn(process.execPath, ['fixtures/open-world/peers.cjs'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the peers were not ready in 20 s: ${output}`)), 20_000);
    peers!.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /^READY (.*)\r?\n/m.exec(output);
      if (match) { clearTimeout(timer); resolve(JSON.parse(match[1]!)); }
    });
  });
  env = { GRPC_PORT: String(ports.grpc), SMTP_PORT: String(ports.smtp), HTTP_PORT: String(ports.http), H2_PORT: String(ports.h2), WS_PORT: String(ports.ws) };
});
afterAll(() => {
  peers?.kill('SIGKILL');
});

const MERCY = '2s';

async function diagnose(file: string, mode: Mode): Promise<any> {
  if (mode === 'run') {
    const result = await runCli(['run', '--format', 'json', '--ready', 'log:^READY', '--mercy', MERCY, '--', process.execPath, `fixtures/open-world/${file}`], { env });
    return result.json;
  }
  const app = await startFixture(`open-world/${file}`, env);
  await sleep(200);
  const result = await runCli([String(app.pid), '--mercy', MERCY, '--json']);
  await stop(app.child);
  return result.json;
}

function score(c: Case, mode: Mode, doc: any): Score {
  const trap = c.owner === undefined;
  const blocking = (doc.findings ?? []).filter((f: any) => f.severity === 'blocks');
  const path = `fixtures/open-world/${c.file}`;
  const lines = trap ? [] : blamedLines(`open-world/${c.file}`, 'app');
  const allowed = new Set([c.owner, ...(c.drivers ?? [])]);
  const atAppLine = (at: any) => at?.file === path && lines.includes(at.line);
  const innocent = trap ? blocking.map((f: any) => f.title) : blocking.filter((f: any) => f.package && !allowed.has(f.package.name)).map((f: any) => f.title);
  return {
    file: c.file, mode, trap,
    verdict: doc.verdict?.outcome === (trap ? 'exited' : 'still-alive'),
    innocent,
    // Node's own owner is named in the title or the why (a Worker of node:worker_threads).
    package: !trap && blocking.some((f: any) => (c.owner!.startsWith('node:') ? `${f.title} ${f.why}`.includes(c.owner!) : f.package?.name === c.owner)),
    line: !trap && blocking.some((f: any) => atAppLine(f.location) || atAppLine(f.heldBy?.location)),
    close: !trap && blocking.some((f: any) => c.close!.test(f.fix)),
    said: blocking.map((f: any) => `${f.id}: ${f.fix}`).join(' | ').slice(0, 300),
  };
}

describe.each(['attach', 'run'] as Mode[])('%s mode, on the open-world corpus', (mode) => {
  for (const c of [...HANGS, ...TRAPS]) {
    it(`${c.file} (${c.kind}): ${c.owner ? `still alive, owned by ${c.owner}` : 'a clean trap: exited, nothing blamed'}`, async (ctx) => {
      if (c.need) needs(ctx, c.need);
      const doc = await diagnose(c.file, mode);
      const result = score(c, mode, doc);
      scores.push(result);
      expect(result.verdict, JSON.stringify(doc.verdict)).toBe(true);
      expect(result.innocent).toEqual([]);
    });
  }
});

/** A few of the corpus on every Node line the targets run (CommonJS and ES modules, a closure-held client, a Node object). */
const ON_EVERY_LINE = ['grpc-server.cjs', 'croner-job.mjs', 'dgram-socket.cjs', 'postgres-js.mjs'];

describe.each(NODE_MAJORS)('attach mode on Node %s', (_major, majorNeed, node) => {
  for (const file of ON_EVERY_LINE) {
    const c = HANGS.find((h) => h.file === file)!;
    it(`${file}: owned by ${c.owner}, at the app's line, with its close call`, async (ctx) => {
      if (majorNeed) needs(ctx, majorNeed);
      if (c.need) needs(ctx, c.need);
      const app = await startFixture(`open-world/${file}`, env, [], 'ignore', node);
      await sleep(200);
      const doc = (await runCli([String(app.pid), '--mercy', MERCY, '--json'])).json;
      const result = score(c, 'attach', doc);
      expect(result.verdict).toBe(true);
      expect(result.innocent).toEqual([]);
      expect([result.package, result.line, result.close], result.said).toEqual([true, true, true]);
    });
  }
});

describe('the corpus scored', () => {
  it('package ≥ 95 %, the app\'s line ≥ 90 %, the real close call ≥ 90 % in each mode; the table for the note', () => {
    const rows: string[] = ['| fixture | mode | verdict | package | app line | close call |', '| --- | --- | --- | --- | --- | --- |'];
    const mark = (ok: boolean) => (ok ? 'yes' : '**no**');
    for (const s of scores) rows.push(`| ${s.file} | ${s.mode} | ${mark(s.verdict)} | ${s.trap ? '–' : mark(s.package)} | ${s.trap ? '–' : mark(s.line)} | ${s.trap ? '–' : mark(s.close)} |`);
    for (const mode of ['attach', 'run'] as Mode[]) {
      const hangs = scores.filter((s) => s.mode === mode && !s.trap);
      const rate = (key: 'package' | 'line' | 'close') => hangs.filter((s) => s[key]).length / Math.max(1, hangs.length);
      rows.push(`${mode}: ${hangs.length} hangs, ${scores.filter((s) => s.mode === mode && s.trap).length} traps; package ${(rate('package') * 100).toFixed(0)} %, app line ${(rate('line') * 100).toFixed(0)} %, close call ${(rate('close') * 100).toFixed(0)} %`);
      for (const miss of hangs.filter((s) => !s.package || !s.line || !s.close)) rows.push(`  miss ${miss.file} [${mode}]: ${miss.said}`);
      if (hangs.length > 0) {
        expect(rate('package')).toBeGreaterThanOrEqual(0.95);
        expect(rate('line')).toBeGreaterThanOrEqual(0.9);
        expect(rate('close')).toBeGreaterThanOrEqual(0.9);
      }
    }
    console.log(rows.join('\n'));
  });
});

describe('ground truth, without the tool', () => {
  /** SIGTERM once it is ready: did it exit within `withinMs`? */
  async function exitsOnSigterm(file: string, fixed: boolean, withinMs: number): Promise<boolean> {
    const app = await startFixture(`open-world/${file}`, { ...env, ...(fixed ? { FIXED: '1' } : {}) });
    const exited = new Promise<boolean>((resolve) => { app.child.once('exit', () => resolve(true)); setTimeout(() => resolve(false), withinMs); });
    process.kill(app.pid, 'SIGTERM');
    const result = await exited;
    await stop(app.child);
    return result;
  }

  it('every hang exits with its close call added (FIXED=1) and stays up without it; every trap exits', async () => {
    const runnable = [...HANGS, ...TRAPS].filter((c) => !c.need || have(c.need));
    const wrong: string[] = [];
    // Four at a time: the machine has 2 cores, and each waits mostly.
    for (let i = 0; i < runnable.length; i += 4) {
      await Promise.all(runnable.slice(i, i + 4).map(async (c) => {
        if (c.owner === undefined) {
          if (!(await exitsOnSigterm(c.file, false, 5000))) wrong.push(`${c.file}: the trap did not exit`);
          return;
        }
        const [plain, fixed] = await Promise.all([exitsOnSigterm(c.file, false, 3000), exitsOnSigterm(c.file, true, 5000)]);
        if (plain) wrong.push(`${c.file}: exits without its fix`);
        if (!fixed) wrong.push(`${c.file}: the fixed variant does not exit`);
        // The fixture names its public thread.
        if (!/https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(issues|pull)\/\d+/.test(readFileSync(`fixtures/open-world/${c.file}`, 'utf8'))) wrong.push(`${c.file}: no public thread linked`);
      }));
    }
    expect(wrong).toEqual([]);
  }, 240_000);
});
