// What we turned on inside a target must be turned off on every path, Ctrl-C included.
import { bestEffort } from './debug.js';

const cleanups = new Set<() => Promise<unknown>>();
/** Run after the cleanups, synchronously, right before the exit: writing what must outlive us. */
const lastWords = new Set<(signal: string) => void>();
let interruptedBy: string | undefined;

/** The signal that interrupted reload-doctor, once one has: no report may then be written as if it finished. */
export function interruption(): string | undefined {
  return interruptedBy;
}

/** Something to do on an interrupt, after the cleanups (the report file of `run`, say). */
export function onInterrupt(write: (signal: string) => void): () => void {
  lastWords.add(write);
  return () => lastWords.delete(write);
}

export function addCleanup(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export async function runCleanups(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.all(pending.map((cleanup) => cleanup().catch(bestEffort('a cleanup on interrupt'))));
}

/** On SIGINT/SIGTERM to reload-doctor itself: clean up, then exit 128 + signal number. */
export function cleanUpOnInterrupt(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      interruptedBy = signal;
      process.stderr.write(`\nreload-doctor: interrupted (${signal}); closing what we opened in the target\n`);
      void runCleanups().finally(() => {
        for (const write of lastWords) {
          try {
            write(signal);
          } catch (error) {
            bestEffort('writing on interrupt')(error);
          }
        }
        process.exit(code);
      });
    });
  }
}
