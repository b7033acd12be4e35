// A file a target may write once, for us to read back: the timeline recorder writes its record
// there as the process exits, when no window can bring it out; the --py-stacks payload writes
// its answer there. Made by us in a private directory, handed to the target's user (it may not
// be ours), read back as any file a target names — a regular file only, capped — and removed
// with its directory.
import { chownSync, chmodSync, existsSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestEffort } from '../core/debug.js';
import { readTargetFile } from './target-files.js';

const MAX_BYTES = 16 * 1024 * 1024;

export interface DropBox {
  /** The path as the target should open it. */
  readonly path: string;
  /** Its text, or undefined while it is not there (or not a small regular file). */
  read(): string | undefined;
  remove(): void;
}

export function createDropBox(pid: number, name: string): DropBox | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'reload-doctor-drop-'));
    const path = join(dir, name);
    writeFileSync(path, '', { mode: 0o600 });
    const owner = statSync(`/proc/${pid}`);
    if (process.getuid?.() === 0 && owner.uid !== 0) {
      // The target writes as its own user: the file is its, the directory only passable.
      chownSync(path, owner.uid, owner.gid);
      chmodSync(dir, 0o711);
    }
    return {
      path,
      read: () => readTargetFile(path, MAX_BYTES),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    return bestEffort('making a file for the target to write', undefined)(error);
  }
}

/**
 * A fresh directory in the target's own /tmp (its mount namespace: a container's, or a
 * PrivateTmp), its user's and only its user's; the target creates `name` there itself (with
 * O_EXCL | O_NOFOLLOW), and it is read back without following a symlink. Only if that /tmp is a
 * real sticky or root-owned directory: a symlink there would be followed from our side of
 * /proc/PID/root, outside the target.
 */
export function createDropBoxInTargetTmp(pid: number, name: string, maxBytes: number): DropBox | undefined {
  try {
    const rootTmp = `/proc/${pid}/root/tmp`;
    const tmp = lstatSync(rootTmp);
    if (!tmp.isDirectory() || ((tmp.mode & 0o1000) === 0 && tmp.uid !== 0)) return undefined;
    const dir = mkdtempSync(`${rootTmp}/reload-doctor-py-`);
    const owner = statSync(`/proc/${pid}`);
    if (process.getuid?.() === 0 && owner.uid !== 0) chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
    const file = join(dir, name);
    return {
      path: `/tmp${dir.slice(rootTmp.length)}/${name}`,
      read: () => (existsSync(file) ? readTargetFile(file, maxBytes, { noFollow: true }) : undefined),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    return bestEffort("making a directory in the target's /tmp", undefined)(error);
  }
}
