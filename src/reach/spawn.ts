// `run` mode's reach: start the service with every Node process in it paused on an ephemeral
// inspector port (--inspect-brk=127.0.0.1:0), let the caller prepare each one while it is
// paused (run installs the creation-stack hook), then let it run. So every handle the app
// creates can have a creation stack from its first line.
// Wrappers (npm start, npx, yarn) pass NODE_OPTIONS down to the app's Node process; the
// wrapper's own Node process is released and left alone, never diagnosed.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { bestEffort } from '../core/debug.js';
import { ReachError, messageOf } from '../core/errors.js';
import { CdpClient } from './cdp-client.js';
import { descendantsOf, killTree } from './descendants.js';
import { isAlive, listeningTcp, readCmdline, readEnvironVariable } from './proc.js';
import { isNodeExecutable } from './target.js';

const INSPECT_FLAG = '--inspect-brk=127.0.0.1:0';
const CALL_TIMEOUT_MS = 5000;
/** What Node's inspector prints on stderr: ours, not the service's output. */
const INSPECTOR_NOISE = [
  /^Debugger listening on ws:\/\//, /^For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector/,
  /^Debugger attached\.$/, /^Waiting for the debugger to disconnect\.\.\.$/, /^Debugger ending on ws:\/\//,
];

export interface NodeSession {
  pid: number;
  port: number;
  command: string[];
  client: CdpClient;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() of the exit. */
  at: number;
}

export interface ServiceOptions {
  command: string[];
  /**
   * Called for each of the service's own Node processes (not a package manager) while it is
   * paused before its first line; returns warnings. What it turns on stays for the service's life.
   */
  prepare?: (client: CdpClient, pid: number | undefined) => Promise<string[]>;
  /** Every line the service writes (inspector noise removed). */
  onLine(stream: 'stdout' | 'stderr', line: string): void;
}

export class Service {
  readonly child: ChildProcess;
  readonly exited: Promise<ServiceExit>;
  /** Sessions to the service's own Node processes (wrappers excluded), oldest first. */
  readonly sessions: NodeSession[] = [];
  /** Problems attaching to one of the tree's Node processes; reported, never fatal. */
  readonly warnings: string[] = [];
  /** Every inspector port the tree announced: ours, never the service's own ports. */
  readonly inspectorPorts = new Set<number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly prepare: ServiceOptions['prepare'];
  /** Node processes of the tree we have attached to and let run (wrappers included). */
  private readonly released = new Set<number>();
  private exit?: ServiceExit;

  constructor(options: ServiceOptions) {
    this.prepare = options.prepare;
    const [file, ...args] = options.command;
    const direct = isNodeExecutable(file!);
    const env = { ...process.env };
    if (!direct) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${INSPECT_FLAG}`.trim();
    // Its own process group, so the whole tree can be killed at once.
    this.child = spawn(file!, direct ? [INSPECT_FLAG, ...args] : args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (error) => reject(new ReachError(`could not start ${file}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error })));
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: performance.now() };
        resolve(this.exit);
      });
    });
    this.exited.catch(bestEffort('starting the service (reported where the exit is awaited)'));
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.child[stream]!, crlfDelay: Infinity }).on('line', (line) => {
        const inspector = /^Debugger listening on (ws:\/\/\S+)/.exec(line);
        if (inspector && stream === 'stderr') {
          this.inspectorPorts.add(Number(new URL(inspector[1]!).port));
          this.track(this.attach(inspector[1]!));
        }
        if (!INSPECTOR_NOISE.some((noise) => noise.test(line))) options.onLine(stream, line);
      });
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get hasExited(): ServiceExit | undefined {
    return this.exit;
  }

  /**
   * A Node process started with our --inspect-brk that we have not released yet: it is paused
   * before its first line, and the only port it listens on is its inspector.
   */
  isPausedByUs(pid: number): boolean {
    if (this.released.has(pid)) return false;
    const words = [...readCmdline(pid), readEnvironVariable(pid, 'NODE_OPTIONS') ?? ''];
    return words.some((word) => word.includes(INSPECT_FLAG));
  }

  /** The app: the first Node process of the tree that is not a package manager. */
  app(): NodeSession | undefined {
    return this.sessions.find((session) => isAlive(session.pid));
  }

  /** Waits until every inspector announced so far has been attached and released. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** SIGKILL the whole tree; returns pids that survived (none, normally). */
  async kill(): Promise<number[]> {
    await Promise.all(this.sessions.map((session) => session.client.close()));
    if (this.child.pid === undefined) return []; // it never started
    return killTree(this.pid, this.pid);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** A Node process of the tree is paused waiting for us: hook it, release it. */
  private async attach(url: string): Promise<void> {
    const port = Number(new URL(url).port);
    let client: CdpClient;
    try {
      client = await CdpClient.connect(url, CALL_TIMEOUT_MS);
    } catch (error) {
      this.warnings.push(`could not attach to the Node process on inspector port ${port}: ${messageOf(error)}`);
      return;
    }
    const pid = await this.pidListeningOn(port);
    const command = pid ? readCmdline(pid) : [];
    const wrapper = isPackageManager(command);
    try {
      if (!wrapper) {
        if (this.prepare) this.warnings.push(...await this.prepare(client, pid));
        // A drained loop waits for the debugger to go away: never hold an exit up.
        client.on('NodeRuntime.waitingForDisconnect', () => void client.close());
        await client.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true }, CALL_TIMEOUT_MS);
      }
      await releaseWorkers(client);
      await client.send('Runtime.runIfWaitingForDebugger', {}, CALL_TIMEOUT_MS);
    } catch (error) {
      this.warnings.push(`could not prepare the Node process on inspector port ${port}: ${messageOf(error)}`);
    }
    if (pid) this.released.add(pid);
    if (wrapper || !pid) {
      await client.close();
      return;
    }
    this.sessions.push({ pid, port, command, client });
  }

  private async pidListeningOn(port: number): Promise<number | undefined> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      for (const pid of [this.pid, ...descendantsOf(this.pid)]) {
        if (listeningTcp(pid).some((row) => row.localPort === port)) return pid;
      }
      await sleep(10);
    }
    return undefined;
  }
}

/**
 * A process started with --inspect-brk starts each worker thread paused too, waiting for a
 * debugger (a pino transport, a piscina pool would never run). Through the NodeWorker domain
 * every worker, now and later, is let go at once and left alone.
 */
async function releaseWorkers(client: CdpClient): Promise<void> {
  client.on('NodeWorker.attachedToWorker', (event) => {
    // Sent whatever `waitingForDebugger` says: Node 20 reports false for a worker that waits.
    const message = JSON.stringify({ id: 1, method: 'Runtime.runIfWaitingForDebugger' });
    void client.send('NodeWorker.sendMessageToWorker', { sessionId: event.sessionId, message }, CALL_TIMEOUT_MS)
      .catch(bestEffort('releasing a worker thread paused at start'))
      .then(() => client.send('NodeWorker.detach', { sessionId: event.sessionId }, CALL_TIMEOUT_MS))
      .catch(bestEffort('detaching from a worker thread'));
  });
  await client.send('NodeWorker.enable', { waitForDebuggerOnStart: false }, CALL_TIMEOUT_MS);
}


/** npm, npx, yarn, pnpm and corepack run the app; they are not the app. */
export function isPackageManager(command: string[]): boolean {
  const script = command.find((word, index) => index > 0 && !word.startsWith('-')) ?? '';
  return /(^|\/)(npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)(-cli)?(\.c?js)?$/.test(script)
    || /\/node_modules\/(npm|yarn|pnpm|corepack)\/bin\//.test(script)
    || /\/node_modules\/(npm|yarn|pnpm|corepack)\//.test(script);
}
