// Reading a process from the outside through /proc. Every reader tolerates the process
// vanishing between two reads: it returns undefined or an empty list instead of throwing.
import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { bestEffort } from '../core/debug.js';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R running, S sleeping, D disk sleep, Z zombie, T stopped, ... */
  state: string;
  ppid: number;
  pgrp: number;
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
  /** Clock ticks after boot when it started: with the pid, names a process uniquely. */
  startTicks: number;
}

/**
 * A process (or thread) that is gone, or another user's that we may not read, is normal here;
 * anything else is traced under RELOAD_DOCTOR_DEBUG.
 */
function unreadable<T>(path: string, error: unknown, fallback: T): T {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM' ? fallback : bestEffort(`reading ${path}`, fallback)(error);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return unreadable(path, error, undefined);
  }
}

export function readDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    return unreadable(path, error, []);
  }
}

export function readStat(pid: number, tid?: number): ProcStat | undefined {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const text = readText(path);
  if (!text) return undefined;
  // comm is in parentheses and may itself contain spaces and parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    utimeTicks: Number(rest[11]),
    stimeTicks: Number(rest[12]),
    threads: Number(rest[17]),
    startTicks: Number(rest[19]),
  };
}

/** Alive means present and not a zombie: kill(pid, 0) also succeeds on a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

export function readCmdline(pid: number): string[] {
  const text = readText(`/proc/${pid}/cmdline`);
  if (!text) return [];
  return text.split('\0').filter((part, i, all) => part !== '' || i < all.length - 1);
}

export function readEnvironVariable(pid: number, name: string): string | undefined {
  const text = readText(`/proc/${pid}/environ`);
  if (!text) return undefined;
  const prefix = `${name}=`;
  return text.split('\0').find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
}

/** The executable of a process, as its own mount namespace names it (" (deleted)" dropped). */
export function readExecutable(pid: number): string | undefined {
  return readLink(`/proc/${pid}/exe`)?.replace(/ \(deleted\)$/, '');
}

/** Its pids from the outermost pid namespace (ours, usually) to its own: [12345, 1] in a container. */
export function readNsPids(pid: number): number[] {
  const nspid = readStatusFields(pid).get('NSpid');
  return nspid ? nspid.split(/\s+/).map(Number).filter(Number.isInteger) : [];
}

/** The namespace a process lives in ("net:[4026531840]"), to compare with ours. */
export function namespaceOf(pid: number | 'self', kind: 'net' | 'pid' | 'mnt'): string | undefined {
  return readLink(`/proc/${pid}/ns/${kind}`);
}

export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch (error) {
    return unreadable(path, error, undefined);
  }
}

export function readStatusFields(pid: number, tid?: number): Map<string, string> {
  const path = tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`;
  const fields = new Map<string, string>();
  for (const line of (readText(path) ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Whether the process catches / ignores a signal, from SigCgt and SigIgn in /proc/<pid>/status. */
export function signalDisposition(pid: number, signalNumber: number): 'caught' | 'ignored' | 'default' | 'unknown' {
  const fields = readStatusFields(pid);
  const bit = 1n << BigInt(signalNumber - 1);
  const caught = fields.get('SigCgt');
  const ignored = fields.get('SigIgn');
  if (caught === undefined || ignored === undefined) return 'unknown';
  if (BigInt(`0x${ignored}`) & bit) return 'ignored';
  if (BigInt(`0x${caught}`) & bit) return 'caught';
  return 'default';
}

export function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readDir(`/proc/${pid}/fd`)) {
    const target = readLink(`/proc/${pid}/fd/${fd}`);
    const match = target && /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

export interface SocketRow {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  inode: number;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // IPv4, one little-endian 32-bit word.
    const bytes = hex.match(/../g)!.map((b) => parseInt(b, 16)).reverse();
    return bytes.join('.');
  }
  // IPv6: four little-endian 32-bit words.
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  const v4mapped = groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff';
  if (v4mapped) return decodeAddress(hex.slice(24));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  const text = groups.join(':');
  const longest = text.match(/(^|:)0(:0)+(:|$)/g)?.sort((a, b) => b.length - a.length)[0];
  return longest ? text.replace(longest, '::') : text;
}

/** Sockets of the network namespace the pid lives in, as /proc/<pid>/net/* shows them. */
export function readSocketTable(pid: number, wanted?: RowFilter): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const protocol of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const text = readTable(`/proc/${pid}/net/${protocol}`);
    if (text) rows.push(...parseSocketRows(protocol, text.split('\n').slice(1), wanted));
  }
  return rows;
}

/**
 * A /proc file in pieces of `size` bytes, each given to `take` until it returns true (enough):
 * readFileSync reads a /proc file (size 0) in small pieces and joins them, 50-90 ms for a table
 * of 20,000 sockets; pieces of 128 KiB take 25 ms (1 MiB is slower again, 4 KiB no faster).
 * False if the file could not be read.
 */
function readInPieces(path: string, size: number, take: (text: string) => boolean): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return unreadable(path, error, false);
  }
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      if (take(buffer.toString('latin1', 0, read))) break;
    }
    return true;
  } catch (error) {
    return unreadable(path, error, false);
  } finally {
    closeSync(fd);
  }
}

/** The process's memory map (/proc/PID/maps), up to maxBytes. */
export function readMaps(pid: number, maxBytes = 16 << 20): string | undefined {
  const pieces: string[] = [];
  let length = 0;
  return readInPieces(`/proc/${pid}/maps`, 128 * 1024, (text) => (pieces.push(text), (length += text.length) >= maxBytes)) ? pieces.join('') : undefined;
}

/** A socket table whole. */
function readTable(path: string): string | undefined {
  const pieces: string[] = [];
  return readInPieces(path, 128 * 1024, (text) => (pieces.push(text), false)) ? pieces.join('') : undefined;
}

/**
 * The listening TCP sockets of the pid's network namespace. The kernel lists listening sockets
 * before any connection (the listening hash, then the established one), so the table is read
 * only until its first row that is not LISTEN: with 20,000 connections that is a few kilobytes,
 * not megabytes.
 */
export function readListeningTcp(pid: number): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const protocol of ['tcp', 'tcp6'] as const) {
    let rest = '';
    let header = true;
    readInPieces(`/proc/${pid}/net/${protocol}`, 16 * 1024, (text) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop()!;
      if (header) {
        lines.shift();
        header = false;
      }
      // Only the LISTEN rows are decoded; the first other row ends the read.
      let connection = false;
      rows.push(...parseSocketRows(protocol, lines, (state) => state === 'LISTEN' || ((connection = true), false)));
      return connection;
    });
  }
  return rows;
}

/**
 * Rows are fixed-width after "sl: ": addresses of 8 (IPv4) or 32 (IPv6) hex digits, ":port", then
 * the state. A busy server has tens of thousands of rows: only the ones asked for are split and
 * decoded.
 */
function parseSocketRows(protocol: SocketRow['protocol'], lines: string[], wanted?: RowFilter): SocketRow[] {
  const rows: SocketRow[] = [];
  const width = protocol.endsWith('6') ? 32 : 8;
  for (const line of lines) {
    const at = line.indexOf(': ') + 2;
    if (at < 2 || line.length < at + 2 * (width + 6) + 2) continue;
    const local = line.slice(at, at + width + 5);
    const remote = line.slice(at + width + 6, at + 2 * (width + 5) + 1);
    const stateCode = line.slice(at + 2 * (width + 6), at + 2 * (width + 6) + 2);
    const state = protocol.startsWith('tcp') ? (TCP_STATES[stateCode] ?? stateCode) : 'UNCONN';
    const localPort = parseInt(local.slice(width + 1), 16);
    const remotePort = parseInt(remote.slice(width + 1), 16);
    if (wanted && !wanted(state, localPort, remotePort)) continue;
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    rows.push({
      protocol,
      localAddress: decodeAddress(local.slice(0, width)),
      localPort,
      remoteAddress: decodeAddress(remote.slice(0, width)),
      remotePort,
      state,
      inode: Number(cols[9]),
    });
  }
  return rows;
}

/** Which rows of a socket table to decode: by state and ports, known before decoding addresses. */
export type RowFilter = (state: string, localPort: number, remotePort: number) => boolean;

/**
 * Which of these socket inodes the pid holds. The fds where such a look found sockets lately
 * are read first (a new socket takes the lowest free fd: often the one our last window's socket
 * left); then, if any is still missing, every fd, newest first (a socket just opened, like an
 * inspector's, has one of the highest numbers), stopping once all are found. Listing the fds of
 * a process with 20,000 sockets costs 20-30 ms; reading a few of them, microseconds.
 */
export function heldInodes(pid: number, inodes: Iterable<number>): Set<number> {
  const wanted = new Set(inodes);
  const held = new Set<number>();
  if (wanted.size === 0) return held;
  const foundAt: number[] = [];
  const read = (fd: number) => {
    const match = /^socket:\[(\d+)\]$/.exec(readLink(`/proc/${pid}/fd/${fd}`) ?? '');
    if (match && wanted.has(Number(match[1])) && !held.has(Number(match[1]))) {
      held.add(Number(match[1]));
      foundAt.push(fd);
    }
    return held.size === wanted.size;
  };
  const tried = new Set<number>();
  const hinted = (recentSocketFds.get(pid) ?? []).flatMap((fd) => [fd, fd - 1, fd + 1, fd - 2, fd + 2, fd - 3, fd + 3]).filter((fd) => fd >= 0);
  const foundAll = hinted.some((fd) => !tried.has(fd) && (tried.add(fd), read(fd)));
  if (!foundAll) readDir(`/proc/${pid}/fd`).map(Number).sort((a, b) => b - a).some((fd) => !tried.has(fd) && read(fd));
  rememberSocketFds(pid, foundAt);
  return held;
}

/** Per pid, the fds where heldInodes found what it looked for lately (they and their neighbours are tried first): a hint only, always read again. */
const recentSocketFds = new Map<number, number[]>();

function rememberSocketFds(pid: number, fds: number[]): void {
  if (fds.length === 0) return;
  // Kept with the earlier ones: a window's listener and its session take different free fds, and take them again next time.
  const kept = [...new Set([...fds, ...(recentSocketFds.get(pid) ?? [])])].slice(0, 8);
  recentSocketFds.delete(pid);
  recentSocketFds.set(pid, kept);
  // A few targets at a time: the oldest goes.
  if (recentSocketFds.size > 16) recentSocketFds.delete(recentSocketFds.keys().next().value!);
}

/** The rows of its namespace's tables whose sockets this pid holds. */
export function heldBy(pid: number, rows: SocketRow[]): SocketRow[] {
  const held = heldInodes(pid, rows.map((row) => row.inode));
  return rows.filter((row) => held.has(row.inode));
}

/** The sockets this pid holds (its fds matched against its namespace's tables). */
export function processSockets(pid: number, wanted?: RowFilter): SocketRow[] {
  return heldBy(pid, readSocketTable(pid, wanted));
}

export function listeningTcp(pid: number): SocketRow[] {
  return heldBy(pid, readListeningTcp(pid));
}

export interface ThreadInfo {
  tid: number;
  name: string;
  state: string;
  wchan?: string;
  syscall?: string;
  voluntarySwitches?: number;
}

const SYSCALL_NAMES: Record<number, string> = {
  0: 'read', 1: 'write', 7: 'poll', 23: 'select', 35: 'nanosleep', 61: 'wait4', 202: 'futex',
  232: 'epoll_wait', 270: 'pselect6', 271: 'ppoll', 281: 'epoll_pwait', 230: 'clock_nanosleep',
  247: 'waitid', 43: 'accept', 288: 'accept4', 45: 'recvfrom', 47: 'recvmsg', 441: 'epoll_pwait2',
};

export function readThreads(pid: number): ThreadInfo[] {
  return readDir(`/proc/${pid}/task`).map((tidText) => {
    const tid = Number(tidText);
    const stat = readStat(pid, tid);
    const wchan = readText(`/proc/${pid}/task/${tid}/wchan`)?.trim();
    const syscallText = readText(`/proc/${pid}/task/${tid}/syscall`)?.trim();
    const syscallNumber = syscallText ? Number(syscallText.split(' ')[0]) : NaN;
    const syscall = Number.isNaN(syscallNumber)
      ? syscallText || undefined
      : (SYSCALL_NAMES[syscallNumber] ?? `syscall ${syscallNumber}`);
    const switches = readStatusFields(pid, tid).get('voluntary_ctxt_switches');
    return {
      tid,
      name: stat?.comm ?? '?',
      state: stat?.state ?? '?',
      wchan: wchan && wchan !== '0' ? wchan : undefined,
      syscall,
      voluntarySwitches: switches === undefined ? undefined : Number(switches),
    };
  });
}

export function readChildren(pid: number): number[] {
  const children: number[] = [];
  for (const tid of readDir(`/proc/${pid}/task`)) {
    const text = readText(`/proc/${pid}/task/${tid}/children`) ?? '';
    for (const child of text.trim().split(/\s+/)) if (child) children.push(Number(child));
  }
  return children;
}

/** Finds which process holds a socket inode: the likely ones first, then every process (slow). */
export function findSocketOwner(inode: number, likely: Array<number | undefined> = []): number | undefined {
  for (const pid of likely) if (pid !== undefined && socketInodes(pid).has(inode)) return pid;
  for (const entry of readDir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (socketInodes(Number(entry)).has(inode)) return Number(entry);
  }
  return undefined;
}

/** Voluntary context switches of all its threads: each one is a wake-up after a wait. */
export function voluntarySwitches(pid: number): number | undefined {
  let total = 0;
  let seen = false;
  for (const tid of readDir(`/proc/${pid}/task`)) {
    const count = readStatusFields(pid, Number(tid)).get('voluntary_ctxt_switches');
    if (count === undefined) continue;
    total += Number(count);
    seen = true;
  }
  return seen ? total : undefined;
}

export interface ThreadWait {
  /** R running, S sleeping, D disk sleep, T stopped, … */
  state: string;
  /** The system call it waits in (epoll_wait, futex, wait4, …), when it waits in one. */
  syscall?: string;
  /** The call's first argument: for epoll_wait, the epoll fd (which event loop it waits on). */
  firstArg?: number;
}

/** What a thread is doing right now (the main thread: tid = pid). */
export function threadWait(pid: number, tid = pid): ThreadWait | undefined {
  const stat = readStat(pid, tid);
  if (!stat) return undefined;
  const fields = readText(`/proc/${pid}/task/${tid}/syscall`)?.trim().split(' ') ?? [];
  const number = Number(fields[0]);
  return {
    state: stat.state,
    syscall: Number.isInteger(number) && fields.length > 1 ? (SYSCALL_NAMES[number] ?? `syscall ${number}`) : undefined,
    firstArg: fields[1]?.startsWith('0x') ? parseInt(fields[1], 16) : undefined,
  };
}

/** Every live process whose environment has `name` set to a value for which `matches` holds. */
export function processesWithEnvironment(name: string, matches: (value: string) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readDir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const value = readEnvironVariable(pid, name);
    if (value !== undefined && matches(value) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** Stopped by a signal (SIGSTOP, SIGTSTP) or held by a debugger: it runs no code until continued. */
export function isStopped(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state === 'T' || state === 't';
}
