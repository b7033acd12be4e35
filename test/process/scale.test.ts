// A big service: ~20,000 sockets (connection pairs inside one process, as many as its file
// descriptor limit allows) and 30,000 timers. What is checked is what a person and a program
// get: like handles grouped into a few findings with their counts, a text report that stays
// short, every handle in the JSON with totals that add up. Timing goals live in
// `npm run bench:scale`, not here.
import { describe, expect, it } from 'vitest';
import { runCli, startFixture } from './helpers.js';

describe('a service with tens of thousands of handles', () => {
  it('grouped findings with counts, a text report under 60 lines, every handle in the JSON', async () => {
    const app = await startFixture('many-handles.cjs', {}, ['49800']);
    const { timers, sockets } = app.ready as { timers: number; sockets: number };
    expect(timers).toBeGreaterThanOrEqual(30_000);
    expect(sockets).toBeGreaterThanOrEqual(Math.min(19_000, sockets)); // what `ulimit -n` allowed

    const json = await runCli([String(app.pid), '--mercy', '1s', '--json'], { timeoutMs: 120_000 });
    expect(json.code, json.stderr).toBe(1);
    const doc = json.json;
    // Every blocking handle is in a finding, and the totals say so.
    const inFindings = doc.findings.reduce((sum: number, finding: { handles: unknown[] }) => sum + finding.handles.length, 0);
    expect(inFindings).toBe(doc.counts.blocking);
    expect(doc.counts.handles).toBe(doc.counts.blocking + doc.counts.notBlocking);
    expect(doc.counts.blocking).toBeGreaterThanOrEqual(timers + sockets);
    expect(doc.counts.findings).toBe(doc.findings.length);
    expect(doc.findings.length).toBeLessThanOrEqual(6);
    // The timers are one finding; the connections' two ends, two.
    const titles = doc.findings.map((finding: { title: string }) => finding.title);
    expect(titles).toContainEqual(expect.stringMatching(new RegExp(`^${timers} × Timeout every `)));
    const socketFindings = doc.findings.filter((finding: { handles: Array<{ kind: string }> }) => finding.handles[0]!.kind === 'tcp-socket');
    expect(socketFindings.map((finding: { handles: unknown[] }) => finding.handles.length).sort()).toEqual([sockets / 2, sockets / 2]);
    // Too many to watch one by one, and too many for libuv's view: both said.
    expect(doc.timeline.notes).toContainEqual(expect.stringMatching(/^the timeline follows 2,000 of the [\d,]+ resources open at the signal/));
    expect(doc.snapshot.notes).toContainEqual(expect.stringMatching(/libuv's own view was left out/));
    // A crowded lane's events are a summary: one line for all that remained, not one per timer.
    const remained = doc.timeline.events.filter((event: { kind: string }) => event.kind === 'remained');
    expect(remained.length).toBeLessThanOrEqual(doc.timeline.lanes.length * 4);
    expect(remained.map((event: { what: string }) => event.what)).toContainEqual(expect.stringMatching(new RegExp(`^[\\d,]+ \\(${timers} × Timeout every 1000 ms\\) were still open$`)));

    const text = await runCli([String(app.pid), '--mercy', '1s'], { timeoutMs: 120_000 });
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.length, text.stdout).toBeLessThan(60);
    expect(text.stdout).toContain(`${timers} × Timeout every `);
  }, 240_000);

  it('past 100,000 resources a sample is described, and the report says so', async () => {
    // 130,000 timers (and no sockets): one in two is described.
    const app = await startFixture('many-handles.cjs', { MAX_SOCKETS: '0' }, ['130000']);
    const json = await runCli([String(app.pid), '--mercy', '1s', '--json'], { timeoutMs: 120_000 });
    expect(json.code, json.stderr).toBe(1);
    const doc = json.json;
    expect(doc.snapshot.notes).toContainEqual(expect.stringMatching(/^the process holds 130,00\d loop resources: reload-doctor described a sample of [\d,]+ \(one in 2 of the connections, timers and requests/));
    expect(doc.counts.blocking).toBeGreaterThan(60_000);
    expect(doc.counts.blocking).toBeLessThanOrEqual(66_000);
    const timers = doc.findings.find((finding: { title: string }) => /× Timeout every /.test(finding.title));
    expect(timers.handles.length).toBe(doc.counts.blocking);
  }, 240_000);
});
