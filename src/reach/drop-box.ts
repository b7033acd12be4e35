// A file a target may write once, for us to read back: the timeline recorder writes its record
// there as the process exits, when no window can bring it out. Made by us in a private
// directory, handed to the target's user (it may not be ours), read back as any file a target
// names — a regular file only, capped — and removed with its directory.
import { chownSync, chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestEffort } from '../core/debug.js';
import { readTargetFile } from './target-files.js';

const MAX_BYTES = 16 * 1024 * 1024;

export interface DropBox {
  /** The path as the target should open it. */
  readonly path: string;
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
