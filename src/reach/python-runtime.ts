// Where a Python process's interpreter and C library are in its memory, and which CPython it
// is: the addresses gdb is told to call, found from /proc/PID/maps and the mapped files' own
// .dynsym (never from gdb's symbol loading, which stopped the worker ~0.5 s longer). Only a
// CPython whose behaviour --py-stacks relies on has been checked is accepted (see
// VERIFIED_PYTHON): the GIL test and the pending-call path differ from 3.12 on.
import { basename } from 'node:path';
import { readElfExports, type ElfExports } from './elf-symbols.js';
import { readLink, readMaps } from './proc.js';

/** The C API the payload's injection calls (all exported by libpython3.11 and Debian's python3.11). */
export const PYTHON_FUNCTIONS = ['PyGILState_Ensure', 'PyGILState_Release', 'PyRun_SimpleString', 'Py_AddPendingCall', '_PyThreadState_UncheckedGet'] as const;
const LIBC_FUNCTIONS = ['mmap', 'munmap'] as const;

/**
 * CPython minors checked on this machine's seed stack (Debian 12's 3.11): `_PyThreadState_UncheckedGet`
 * returns the GIL holder (NULL when the GIL is free), and a pending call runs on the main thread.
 * 3.12 made the former thread-local and changed pending calls: not verified, so not touched.
 */
export const VERIFIED_PYTHON = ['3.11'];

export type PythonFunction = (typeof PYTHON_FUNCTIONS)[number];
export type LibcFunction = (typeof LIBC_FUNCTIONS)[number];

export interface PythonRuntime {
  /** e.g. "3.11.2" */
  version: string;
  /** The file that holds the interpreter (libpython3.11.so.1.0, or python3.11 itself). */
  library: string;
  python: Record<PythonFunction, bigint>;
  libc: Record<LibcFunction, bigint>;
}

export type PythonLookup = { runtime: PythonRuntime } | { notPython: true } | { unsupported: string };

/** A file's first mapping (file offset 0): its load base, and its name in /proc/PID/map_files. */
interface Mapping { start: bigint; startText: string; end: string; path: string }

export function findPythonRuntime(pid: number): PythonLookup {
  const maps = readMaps(pid);
  if (maps === undefined) return { unsupported: `could not read /proc/${pid}/maps` };
  const files = firstMappings(maps);
  const exe = readLink(`/proc/${pid}/exe`)?.replace(/ \(deleted\)$/, '');
  const pythonCandidates = [...files.values()].filter((m) => /^libpython3\.\d+/.test(basename(m.path)) || m.path === exe);
  let python: { mapping: Mapping; elf: ElfExports } | undefined;
  for (const mapping of pythonCandidates) {
    const elf = openMapped(pid, mapping, [...PYTHON_FUNCTIONS, 'Py_Version']);
    if (elf?.symbols.has('PyRun_SimpleString')) { python = { mapping, elf }; break; }
  }
  if (!python) return { notPython: true };

  const version = pythonVersion(python.elf);
  const minor = version?.split('.').slice(0, 2).join('.');
  if (!version || !VERIFIED_PYTHON.includes(minor!)) {
    return { unsupported: `it runs CPython ${version ?? '< 3.11'}; --py-stacks has been verified on CPython ${VERIFIED_PYTHON.join(', ')} only, so its Python state was not read` };
  }
  const missing = PYTHON_FUNCTIONS.filter((name) => !python!.elf.symbols.has(name));
  if (missing.length > 0) return { unsupported: `${basename(python.mapping.path)} does not export ${missing.join(', ')}` };

  const libcMapping = [...files.values()].find((m) => /^libc\.so\.6$|^libc-2\.\d+\.so$/.test(basename(m.path)));
  const libc = libcMapping && openMapped(pid, libcMapping, LIBC_FUNCTIONS);
  if (!libcMapping || !libc || LIBC_FUNCTIONS.some((name) => !libc.symbols.has(name))) return { unsupported: 'its C library is not glibc (mmap and munmap were not found)' };

  return {
    runtime: {
      version,
      library: python.mapping.path,
      python: addresses(PYTHON_FUNCTIONS, python.mapping, python.elf),
      libc: addresses(LIBC_FUNCTIONS, libcMapping, libc),
    },
  };
}

/** Py_Version (3.11+): 0xMMmmppRS. */
function pythonVersion(elf: ElfExports): string | undefined {
  const bytes = elf.data.get('Py_Version');
  if (!bytes) return undefined;
  const hex = bytes.readUInt32LE(0);
  return `${hex >>> 24}.${(hex >>> 16) & 0xff}.${(hex >>> 8) & 0xff}`;
}

function addresses<N extends string>(names: readonly N[], mapping: Mapping, elf: ElfExports): Record<N, bigint> {
  const base = elf.fixedAddress ? 0n : mapping.start - elf.firstLoadVaddr;
  return Object.fromEntries(names.map((name) => [name, base + elf.symbols.get(name)!])) as Record<N, bigint>;
}

/**
 * The mapped file itself through map_files (the very inode mapped, even if replaced on disk
 * since), else its path inside the target's root (a container's own filesystem).
 */
function openMapped(pid: number, mapping: Mapping, wanted: readonly string[]): ElfExports | undefined {
  return readElfExports(`/proc/${pid}/map_files/${mapping.startText}-${mapping.end}`, wanted)
    ?? readElfExports(`/proc/${pid}/root${mapping.path}`, wanted);
}

/** Each mapped file's mapping at file offset 0 (its load base), by path. */
function firstMappings(maps: string): Map<string, Mapping> {
  const files = new Map<string, Mapping>();
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+ +(\/.*)$/.exec(line);
    if (!match) continue;
    const [, startText, end, offset, path] = match as unknown as [string, string, string, string, string];
    if (BigInt(`0x${offset}`) !== 0n || files.has(path)) continue;
    files.set(path, { start: BigInt(`0x${startText}`), startText, end, path });
  }
  return files;
}
