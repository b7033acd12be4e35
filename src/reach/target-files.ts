// Files a target names (its uWSGI ini, the package.json of a package it loaded) are read as
// hostile: only regular files, never more than a cap, never blocking. A FIFO or a device
// named there would otherwise hang reload-doctor (a FIFO blocks on open; /dev/zero never
// ends) while it holds the target's inspector open, deaf to Ctrl-C.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { bestEffort } from '../core/debug.js';

const DEFAULT_MAX_BYTES = 1 << 20;

/** The file's text, or undefined (traced under RELOAD_DOCTOR_DEBUG) if it is not a small regular file. */
export function readTargetFile(path: string, maxBytes = DEFAULT_MAX_BYTES, options: { noFollow?: boolean } = {}): string | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO does not wait for a writer. O_NOCTTY: a terminal is never adopted.
    // noFollow: a file the target itself wrote, where it could have put a symlink instead.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (options.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (error) {
    return bestEffort(`opening ${path}`, undefined)(error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return bestEffort(`reading ${path}`, undefined)(new Error('not a regular file'));
    if (stat.size > maxBytes) return bestEffort(`reading ${path}`, undefined)(new Error(`larger than ${maxBytes} bytes`));
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes));
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    return bestEffort(`reading ${path}`, undefined)(error);
  } finally {
    closeSync(fd);
  }
}
