// Attach mode names the app variable that holds a library culprit (src/inspect/holders.ts), on
// real libraries: mongodb against its wire peer in four app shapes, ioredis on the real Redis,
// node-cron's task in an object property; none when no app variable holds the client; on Node
// 20 and 22. And it agrees with `run` mode, which knows from its creation stacks: the same file,
// and the same line or a line that uses the same variable.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, blamedLine, runCli, startFixture, startProcess } from './helpers.js';
import { NODE_MAJORS, needs, type Need } from './needs.js';

interface Shape { fixture: string; id: string; variable: string; holderFile: string; need?: Need; esm?: boolean }

/** The mongodb driver this project ships (7.x) needs Node 20 or later (it uses the global crypto). */
const needsNode20 = (shape: Pick<Shape, 'id'>) => shape.id === 'mongodb';

const SHAPES: Shape[] = [
  { fixture: 'holders/module-client.cjs', id: 'mongodb', variable: 'client', holderFile: 'holders/lib/db.cjs' },
  { fixture: 'holders/class-instance.cjs', id: 'mongodb', variable: 'repository', holderFile: 'holders/class-instance.cjs' },
  { fixture: 'holders/factory-closure.cjs', id: 'mongodb', variable: 'client', holderFile: 'holders/factory-closure.cjs' },
  { fixture: 'holders/object-property.cjs', id: 'node-cron', variable: 'jobs', holderFile: 'holders/object-property.cjs' },
  { fixture: 'holders/redis-module.cjs', id: 'ioredis', variable: 'redis', holderFile: 'holders/redis-module.cjs', need: 'redis' },
  { fixture: 'holders/esm-client.mjs', id: 'mongodb', variable: 'client', holderFile: 'holders/esm/db.mjs', esm: true },
  { fixture: 'holders/esm-class.mjs', id: 'mongodb', variable: 'repository', holderFile: 'holders/esm-class.mjs', esm: true },
  { fixture: 'holders/esm-factory.mjs', id: 'mongodb', variable: 'client', holderFile: 'holders/esm-factory.mjs', esm: true },
  { fixture: 'holders/esm-property.mjs', id: 'node-cron', variable: 'jobs', holderFile: 'holders/esm-property.mjs', esm: true },
];

const MAJORS = NODE_MAJORS;

async function envFor(shape: Pick<Shape, 'id'>): Promise<Record<string, string>> {
  if (shape.id !== 'mongodb') return {};
  const peer = await startFixture('mongo-peer.cjs');
  return { MONGO_URL: `mongodb://127.0.0.1:${peer.ready.port}/` };
}

describe.each(MAJORS)('Node %s', (major, majorNeed, node) => {
  for (const shape of SHAPES) {
    it(`${shape.fixture}: held by \`${shape.variable}\`, at its declaring line`, async (ctx) => {
      if (majorNeed) needs(ctx, majorNeed);
      if (shape.need) needs(ctx, shape.need);
      ctx.skip(major === '18' && needsNode20(shape), 'the mongodb driver (7.x) needs Node 20 or later');
      const app = await startFixture(shape.fixture, await envFor(shape), [], 'ignore', node);
      const result = await runCli(['handles', String(app.pid), '--json']);
      expect(result.code).toBe(0);
      const finding = result.json.findings.find((f: any) => f.id.startsWith(shape.id));
      expect(finding.location.file).toMatch(/node_modules\//);
      if (shape.esm && major === '18' && finding.heldBy === null) {
        // Node 18's ESM loader is not the one the walk knows: today's output, and a note, never
        // an error (a holder found through a callback's closure is still named).
        expect(result.json.snapshot.notes.join('\n')).toMatch(/ES modules of the app could not be listed/);
        return;
      }
      expect(finding.heldBy).toMatchObject({ variable: shape.variable, how: 'held by', location: { file: `fixtures/${shape.holderFile}`, line: blamedLine(shape.holderFile, 'holder') } });
      expect(finding.heldBy.path.startsWith(shape.variable)).toBe(true);
    });
  }

  it('no app variable holds the client (a local of an async function): no holder is made up', async (ctx) => {
    if (majorNeed) needs(ctx, majorNeed);
    ctx.skip(major === '18', 'the mongodb driver (7.x) needs Node 20 or later');
    const app = await startFixture('mongo-connected.cjs', await envFor({ id: 'mongodb' }), [], 'ignore', node);
    const result = await runCli(['handles', String(app.pid), '--json']);
    const finding = result.json.findings.find((f: any) => f.id.startsWith('mongodb'));
    expect(finding).toBeDefined();
    expect(finding.heldBy).toBeNull();
  });
});

describe('owners no path reaches', () => {
  it('a BullMQ Queue never closed: its ioredis connection is BullMQ\'s (its package depends on ioredis), at the Queue\'s line', async (ctx) => {
    needs(ctx, 'redis');
    const app = await startFixture('holders/bullmq-queue.cjs');
    const result = await runCli(['handles', String(app.pid), '--json']);
    expect(result.json.findings.map((f: any) => f.id)).not.toContain('ioredis');
    const finding = result.json.findings.find((f: any) => f.id === 'bullmq');
    expect(finding.location).toMatchObject({ file: 'fixtures/holders/bullmq-queue.cjs', line: blamedLine('holders/bullmq-queue.cjs', 'holder') });
    expect(finding.handles[0].inferredOwner).toMatchObject({ package: { name: 'bullmq' }, className: 'Queue', variable: 'reports', likely: true, close: { method: 'close', awaits: true } });
    expect(finding.fix).toMatch(/queue\.close\(\)/);
  });
});

describe('--heap-snapshot: the fallback for what the walk cannot see', () => {
  it('a client in a #private field: the walk reads #private fields through the inspector and finds `store`, with no snapshot', async () => {
    const app = await startFixture('holders/private-field.cjs', await envFor({ id: 'mongodb' }));
    const plain = await runCli(['handles', String(app.pid), '--json']);
    const finding = plain.json.findings.find((f: any) => f.id.startsWith('mongodb'));
    expect(finding.heldBy).toMatchObject({ variable: 'store', how: 'held by', scope: 'module', location: { file: 'fixtures/holders/private-field.cjs', line: blamedLine('holders/private-field.cjs', 'holder') } });
    expect(finding.heldBy.path).toMatch(/^store\.#client\./);
  });

  it('a client kept as a WeakMap value: the walk finds no holder, the heap snapshot finds `store`; the estimate is printed first', async () => {
    const app = await startFixture('holders/weakmap-field.cjs', await envFor({ id: 'mongodb' }));
    const plain = await runCli(['handles', String(app.pid), '--json']);
    expect(plain.json.findings.find((f: any) => f.id.startsWith('mongodb')).heldBy).toBeNull();
    const result = await runCli(['handles', String(app.pid), '--heap-snapshot', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^reload-doctor: a heap snapshot of \d+ MB of heap freezes the target for about [\d.]+ s and may take up to \d+ MB more memory$/m);
    const finding = result.json.findings.find((f: any) => f.id.startsWith('mongodb'));
    expect(finding.heldBy).toMatchObject({ variable: 'store', how: 'held by', scope: 'module', location: { file: 'fixtures/holders/weakmap-field.cjs', line: blamedLine('holders/weakmap-field.cjs', 'holder') } });
    expect(finding.heldBy.path).toMatch(/^store\.\(its WeakMap value\)\./);
    expect(result.json.snapshot.notes.join('\n')).toMatch(/--heap-snapshot: the target was frozen .* for the snapshot/);
  });

  it('above the budget it is refused unless --force, and the walk\'s own answer stays', async (ctx) => {
    needs(ctx, 'redis');
    const big = await startProcess([process.execPath, 'bench/holder-heap.cjs'], { HEAP_MB: '120', ORPHAN: '1' });
    const result = await runCli(['handles', String(big.pid), '--heap-snapshot', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.snapshot.notes.join('\n')).toMatch(/--heap-snapshot refused: a heap snapshot of 1\d\d MB of heap freezes the target for about 1\d\.\d s .*above the 10 s budget \(--force takes it anyway\)/);
    expect(result.json.findings.find((f: any) => f.id.startsWith('ioredis')).heldBy.variable).toBe('redis');
    const misuse = await runCli(['handles', String(big.pid), '--force']);
    expect(misuse.code).toBe(2);
  });
});

describe('attach and run agree', () => {
  it('the full attach check (signal, mercy) carries the holder, and it matches run mode\'s place on every shape', async (ctx) => {
    const rows: string[] = [];
    let agree = 0;
    let total = 0;
    for (const shape of SHAPES) {
      if (shape.need === 'redis') { needs(ctx, 'redis'); }
      const app = await startFixture(shape.fixture, await envFor(shape));
      const attach = await runCli([String(app.pid), '--mercy', '1s', '--json']);
      expect(attach.code).toBe(1);
      const held = attach.json.findings.find((f: any) => f.id.startsWith(shape.id)).heldBy;
      const run = await runCli(['run', '--mercy', '1s', '--format', 'json', '--', 'node', `fixtures/${shape.fixture}`], { env: await envFor(shape) });
      const place = run.json.findings.find((f: any) => f.id.startsWith(shape.id)).location;
      const runLine = readFileSync(`${ROOT}${place.file}`, 'utf8').split('\n')[place.line - 1] ?? '';
      // The same variable: run's line (where the resource was created) names it, or the property
      // of it the path goes through (`this.client` for `repository.client`, `nightly:` for `jobs.nightly`).
      const names = held ? [held.variable, ...held.path.split(/[.[\]()"…]+/).slice(1, 2)].filter(Boolean) : [];
      const same = held !== null && held.location.file === place.file && (held.location.line === place.line || names.some((name: string) => new RegExp(`\\b${name}\\b`).test(runLine)));
      rows.push(`${shape.fixture}: attach ${held ? `${held.location.file}:${held.location.line} \`${held.variable}\`` : 'none'} · run ${place.file}:${place.line} · ${same ? 'same' : 'differs'}`);
      total += 1;
      if (same) agree += 1;
    }
    console.log(rows.join('\n'));
    expect(agree / total).toBeGreaterThanOrEqual(0.85);
  });
});
