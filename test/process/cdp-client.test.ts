// The inspector client on a real target's inspector. It puts one call on the wire at a time
// (Node's inspector writes without TCP_NODELAY: a second answer waited up to 40 ms for our
// ACK; the timing lives in `npm run bench:scale`, not here). What is checked is the contract:
// calls made at once all get their own answers, and a call that times out while it waits is
// never sent to the target.
import { describe, expect, it } from 'vitest';
import { CdpTimeoutError } from '../../src/reach/cdp-client.js';
import { reachPid } from '../../src/reach/reached.js';
import { startFixture } from './helpers.js';

describe('the inspector client', () => {
  it('answers 50 calls made at once each with its own; a call that times out while it waits never reaches the target', async () => {
    const app = await startFixture('many-handles.cjs', {}, ['20']);
    const reached = await reachPid(app.pid, { useInspector: true, idleMs: 30_000 });
    try {
      const client = await reached.inspector!.open();
      const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => client.send('Runtime.evaluate', { expression: `${n} * 2`, returnByValue: true })));
      expect(answers.map((answer) => answer.result.value)).toEqual(Array.from({ length: 50 }, (_, n) => n * 2));

      // A slow call on the wire (300 ms of the target's main thread), and one behind it that gives up after 50 ms.
      const slow = client.send('Runtime.evaluate', { expression: '(() => { const end = Date.now() + 300; while (Date.now() < end); return "slow"; })()', returnByValue: true }, 5000);
      const late = client.send('Runtime.evaluate', { expression: 'globalThis.reloadDoctorTestLate = true', returnByValue: true }, 50);
      await expect(late).rejects.toBeInstanceOf(CdpTimeoutError);
      expect((await slow).result.value).toBe('slow');
      const sent = await client.send('Runtime.evaluate', { expression: 'globalThis.reloadDoctorTestLate === true', returnByValue: true });
      expect(sent.result.value).toBe(false);
    } finally {
      await reached.release();
    }
  }, 60_000);
});
