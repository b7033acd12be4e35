// How shared things read, in every report and finding: a source location, a package.
import type { Finding, PackageRef, PythonGreenlet, Runtime, SourceLocation, Target } from './types.js';

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/** A place in a library (a package) or in Node itself, or no place at all: not a line of the app. */
export function inLibrary(location: SourceLocation | undefined): boolean {
  return location === undefined || location.internal || location.package !== undefined;
}

export function packageLabel(ref: PackageRef | undefined): string {
  return ref ? `${ref.name}@${ref.version ?? '?'}` : '';
}

/** "node v20.20.2", "Deno", or "not Node.js". */
export function describeRuntime(runtime: Runtime): string {
  if (runtime.kind === 'node') return `node ${runtime.version ?? ''}`.trim();
  return runtime.name ?? 'not Node.js';
}

/** "pid 12345", or "pid 12345 (pid 1 in its namespace)" for a process in a container. */
export function describePid(target: Pick<Target, 'pid' | 'nsPid'>): string {
  return target.nsPid !== undefined ? `pid ${target.pid} (pid ${target.nsPid} in its namespace)` : `pid ${target.pid}`;
}

/** `reload-doctor run` loads its preload from a directory named so (reach/spawn.ts). */
export const RUN_DIR_PREFIX = 'reload-doctor-run-';

/** A command line without what `reload-doctor run` added to it (--require of its preload): the user's command, as they wrote it. */
export function withoutRunFlags(argv: string[]): string[] {
  const ours = (word: string | undefined) => word !== undefined && word.includes(`/${RUN_DIR_PREFIX}`);
  return argv.filter((word, index) => !((word === '--require' || word === '-r') && ours(argv[index + 1])) && !ours(word) && !(word.startsWith('--require=') && ours(word)));
}

/** A greenlet as a person knows it: the thread it runs (monkey-patched), else what gevent calls it. */
export function greenletName(g: PythonGreenlet): string {
  if (g.thread) return g.thread;
  if (g.type === 'Hub') return 'the gevent hub';
  if (g.main) return 'the main greenlet';
  if (g.type === '_WorkerGreenlet') return "gevent's threadpool worker";
  const top = g.stack.at(-1);
  return `${g.name ?? g.type}${top ? ` in ${top.function}` : ''}`;
}

/** "held by `client` in src/db.js, line 3: client.topology.s.servers…" (a library finding's app holder). */
export function formatHeldBy(heldBy: NonNullable<Finding['heldBy']>): string {
  const scope = heldBy.scope === 'closure' ? ` (captured by ${heldBy.closureOf ? `a closure of ${heldBy.closureOf}` : 'a closure'})` : '';
  return `${heldBy.how} \`${heldBy.variable}\` in ${heldBy.location.file}, line ${heldBy.location.line}${scope}: ${heldBy.path}`;
}
