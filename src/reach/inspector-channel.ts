// A way to the target's inspector port, in the target's own network namespace. In a
// container, 127.0.0.1 is the container's loopback: connecting to 127.0.0.1:<port> from the
// host would reach another socket (or an impostor). So when the namespaces differ, a relay is
// started inside the target's (nsenter -t <pid> -n) and reached through a Unix socket in a
// private directory of ours.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestEffort, debug } from '../core/debug.js';
import { ReachError, messageOf } from '../core/errors.js';
import { settleWithin } from '../core/time.js';
import { CdpClient } from './cdp-client.js';
import { namespaceOf } from './proc.js';

export interface InspectorChannel {
  readonly port: number;
  /** The relay inside the target's network namespace, when one was needed: its connections are ours. */
  readonly relayPid?: number;
  /** GET a JSON document from the inspector's HTTP side (`Connection: close`: nothing stays open). */
  getJson(path: string, timeoutMs: number): Promise<unknown>;
  connect(webSocketUrl: string, timeoutMs: number): Promise<CdpClient>;
  close(): void;
}

const RELAY = fileURLToPath(new URL('./netns-relay.js', import.meta.url));
const MAX_JSON_BYTES = 1 << 20;

/** True when the target's network namespace is not ours: its loopback is not ours either. */
export function inOtherNetworkNamespace(pid: number): boolean {
  const theirs = namespaceOf(pid, 'net');
  return theirs !== undefined && theirs !== namespaceOf('self', 'net');
}

export async function openChannel(pid: number, port: number): Promise<InspectorChannel> {
  if (!inOtherNetworkNamespace(pid)) return direct(port);
  return relayed(pid, port);
}

function direct(port: number): InspectorChannel {
  return {
    port,
    getJson: (path, timeoutMs) => getJson({ host: '127.0.0.1', port }, port, path, timeoutMs),
    connect: (url, timeoutMs) => CdpClient.connect(url, timeoutMs),
    close() {},
  };
}

async function relayed(pid: number, port: number): Promise<InspectorChannel> {
  const dir = mkdtempSync(join(tmpdir(), 'reload-doctor-')); // mode 0700: ours alone
  const socketPath = join(dir, 'inspector.sock');
  let relay: ChildProcess;
  try {
    relay = spawn('nsenter', ['-t', String(pid), '-n', '--', process.execPath, RELAY, socketPath, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    await relayReady(relay);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new ReachError(`pid ${pid} lives in another network namespace (a container) and reload-doctor could not enter it to reach its inspector (${messageOf(error)}): run it as root on the host, or inside the container`, { cause: error });
  }
  return {
    port,
    relayPid: relay.pid,
    getJson: (path, timeoutMs) => getJson({ socketPath }, port, path, timeoutMs),
    connect: (url, timeoutMs) => CdpClient.connect(url, timeoutMs, { socketPath }),
    close() {
      relay.stdin?.end();
      relay.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function relayReady(relay: ChildProcess): Promise<void> {
  let stderr = '';
  relay.stderr?.on('data', (chunk) => { stderr += chunk; debug(String(chunk).trim()); });
  const ready = new Promise<void>((resolve, reject) => {
    relay.stdout?.on('data', (chunk) => { if (String(chunk).includes('ready')) resolve(); });
    relay.once('error', reject);
    relay.once('exit', (code) => reject(new Error(stderr.trim().split('\n').pop() || `the relay exited (${code})`)));
  });
  const done = await settleWithin(ready.then(() => true), 5000);
  if (!done) {
    relay.kill('SIGKILL');
    throw new Error('the relay did not start within 5 s');
  }
}

function getJson(where: { host: string; port: number } | { socketPath: string }, port: number, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // The Host header the inspector expects, however the bytes get there.
    const headers = { Connection: 'close', Host: `127.0.0.1:${port}` };
    const request = http.get({ ...where, path, agent: false, headers, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; if (body.length > MAX_JSON_BYTES) request.destroy(new Error('answer too large')); });
      response.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (error) { reject(error); }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Closes a channel, tracing (never throwing) what goes wrong. */
export function closeChannel(channel: InspectorChannel | undefined): void {
  try {
    channel?.close();
  } catch (error) {
    bestEffort('closing the inspector channel')(error);
  }
}
