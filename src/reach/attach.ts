// Attach to a running Node process: open its inspector with SIGUSR1, find the port it bound
// through /proc (never assume 9229), connect over CDP. Close only what we opened.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { bestEffort } from '../core/debug.js';
import { ReachError, messageOf } from '../core/errors.js';
import { settleWithin } from '../core/time.js';
import { closeInspector } from '../in-target/process-facts.js';
import { CdpClient } from './cdp-client.js';
import { callInTarget } from './in-target-call.js';
import {
  findSocketOwner, isAlive, listeningTcp, readCmdline, readEnvironVariable, readSocketTable, readThreads, type SocketRow,
} from './proc.js';

export interface InspectorSession {
  client: CdpClient;
  port: number;
  /** We started the inspector (SIGUSR1), so we must close it again. */
  openedByUs: boolean;
  release(): Promise<ReleaseResult>;
}

export interface ReleaseResult {
  /** Set when something could not be put back as it was. */
  warning?: string;
}

/** The target died while we were attaching: a verdict, not a failure. */
export class TargetGoneError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1', 'localhost']);
const DEFAULT_INSPECTOR_PORT = 9229;

export async function attachInspector(pid: number, portWaitMs = 3000): Promise<InspectorSession> {
  const before = listeningTcp(pid);
  // An inspector opened by the command line is already there: SIGUSR1 would open nothing new.
  // So is one opened by an earlier SIGUSR1: it holds the default port. Probe only that port
  // (an HTTP request to the app's own ports would leave traces in the app).
  const candidates = mentionsInspect(pid) ? loopbackPorts(before) : loopbackPorts(before).filter((port) => port === DEFAULT_INSPECTOR_PORT);
  if (candidates.length > 0) {
    const existing = await findInspectorAmong(candidates);
    if (existing) return connect(pid, existing, false);
  }
  process.kill(pid, 'SIGUSR1');
  const known = new Set(before.map((row) => row.inode));
  const deadline = Date.now() + portWaitMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
    const fresh = listeningTcp(pid).filter((row) => !known.has(row.inode));
    if (fresh.length > 0) {
      const found = await findInspectorAmong(fresh.map((row) => row.localPort), 1500);
      if (found) return connect(pid, found, true);
    }
    await sleep(10);
  }
  // No new port: maybe an inspector was open already (an earlier SIGUSR1).
  const existing = await findInspectorAmong(loopbackPorts(before));
  if (existing) return connect(pid, existing, false);
  if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
  throw new ReachError(explainNoInspector(pid));
}

interface FoundInspector { port: number; webSocketUrl: string }

async function connect(pid: number, found: FoundInspector, openedByUs: boolean): Promise<InspectorSession> {
  let client: CdpClient;
  try {
    client = await CdpClient.connect(found.webSocketUrl, 3000);
  } catch (error) {
    if (!isAlive(pid)) throw new TargetGoneError(`process ${pid} exited while we attached`);
    // Without a session we cannot ask the target to close an inspector we opened: say so.
    const leftOpen = openedByUs ? `; the inspector SIGUSR1 opened still listens on 127.0.0.1:${found.port}` : '';
    throw new ReachError(`could not connect to the inspector on port ${found.port}: ${messageOf(error)}${leftOpen}`, { cause: error });
  }
  return {
    client,
    port: found.port,
    openedByUs,
    release: () => release(pid, client, found.port, openedByUs),
  };
}

async function release(pid: number, client: CdpClient, port: number, openedByUs: boolean): Promise<ReleaseResult> {
  if (client.isClosed || !isAlive(pid)) return {};
  if (!openedByUs) {
    await client.close();
    return {};
  }
  // inspector.close() drops our own socket within a few ms: the close IS the success signal
  // (so the call itself never gets its answer).
  callInTarget(client, closeInspector, [], 2000).catch(bestEffort('the answer to inspector.close() (expected: the socket closes first)'));
  const closed = await settleWithin(client.whenClosed().then(() => true), 2000);
  if (!closed) {
    await client.close();
    return { warning: `could not close the inspector we opened in pid ${pid} (the target does not answer): it still listens on 127.0.0.1:${port}` };
  }
  return {};
}

function mentionsInspect(pid: number): boolean {
  const words = [...readCmdline(pid), readEnvironVariable(pid, 'NODE_OPTIONS') ?? ''];
  return words.some((word) => /--inspect(-brk|-wait)?(=|$|\s)/.test(word));
}

function loopbackPorts(rows: SocketRow[]): number[] {
  return rows.filter((row) => LOOPBACK.has(row.localAddress)).map((row) => row.localPort);
}

/** GET /json/list on each port; `Connection: close` so no keep-alive socket stays behind. */
async function findInspectorAmong(ports: number[], timeoutMs = 800): Promise<FoundInspector | undefined> {
  for (const port of ports) {
    const list = await getJson(port, '/json/list', timeoutMs).catch(bestEffort(`GET /json/list on port ${port}`));
    const url = Array.isArray(list)
      ? list.map((entry: { webSocketDebuggerUrl?: unknown }) => entry?.webSocketDebuggerUrl).find((candidate): candidate is string => typeof candidate === 'string')
      : undefined;
    if (url) return { port, webSocketUrl: url };
  }
  return undefined;
}

function getJson(port: number, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; if (body.length > 1 << 20) request.destroy(); });
      response.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (error) { reject(error); }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Why SIGUSR1 opened no inspector, in one line a person can act on. */
function explainNoInspector(pid: number): string {
  const holder = readSocketTable(pid).find((row) => row.state === 'LISTEN' && row.localPort === DEFAULT_INSPECTOR_PORT);
  if (holder) {
    const owner = findSocketOwner(holder.inode);
    const who = owner !== undefined && owner !== pid ? `pid ${owner} (${readCmdline(owner).join(' ').slice(0, 60)})` : 'another process';
    return `the target could not open its inspector: port ${DEFAULT_INSPECTOR_PORT} is held by ${who}; free it, or start the target with --inspect=127.0.0.1:0`;
  }
  const main = readThreads(pid).find((thread) => thread.tid === pid);
  const where = main ? ` (its main thread is in ${main.syscall ?? main.state}${main.wchan ? `, ${main.wchan}` : ''})` : '';
  return `the target did not open its inspector on SIGUSR1${where}: either it has its own process.on('SIGUSR1') listener, or it is blocked in a long synchronous call (then its inspector opens once the call returns); start it with --inspect=127.0.0.1:0, or use \`reload-doctor run\``;
}
