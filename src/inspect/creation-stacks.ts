// Creation stacks (`run` mode): the hook goes into each of the service's Node processes
// before their first line (src/in-target/creation-hook.ts, loaded by run-preload.ts); once the
// service is ready it stops following ticks (settle); at the deadline the stacks come
// out as V8's text, and this turns them into frames and picks the line a person should look
// at: the first frame in the app's own code (not Node's, not node_modules). A handle created
// inside another resource's callback (a library's timer re-armed in its socket's callback)
// has no stack of its own: its creator's stands in.
import { bestEffort } from '../core/debug.js';
import type { Handle, SourceLocation, StackFrame } from '../core/types.js';
import { CREATION_KEY, settleCreationHook, startupStacksThrough } from '../in-target/creation-hook.js';
import type { CdpClient } from '../reach/cdp-client.js';
import { callInTarget } from '../reach/in-target-call.js';
import type { LocationResolver } from './locations.js';

const CALL_TIMEOUT_MS = 5000;

/** The service is ready: each hook stops following ticks (see creation-hook.ts). */
export async function settleCreationStacks(clients: CdpClient[]): Promise<void> {
  await Promise.all(clients.map((client) => callInTarget(client, settleCreationHook, [CREATION_KEY], CALL_TIMEOUT_MS)
    .catch(bestEffort('settling the creation hook'))));
}

const FRAME = /^\s*at (?:async )?(?:(.+?) \((.+):(\d+):(\d+)\)|(.+):(\d+):(\d+))$/;
const MAX_FRAMES = 12;

export interface Creation {
  /** The handle's own creation stack (else its creator's), Node's internal frames left out. */
  frames: StackFrame[];
  /** The app's own line that led to the handle. */
  appFrame?: SourceLocation;
  /** appFrame comes from the creator's stack, not the handle's own. */
  inherited: boolean;
}

export function parseStack(text: string, resolver: LocationResolver): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of text.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const functionName = match[1] ?? '';
    const url = match[2] ?? match[5]!;
    const lineNumber = Number(match[3] ?? match[6]);
    const column = Number(match[4] ?? match[7]);
    frames.push({ functionName: functionName || '(anonymous)', location: resolver.resolveStackFrame(url, lineNumber - 1, column - 1, functionName) });
  }
  return frames;
}

export function isAppCode(location: SourceLocation | undefined): location is SourceLocation {
  return location !== undefined && !location.internal && location.package === undefined;
}

export function creationOf(stacks: { own?: string; via?: string } | undefined, resolver: LocationResolver): Creation | undefined {
  if (!stacks || (stacks.own === undefined && stacks.via === undefined)) return undefined;
  const own = stacks.own === undefined ? [] : parseStack(stacks.own, resolver);
  const ownApp = own.find((frame) => isAppCode(frame.location))?.location;
  const viaApp = ownApp || stacks.via === undefined ? undefined : parseStack(stacks.via, resolver).find((frame) => isAppCode(frame.location))?.location;
  // No stack of its own (made in another resource's callback): its creator's frames say which
  // library made it (a shutdown helper's timer armed in its signal listener).
  const via = own.length > 0 || stacks.via === undefined ? [] : parseStack(stacks.via, resolver);
  const frames = (own.length > 0 ? own : via).filter((frame) => frame.location && !frame.location.internal).slice(0, MAX_FRAMES);
  return { frames, appFrame: ownApp ?? viaApp, inherited: ownApp === undefined && viaApp !== undefined };
}

/**
 * Blocking handles of a library that have no app line (kafkajs re-arms its retry timer from
 * promise jobs, long after startup) get the app line that first called into that library
 * while the service started, marked inherited.
 */
export async function linkLibrariesToApp(client: CdpClient, handles: Handle[], resolver: LocationResolver): Promise<void> {
  const packageOf = (handle: Handle) => handle.owner?.package?.name ?? handle.createdAt?.[0]?.location?.package?.name;
  const orphans = handles.filter((handle) => handle.blocking && !handle.createdIn && packageOf(handle) !== undefined);
  if (orphans.length === 0) return;
  const names = [...new Set(orphans.map((handle) => packageOf(handle)!))];
  const stacks = await callInTarget(client, startupStacksThrough, [CREATION_KEY, names, 50], CALL_TIMEOUT_MS).catch(bestEffort('reading the startup stacks'));
  const appLines = new Map(names.map((name) => [name, (stacks?.[name] ?? []).map((text) => appCallInto(name, parseStack(text, resolver))).find((line) => line)]));
  for (const handle of orphans) {
    const appFrame = appLines.get(packageOf(handle)!);
    if (appFrame) Object.assign(handle, { createdIn: appFrame, createdInherited: true });
  }
}

/**
 * The app line that called into package `name` in this stack: the first app frame outward
 * from the package's innermost frame, unless the package's code was running as its module's
 * top level (required: Module._compile comes first), which is loading, not a call.
 */
function appCallInto(name: string, frames: StackFrame[]): SourceLocation | undefined {
  const start = frames.findIndex((frame) => frame.location?.package?.name === name);
  if (start < 0) return undefined;
  for (const frame of frames.slice(start + 1)) {
    if (isAppCode(frame.location)) return frame.location;
    if (frame.functionName === 'Module._compile' || frame.functionName.endsWith('ModuleJob.run')) return undefined;
  }
  return undefined;
}
