// Reading a Python stack the way the Node rules read a JS one: which frames are the app's own,
// which library a thread or greenlet belongs to, and where in the app it came from.
import { posix } from 'node:path';
import type { PythonFrame, PythonHolder, SourceLocation } from '../core/types.js';

/** `pymongo` for .../dist-packages/pymongo/monitor.py (or site-packages; a single-file module too). */
export function pythonPackageOf(file: string): string | undefined {
  const match = /\/(?:site|dist)-packages\/([^/]+)/.exec(file);
  return match ? match[1]!.replace(/\.py$/, '') : undefined;
}

/** Python's own library (threading, concurrent.futures) or a frame with no file (<frozen ...>, <string>). */
export function isPythonStdlib(file: string): boolean {
  return file.startsWith('<') || (/\/lib\/python3(\.\d+)?\//.test(file) && pythonPackageOf(file) === undefined);
}

export function isAppFrame(frame: PythonFrame): boolean {
  return pythonPackageOf(frame.file) === undefined && !isPythonStdlib(frame.file);
}

/** Packages that only carry others' work (the event loop, the greenlet machinery): never the owner. */
const CARRIERS = new Set(['gevent', 'greenlet', 'eventlet']);

/** The library a stack belongs to: the innermost frame's package that is not a carrier. */
export function libraryOfStack(stack: readonly PythonFrame[], known: readonly string[] = []): string | undefined {
  const packages = stack.map((frame) => pythonPackageOf(frame.file)).filter((name): name is string => name !== undefined && !CARRIERS.has(name));
  return known.find((name) => packages.includes(name)) ?? packages.at(-1);
}

/** The app's frame nearest to the library in a stack (outermost first): the line that called into it. */
export function appFrameOf(stack: readonly PythonFrame[]): PythonFrame | undefined {
  return [...stack].reverse().find(isAppFrame);
}

export function pythonLocation(frame: PythonFrame | PythonHolder & { line: number }): SourceLocation {
  const file = posix.normalize(frame.file);
  return { url: file, file, line: frame.line, column: 1, functionName: 'function' in frame ? frame.function : undefined, internal: false };
}

/** "app.py:9 (`client = pymongo.MongoClient(...)`)" */
export function describePythonLine(frame: { file: string; line: number; code?: string }): string {
  const code = frame.code ? ` (\`${shorten(frame.code, 70)}\`)` : '';
  return `${posix.basename(frame.file)}:${frame.line}${code}`;
}

function shorten(code: string, max: number): string {
  if (code.length <= max) return code;
  const call = /^(.*?\()/.exec(code);
  return call && call[1]!.length < max - 4 ? `${call[1]}...)` : `${code.slice(0, max - 1)}…`;
}

/** "module global `client` (app.py:9)" for each holder of a library's objects. */
export function describeHolders(holders: readonly PythonHolder[], library: string | undefined): string | undefined {
  const mine = holders.filter((holder) => library && holder.type.split('.')[0] === library);
  if (mine.length === 0) return undefined;
  return mine.slice(0, 3).map((holder) => `module global \`${holder.name}\`${holder.line ? ` (${posix.basename(holder.file)}:${holder.line})` : ''}`).join(', ');
}

/** "a, b and c", a name given n times as "name (×n)". */
export function listNames(names: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const unique = [...counts].map(([name, n]) => (n > 1 ? `${name} (×${n})` : name));
  if (unique.length <= 1) return unique.join('');
  return `${unique.slice(0, -1).join(', ')} and ${unique.at(-1)}`;
}

/** The innermost frame of a library in a stack: where its loop waits. */
export function libraryFrameOf(stack: readonly PythonFrame[], library: string | undefined): PythonFrame | undefined {
  return library ? [...stack].reverse().find((frame) => pythonPackageOf(frame.file) === library) : undefined;
}
