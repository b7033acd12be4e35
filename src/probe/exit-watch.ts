// Notices the target's exit within a few ms, by three routes (first one wins):
// - the inspector says the loop drained ("Waiting for the debugger to disconnect..."): the
//   process waits for us, so we close our socket and it is gone 3-8 ms later;
// - our inspector socket closes (the process died);
// - /proc/<pid>/stat disappears or shows a zombie (polled: kill(pid, 0) succeeds on zombies).
import { performance } from 'node:perf_hooks';
import { bestEffort } from '../core/debug.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { isAlive } from '../reach/proc.js';

export interface ExitWatch {
  /** Resolves with the performance.now() time of the exit. */
  exited: Promise<number>;
  stop(): void;
}

const POLL_MS = 10;

export function watchExit(pid: number, client?: CdpClient): ExitWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopClosedWatch: (() => void) | undefined;
  let done = false;
  let resolveExit!: (at: number) => void;
  const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
  const finish = (at: number) => {
    if (done) return;
    done = true;
    stop();
    resolveExit(at);
  };
  const poll = () => {
    if (!isAlive(pid)) return finish(performance.now());
    timer = setTimeout(poll, POLL_MS);
  };
  const onDrained = () => {
    const at = performance.now();
    client?.close().catch(bestEffort('closing our session to let the drained target go'));
    finish(at);
  };
  const onSocketClosed = () => {
    if (!isAlive(pid)) finish(performance.now());
  };
  function stop() {
    clearTimeout(timer);
    client?.off('NodeRuntime.waitingForDisconnect', onDrained);
    stopClosedWatch?.();
  }
  client?.on('NodeRuntime.waitingForDisconnect', onDrained);
  stopClosedWatch = client?.onClosed(onSocketClosed);
  poll();
  return { exited, stop };
}
