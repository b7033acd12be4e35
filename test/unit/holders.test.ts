// Attach mode's holders, in milliseconds: the declaring line found in a module's source, the
// path shown, and which finding gets a holder (a library's, never the app's own line).
import { describe, expect, it } from 'vitest';
import type { Finding, Handle, Holder, SourceLocation } from '../../src/core/types.js';
import { makeDiagnosis } from '../../src/core/diagnosis.js';
import { withHolders } from '../../src/explain/holders.js';
import { renderGithubAnnotations } from '../../src/report/github.js';
import { renderJunit } from '../../src/report/junit.js';
import { HEAP_SNAPSHOT_BUDGET_S, estimateHeapSnapshot } from '../../src/inspect/heap-holders.js';
import { declaringLine, describePath } from '../../src/inspect/holders.js';

describe('declaringLine', () => {
  const source = [
    "const { MongoClient } = require('mongodb');", // 1
    '', // 2
    'const client = new MongoClient(url);', // 3
    'let clientele = 1;', // 4
    'function usersHandler(client) {', // 5
    '  return async (req, res) => client.db();', // 6
    '}', // 7
    'class Repository {}', // 8
  ].join('\n');
  it('finds const/let/var, destructuring, functions, classes and parameters', () => {
    expect(declaringLine(source, 'client')).toBe(3);
    expect(declaringLine(source, 'MongoClient')).toBe(1);
    expect(declaringLine(source, 'clientele')).toBe(4);
    expect(declaringLine(source, 'Repository')).toBe(8);
    expect(declaringLine(source, 'usersHandler')).toBe(5);
  });
  it('the last declaration before a closure\'s line: the factory\'s parameter', () => {
    expect(declaringLine(source, 'client', 6)).toBe(5);
  });
  it('nothing for a name that is not an identifier, or not declared', () => {
    expect(declaringLine(source, 'a.b')).toBeUndefined();
    expect(declaringLine(source, '(.*)')).toBeUndefined();
    expect(declaringLine(source, 'missing')).toBeUndefined();
    expect(declaringLine(undefined, 'client')).toBeUndefined();
  });
});

describe('describePath', () => {
  it('shows the first steps, with Map lookups and symbols as they read', () => {
    expect(describePath(['redis', 'stream'])).toBe('redis.stream');
    expect(describePath(['client', 'topology', 's', 'servers', 'get("a:1")', 'pool'])).toBe('client.topology.s.servers…');
    expect(describePath(['jobs', 'get("nightly")', '[kTimer]'])).toBe('jobs.get("nightly")[kTimer]');
  });
});

describe('withHolders', () => {
  const library: SourceLocation = { url: '/app/node_modules/mongodb/lib/x.js', file: 'node_modules/mongodb/lib/x.js', line: 1, column: 1, internal: false, package: { name: 'mongodb' } };
  const app: SourceLocation = { url: '/app/src/db.js', file: 'src/db.js', line: 3, column: 1, internal: false };
  const holder = (scope: Holder['scope'], path: string, closureOf?: string): Holder => ({ variable: path.split('.')[0]!, path, location: app, scope, closureOf });
  const handle = (heldBy?: Holder, owner = library): Handle => ({ kind: 'tcp-socket', blocking: true, label: 'socket', details: {}, owner, heldBy });
  const finding = (handles: Handle[], location = library): Finding => ({ id: 'mongodb', title: 't', severity: 'blocks', why: '', fix: '', handles, location });

  it('a library finding gets its best holder: a module variable first, then the shortest path', () => {
    const found = withHolders(finding([handle(holder('closure', 'c.x')), handle(holder('module', 'client.topology.s…')), handle(holder('module', 'db.client.topology…'))]));
    expect(found.heldBy).toMatchObject({ variable: 'client', how: 'held by', scope: 'module' });
  });
  it('"captured by its callback" when only the culprit\'s own callback holds it', () => {
    const own: SourceLocation = { ...app, line: 9, functionName: 'tick' };
    const found = withHolders(finding([handle({ ...holder('closure', 'state.timer', 'start'), via: own }), handle(undefined, own)]));
    expect(found.heldBy?.how).toBe('captured by its callback');
  });
  it('the app\'s own finding, or one run mode placed from a creation stack, gets none', () => {
    expect(withHolders(finding([handle(holder('module', 'client'))], app)).heldBy).toBeUndefined();
    expect(withHolders(finding([{ ...handle(holder('module', 'client')), createdIn: app }])).heldBy).toBeUndefined();
    expect(withHolders(finding([handle()])).heldBy).toBeUndefined();
  });
});

describe('CI reports put a library finding on its holder\'s line', () => {
  const library: SourceLocation = { url: '/srv/app/node_modules/mongodb/lib/x.js', file: 'node_modules/mongodb/lib/x.js', line: 318, column: 28, internal: false, package: { name: 'mongodb', version: '7.9.0' } };
  const declared: SourceLocation = { url: '/srv/app/src/db.js', file: 'src/db.js', line: 3, column: 1, internal: false };
  const finding: Finding = {
    id: 'mongodb', title: 'MongoClient never closed', severity: 'blocks', why: 'a connected MongoClient…', fix: 'client.close()', handles: [], location: library, owner: { name: 'mongodb', version: '7.9.0' },
    heldBy: { variable: 'client', path: 'client.topology.s.servers…', location: declared, scope: 'module', how: 'held by' },
  };
  const diagnosis = makeDiagnosis({ mode: 'handles', target: { pid: 1, runtime: { kind: 'node' }, command: 'node app.js', reachedBy: 'attach' }, findings: [finding], warnings: [], exitCode: 0 });

  it('GitHub: the annotation on src/db.js:3, the holder in its message', () => {
    const annotation = renderGithubAnnotations(diagnosis, '/srv/app').split('\n').find((line) => line.startsWith('::error'))!;
    expect(annotation).toMatch(/,file=src\/db\.js,line=3,col=1::/);
    expect(annotation).toContain('held by `client` in src/db.js, line 3: client.topology.s.servers…');
  });

  it('JUnit: the culprit\'s case on src/db.js line 3', () => {
    expect(renderJunit(diagnosis, '', '/srv/app')).toMatch(/name="MongoClient never closed" time="0" file="src\/db.js" line="3">/);
  });
});

describe('the heap snapshot\'s estimate', () => {
  it('grows with the heap; a small heap is within the budget, a 540 MB one far above it', () => {
    const small = estimateHeapSnapshot(20 * 1048576);
    const big = estimateHeapSnapshot(540 * 1048576);
    expect(small.overBudget).toBe(false);
    expect(big.overBudget).toBe(true);
    expect(big.pauseS).toBeGreaterThan(HEAP_SNAPSHOT_BUDGET_S * 5);
    expect(big.memoryMb).toBeCloseTo(5400, -1);
    expect(estimateHeapSnapshot(0).pauseS).toBeGreaterThan(0);
  });
});
