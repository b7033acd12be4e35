// Windows onto a Node target's inspector: open only while reload-doctor has something to ask,
// closed behind it. The inspector runs code as the target's user for whoever connects, so:
// - it is opened only if the target catches SIGUSR1, is not stopped, and its main thread can
//   serve the request now (else the request would wait in the target and open the inspector
//   after we are gone);
// - the port must be a listening socket in the target's own fd table, reached in the target's
//   own network namespace (inspector-channel.ts), and the session must answer with the
//   target's own pid before anything is sent that changes it;
// - the first window sets process.debugPort = 0 in the target (every later one opens on an
//   ephemeral port) and leaves a watchdog that closes the inspector if we stop petting it;
// - other sessions on the port are reported and cut; closing never waits on them.
// An inspector that was already open before us is used and left open.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { bestEffort } from '../core/debug.js';
import { throwIfAborted } from '../core/cleanups.js';
import { ReachError, messageOf } from '../core/errors.js';
import { settleWithin } from '../core/time.js';
import type { Target } from '../core/types.js';
import { WINDOW_KEY, armWatchdog, closeWindow, petWatchdog, quietClusterDebugging } from '../in-target/inspector-window.js';
import { describeProcess } from '../in-target/process-facts.js';
import type { CdpClient } from './cdp-client.js';
import { callInTarget } from './in-target-call.js';
import { clusterWorkersOf, closeWorkerInspectors } from './cluster-workers.js';
import { startGuardian, type GuardianLink, type GuardianState } from './guardian-link.js';
import { closeChannel, openChannel, type InspectorChannel } from './inspector-channel.js';
import { cutSessions, describeSession, foreignSessions } from './inspector-sessions.js';
import { lockDefaultPort, type PortLock } from './port-lock.js';
import { heldBy, isAlive, listeningTcp, readCmdline, readListeningTcp, readEnvironVariable, readSocketTable, signalDisposition, threadWait, findSocketOwner } from './proc.js';

export type { GuardianState } from './guardian-link.js';

/** The target died while we were opening its inspector: a verdict, not a failure. */
export class TargetGoneError extends Error {
  override readonly name = 'TargetGoneError';
}

export interface InspectorAccess {
  /** A session with the target's inspector, opening a window if none is open. */
  open(): Promise<CdpClient>;
  /**
   * Closes the window. `final`: reload-doctor is done with this target: the watchdog goes and
   * process.debugPort is put back now (otherwise the watchdog does it `idleMs` later).
   * Returns what the user should know (a foreign session, an inspector left open).
   */
  close(final: boolean): Promise<string[]>;
  /** Total time windows we opened were open, ms. */
  readonly openMs: number;
  /** The inspector ports windows have used: their sockets are ours, not the target's. */
  readonly ports: readonly number[];
}

export interface AccessOptions {
  /** How long the target should wait for our next window before the watchdog puts things back. */
  idleMs: number;
  /** process.debugPort is 0 already (run: set before the service's first line): no lock, never 9229. */
  ephemeral?: boolean;
}

/** Without a pet for this long, the watchdog closes an open inspector: "within a second". */
const STALE_MS = 1000;
const PET_EVERY_MS = 250;
const PORT_WAIT_MS = 3000;
const CALL_TIMEOUT_MS = 3000;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const DEFAULT_INSPECTOR_PORT = 9229;
const EPOLL_WAITS = new Set(['epoll_wait', 'epoll_pwait', 'epoll_pwait2']);

interface Window {
  client: CdpClient;
  channel: InspectorChannel;
  openedByUs: boolean;
  openedAt: number;
  pets?: NodeJS.Timeout;
  /** Held while the window holds the default port (9229): released when it closes. */
  lock?: PortLock;
}

export function inspectorAccess(target: Target, options: AccessOptions): InspectorAccess {
  const pid = target.pid;
  let window: Window | undefined;
  let armed = options.ephemeral === true;
  let preExistingChecked = false;
  /** The epoll fd the main thread waits on when idle: anything else is a nested loop (execSync). */
  let mainLoopFd: number | undefined;
  let openMs = 0;
  const ports: number[] = [];
  /** Started before the first SIGUSR1: closes what we opened if we die. */
  let guardian: GuardianLink | undefined;
  /** A SIGUSR1 the target has not served (no port came): its inspector may open later. */
  let pending = false;
  let finished = false;
  /** What the next close() reports besides its own news (a cluster primary's workers). */
  const notes: string[] = [];

  async function open(): Promise<CdpClient> {
    if (window) return window.client;
    // Aborted, or closed for good: no new window may open in the target after that.
    throwIfAborted();
    if (finished) throw new ReachError('the inspector access is closed: reload-doctor is done with this target');
    if (!preExistingChecked) {
      preExistingChecked = true;
      const existing = await findOpenInspector(target);
      if (existing) {
        ports.push(existing.channel.port);
        window = { ...existing, openedByUs: false, openedAt: performance.now() };
        return existing.client;
      }
    }
    await refuseUnlessServable(pid, mainLoopFd);
    guardian ??= startGuardian(target);
    const lock = armed ? undefined : await lockDefaultPort(pid);
    let channel: InspectorChannel | undefined;
    let client: CdpClient | undefined;
    const openedAt = performance.now();
    try {
      // Every listening socket of its namespace before the SIGUSR1 (whoever holds it): what is
      // new after it, and the target's own, is the inspector. No fd scan for sockets not asked about.
      const before = new Set(readListeningTcp(pid).map((row) => row.inode));
      // A process `run` started is kept quiet from its first line (the preload); any other
      // cluster primary's first opening reaches its workers before we can stop it.
      const workers = armed ? [] : clusterWorkersOf(pid);
      guardian.report({ phase: 'opening', before: [...before], port: armed ? undefined : debugPortOf(pid) });
      process.kill(pid, 'SIGUSR1');
      pending = true;
      const port = await newInspectorPort(pid, before);
      ports.push(port);
      pending = false;
      channel = await openChannel(pid, port);
      client = await connect(channel, pid);
      await verifyIdentity(client, target);
      await callInTarget(client, armWatchdog, [WINDOW_KEY, STALE_MS, options.idleMs], CALL_TIMEOUT_MS);
      await callInTarget(client, quietClusterDebugging, [WINDOW_KEY], CALL_TIMEOUT_MS);
      armed = true;
      notes.push(...await closeWorkerInspectors(pid, workers, (worker, workerBefore) => closeInspectorWeOpened(worker, { phase: 'opening', before: workerBefore })));
      guardian.report({ phase: 'open', port });
    } catch (error) {
      if (client) await shut(client, true);
      closeChannel(channel);
      lock?.release();
      if (error instanceof ReachError || error instanceof TargetGoneError) throw error;
      throw new ReachError(`could not prepare the inspector of pid ${pid}: ${messageOf(error)}`, { cause: error });
    }
    window = { client, channel, openedByUs: true, openedAt, lock };
    window.pets = setInterval(() => {
      void callInTarget(client!, petWatchdog, [WINDOW_KEY], STALE_MS).catch(bestEffort('petting the watchdog'));
    }, PET_EVERY_MS);
    window.pets.unref();
    return client;
  }

  async function close(final: boolean): Promise<string[]> {
    const current = window;
    const news = notes.splice(0);
    if (!current) return final ? [...news, ...finish()] : news;
    window = undefined;
    clearInterval(current.pets);
    const warnings: string[] = news;
    const port = current.channel.port;
    const foreign = foreignSessions(pid, port, [process.pid, current.channel.relayPid]);
    let stillConnected = foreign;
    if (foreign.length > 0) {
      const cut = await cutSessions(pid, port, foreign);
      stillConnected = foreign.filter((session) => !cut.includes(session));
      for (const session of foreign) {
        warnings.push(`another session was connected to the inspector of pid ${pid} (port ${port}): ${describeSession(session)}; ${cut.includes(session) ? 'reload-doctor cut it' : 'reload-doctor could not cut it (that needs CAP_NET_ADMIN)'}`);
      }
    }
    if (!current.openedByUs) {
      await current.client.close();
    } else if (stillConnected.length > 0) {
      // inspector.close() would block the target's main thread until that session leaves.
      await current.client.close();
      warnings.push(`the inspector of pid ${pid} stays open on port ${port} while that session lasts: closing it now would freeze the target until the session leaves; the watchdog closes it within ${STALE_MS / 1000} s after`);
    } else if (!(await shut(current.client, final))) {
      warnings.push(`could not close the inspector reload-doctor opened in pid ${pid} (the target did not answer): the watchdog closes it within ${STALE_MS / 1000} s once its main thread is free`);
    }
    closeChannel(current.channel);
    current.lock?.release();
    if (current.openedByUs) openMs += performance.now() - current.openedAt;
    guardian?.report({ phase: 'idle' });
    // Another window may follow: learn which loop the main thread idles on, to tell a nested one.
    if (!final) mainLoopFd ??= await idleLoopFd(pid);
    return final ? [...warnings, ...finish()] : warnings;
  }

  /** Done with this target: the guardian goes, or stays for a SIGUSR1 not served yet. */
  function finish(): string[] {
    if (finished || !guardian) return [];
    finished = true;
    if (!pending || !isAlive(pid)) {
      guardian.done();
      return [];
    }
    guardian.handOver();
    return [`pid ${pid} has not served reload-doctor's SIGUSR1 yet (its main thread was busy in a blocking call): when it does, its inspector opens, and ${guardian.pid ? `a guardian process (pid ${guardian.pid}) closes it at once (it waits up to 10 minutes)` : 'nothing can close it: check for it later (ss -ltnp)'}`];
  }

  return { open, close, ports, get openMs() { return openMs; } };
}

/** closeWindow inside the target: our socket drops within a few ms, which IS the success signal. */
async function shut(client: CdpClient, final: boolean): Promise<boolean> {
  if (client.isClosed) return true;
  callInTarget(client, closeWindow, [WINDOW_KEY, final], CALL_TIMEOUT_MS).catch(bestEffort('the answer to closeWindow (expected: the socket closes first)'));
  const closed = await settleWithin(client.whenClosed().then(() => true), 2000);
  if (!closed) await client.close();
  return closed === true;
}

/**
 * Sending SIGUSR1 only helps (and never harms) a process that catches it, is not stopped, and
 * whose main thread can serve it now. Otherwise: say why, and send nothing.
 */
async function refuseUnlessServable(pid: number, mainLoopFd: number | undefined): Promise<void> {
  if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited`);
  const main = threadWait(pid);
  if (main?.state === 'T' || main?.state === 't') {
    throw new ReachError(`pid ${pid} is stopped (state ${main.state}: SIGSTOP, or a debugger holds it): it cannot open its inspector, so reload-doctor sends it nothing`);
  }
  const disposition = signalDisposition(pid, 10);
  if (disposition !== 'caught') {
    const flags = [...readCmdline(pid), readEnvironVariable(pid, 'NODE_OPTIONS') ?? ''].join(' ');
    const why = /--disable-sigusr1\b/.test(flags) ? 'it was started with --disable-sigusr1'
      : disposition === 'ignored' ? 'it ignores SIGUSR1' : 'this Node was built without the inspector, or started with --disable-sigusr1';
    throw new ReachError(`pid ${pid} does not catch SIGUSR1 (${why}): SIGUSR1 would ${disposition === 'ignored' ? 'do nothing' : 'kill it'}, so reload-doctor does not send it`);
  }
  const blocked = await blockedIn(pid, mainLoopFd);
  if (blocked) {
    throw new ReachError(`the main thread of pid ${pid} is blocked in a synchronous call (${blocked}): its inspector would open only when the call returns, so reload-doctor does not ask`);
  }
}

/**
 * Is the main thread unable to serve SIGUSR1 now? Running JS is fine (Node interrupts it) and
 * so is the idle event loop; a nested loop (execSync), a futex (Atomics.wait), a blocking read
 * or wait are not. Sampled a few times: a thread passes through futex now and then.
 */
async function blockedIn(pid: number, mainLoopFd: number | undefined): Promise<string | undefined> {
  let last: string | undefined;
  for (let sample = 0; sample < 5; sample += 1) {
    const main = threadWait(pid);
    if (!main || main.state === 'R') return undefined;
    if (main.syscall && EPOLL_WAITS.has(main.syscall)) {
      if (mainLoopFd === undefined || main.firstArg === mainLoopFd) return undefined;
      last = `${main.syscall} on a nested event loop, as in execSync`;
    } else {
      last = main.syscall ?? `state ${main.state}`;
    }
    await sleep(4);
  }
  return last;
}

/** After a window: the fd of the loop the main thread idles on, to tell a nested loop later. */
async function idleLoopFd(pid: number): Promise<number | undefined> {
  for (let sample = 0; sample < 10; sample += 1) {
    const main = threadWait(pid);
    if (!main) return undefined;
    if (main.syscall && EPOLL_WAITS.has(main.syscall)) return main.firstArg;
    await sleep(2);
  }
  return undefined;
}

async function newInspectorPort(pid: number, before: Set<number>): Promise<number> {
  const deadline = Date.now() + PORT_WAIT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
    // New since the SIGUSR1, on loopback, and the target's own (its fds, newest first).
    const [fresh] = heldBy(pid, readListeningTcp(pid).filter((row) => !before.has(row.inode) && LOOPBACK.has(row.localAddress)));
    if (fresh) return fresh.localPort;
    await sleep(5);
  }
  if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
  throw new ReachError(explainNoInspector(pid));
}

async function connect(channel: InspectorChannel, pid: number): Promise<CdpClient> {
  const deadline = Date.now() + 1500;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const list = await channel.getJson('/json/list', 800);
      const url = Array.isArray(list)
        ? list.map((entry: { webSocketDebuggerUrl?: unknown }) => entry?.webSocketDebuggerUrl).find((candidate): candidate is string => typeof candidate === 'string')
        : undefined;
      if (url) return await channel.connect(url, 3000);
      lastError = new Error('no debugger URL in /json/list');
    } catch (error) {
      lastError = error;
    }
    if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
    await sleep(10);
  }
  throw new ReachError(`could not connect to the inspector of pid ${pid} on port ${channel.port}: ${messageOf(lastError)}`, { cause: lastError });
}

/** The session must be the process we mean (and a Node process) before we change anything in it. */
async function verifyIdentity(client: CdpClient, target: Target): Promise<void> {
  const expected = target.nsPid ?? target.pid;
  const about = await callInTarget(client, describeProcess, [], CALL_TIMEOUT_MS);
  if (about?.runtime !== 'node') {
    throw new ReachError(`pid ${target.pid} answered as ${about?.runtime === 'deno' ? 'Deno' : about?.runtime === 'bun' ? 'Bun' : 'something else'}, not Node.js: reading it through /proc instead`);
  }
  if (about.pid !== expected) {
    throw new ReachError(`the inspector on that port answered as pid ${about.pid}, not pid ${expected}: refusing to use it`);
  }
}

/**
 * An inspector the target already runs (started with --inspect, or opened by someone's
 * earlier SIGUSR1): only on a port its command line names, or 9229 — never the app's own
 * ports — and only if it answers as the target itself.
 */
async function findOpenInspector(target: Target): Promise<{ client: CdpClient; channel: InspectorChannel } | undefined> {
  const pid = target.pid;
  // Its own listening sockets on those ports only: the fd scan is for the few rows that may be an inspector.
  const ports = candidatePorts(pid);
  const listening = heldBy(pid, readListeningTcp(pid).filter((row) => LOOPBACK.has(row.localAddress) && ports.has(row.localPort)));
  for (const port of new Set(listening.map((row) => row.localPort))) {
    let channel: InspectorChannel | undefined;
    try {
      channel = await openChannel(pid, port);
      const client = await connect(channel, pid);
      try {
        await verifyIdentity(client, target);
      } catch (error) {
        await client.close();
        throw error;
      }
      return { client, channel };
    } catch (error) {
      closeChannel(channel);
      bestEffort(`looking for an open inspector on port ${port}`)(error);
    }
  }
  return undefined;
}

function candidatePorts(pid: number): Set<number> {
  const named = inspectFlags(pid);
  if (named.includes(0)) {
    // Node chose the port; only an HTTP request could tell it from the app's own ports, and
    // reload-doctor never sends one to those (it would leave traces in the very app it looks at).
    throw new ReachError(`pid ${pid} runs its inspector on a port its command line does not name (--inspect=…:0): reload-doctor does not probe the app's ports to find it; start it with a fixed port (--inspect=127.0.0.1:9230) or without --inspect`);
  }
  return new Set<number>([DEFAULT_INSPECTOR_PORT, ...named]);
}

/** Ports its --inspect flags name (command line and NODE_OPTIONS); 9229 for a bare --inspect. */
function inspectFlags(pid: number): number[] {
  const flags = [...readCmdline(pid), readEnvironVariable(pid, 'NODE_OPTIONS') ?? ''].join(' ');
  return [...flags.matchAll(/--inspect(?:-brk|-wait)?(?:=(?:[^\s:]*:)?(\d+))?(?=\s|$)|--inspect-port=(?:[^\s:]*:)?(\d+)/g)]
    .map((match) => Number(match[1] ?? match[2] ?? DEFAULT_INSPECTOR_PORT));
}

/** Why SIGUSR1 opened no inspector, in one line a person can act on. */
function explainNoInspector(pid: number): string {
  const holder = readSocketTable(pid, (state, localPort) => state === 'LISTEN' && localPort === DEFAULT_INSPECTOR_PORT)[0];
  if (holder) {
    const owner = findSocketOwner(holder.inode);
    const who = owner !== undefined && owner !== pid ? `pid ${owner} (${readCmdline(owner).join(' ').slice(0, 60)})` : 'another process';
    return `the target could not open its inspector: port ${DEFAULT_INSPECTOR_PORT} is held by ${who}; free it, or start the target with --inspect=127.0.0.1:0`;
  }
  const main = threadWait(pid);
  const where = main ? ` (its main thread is in ${main.syscall ?? `state ${main.state}`})` : '';
  return `the target did not open its inspector on SIGUSR1${where}: most likely it has its own process.on('SIGUSR1') listener; start it with --inspect=127.0.0.1:0, or use \`reload-doctor run\``;
}

/** The port a first SIGUSR1 binds: --inspect-port (or --inspect's) from its flags, else 9229. */
function debugPortOf(pid: number): number {
  const flags = [...readCmdline(pid), readEnvironVariable(pid, 'NODE_OPTIONS') ?? ''].join(' ');
  const named = /--inspect(?:-port|-brk|-wait)?=(?:[^\s:]*:)?(\d+)/.exec(flags);
  return named ? Number(named[1]) : DEFAULT_INSPECTOR_PORT;
}

/**
 * The guardian's cleanup (src/guardian.ts): close an inspector of the target that we opened —
 * on the port the state names, else a listening socket that was not there before SIGUSR1 — if
 * it answers as the target. Returns whether one was closed.
 */
export async function closeInspectorWeOpened(target: Target, state: GuardianState): Promise<boolean> {
  const before = new Set(state.before ?? []);
  const candidates = listeningTcp(target.pid).filter((row) => LOOPBACK.has(row.localAddress)
    && (state.port !== undefined ? row.localPort === state.port : !before.has(row.inode)));
  for (const row of candidates) {
    let channel: InspectorChannel | undefined;
    try {
      channel = await openChannel(target.pid, row.localPort);
      const client = await connect(channel, target.pid);
      try {
        await verifyIdentity(client, target);
      } catch (error) {
        await client.close();
        throw error;
      }
      await shut(client, true);
      return true;
    } catch (error) {
      bestEffort(`closing the inspector on port ${row.localPort}`)(error);
    } finally {
      closeChannel(channel);
    }
  }
  return false;
}
