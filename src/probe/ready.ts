// When is a freshly started service ready to be signalled? `--ready` says how to tell:
//   port:3000            a TCP connect to 127.0.0.1:3000 succeeds
//   http://host/health   a GET answers 2xx
//   log:<regex>          a line of its stdout/stderr matches
//   delay:2s             a fixed wait
// By default: the first TCP port any process of the tree listens on, or 2 s if none does.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, messageOf } from '../core/errors.js';
import { listeningTcp } from '../reach/proc.js';
import { descendantsOf } from '../reach/descendants.js';
import { formatDuration, parseDuration } from '../core/duration.js';

export type ReadySpec =
  | { kind: 'port'; port: number }
  | { kind: 'http'; url: URL }
  | { kind: 'log'; pattern: RegExp }
  | { kind: 'delay'; ms: number }
  | { kind: 'auto' };

const POLL_MS = 50;
const AUTO_FALLBACK_MS = 2000;

export function parseReadySpec(text: string | undefined): ReadySpec {
  if (text === undefined || text === 'auto') return { kind: 'auto' };
  if (text.startsWith('port:')) {
    const digits = text.slice(5);
    const port = /^\d{1,5}$/.test(digits) ? Number(digits) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new UsageError(`invalid --ready "${text}": the port must be a decimal number from 1 to 65535`);
    return { kind: 'port', port };
  }
  if (/^https?:\/\//.test(text)) {
    try {
      return { kind: 'http', url: new URL(text) };
    } catch (error) {
      throw new UsageError(`invalid --ready "${text}": not a URL`, { cause: error });
    }
  }
  if (text.startsWith('log:')) {
    try {
      return { kind: 'log', pattern: new RegExp(text.slice(4)) };
    } catch (error) {
      throw new UsageError(`invalid --ready "${text}": ${messageOf(error)}`, { cause: error });
    }
  }
  if (text.startsWith('delay:')) return { kind: 'delay', ms: parseDuration(text.slice(6), '--ready delay') };
  throw new UsageError(`invalid --ready "${text}": use port:<n>, http://…, log:<regex> or delay:<duration>`);
}

export function describeReadySpec(spec: ReadySpec): string {
  switch (spec.kind) {
    case 'port': return `port ${spec.port} accepts connections`;
    case 'http': return `${spec.url.href} answers 2xx`;
    case 'log': return `output matches /${spec.pattern.source}/`;
    case 'delay': return `${formatDuration(spec.ms)} passed`;
    case 'auto': return 'the service listens on a TCP port';
  }
}

export interface ReadyContext {
  rootPid: number;
  /** Subscribes to the service's output lines; returns the unsubscribe. */
  onLine: (listener: (line: string) => void) => () => void;
}

/** Resolves with what made it ready; `abort` rejects it (the service exited). */
export async function waitUntilReady(spec: ReadySpec, context: ReadyContext, signal: AbortSignal): Promise<string> {
  switch (spec.kind) {
    case 'delay':
      await sleep(spec.ms, undefined, { signal });
      return describeReadySpec(spec);
    case 'log':
      return new Promise((resolve, reject) => {
        const unsubscribe = context.onLine((line) => {
          if (!spec.pattern.test(line)) return;
          unsubscribe();
          resolve(`output matched: ${line.trim().slice(0, 80)}`);
        });
        signal.addEventListener('abort', () => { unsubscribe(); reject(signal.reason); }, { once: true });
      });
    case 'port':
      while (!(await connects(spec.port))) await sleep(POLL_MS, undefined, { signal });
      return describeReadySpec(spec);
    case 'http':
      while (!(await answers2xx(spec.url))) await sleep(POLL_MS, undefined, { signal });
      return describeReadySpec(spec);
    case 'auto': {
      const deadline = Date.now() + AUTO_FALLBACK_MS;
      while (Date.now() < deadline) {
        const port = firstListeningPort(context);
        if (port !== undefined) return `the service listens on port ${port}`;
        await sleep(POLL_MS, undefined, { signal });
      }
      return `${formatDuration(AUTO_FALLBACK_MS)} passed (it listens on no TCP port)`;
    }
  }
}

function firstListeningPort(context: ReadyContext): number | undefined {
  for (const pid of [context.rootPid, ...descendantsOf(context.rootPid)]) {
    const row = listeningTcp(pid)[0];
    if (row) return row.localPort;
  }
  return undefined;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function answers2xx(url: URL): Promise<boolean> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    // No keep-alive: a socket left in the service would be one more thing holding it.
    const request = client.get(url, { agent: false, headers: { Connection: 'close' }, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
