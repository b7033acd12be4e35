// Creation stacks (`run` mode): the hook goes into each of the service's Node processes
// before their first line (src/in-target/creation-hook.ts, loaded by run-preload.ts); once the
// service is ready it stops following ticks (settle); at the deadline the stacks come
// out as V8's text, and this turns them into frames and picks the line a person should look
// at: the first frame in the app's own code (not Node's, not node_modules). A handle created
// inside another resource's callback (a library's timer re-armed in its socket's callback)
// has no stack of its own: its creator's stands in.
import { bestEffort } from '../core/debug.js';
import type { SourceLocation, StackFrame } from '../core/types.js';
import { CREATION_KEY, settleCreationHook } from '../in-target/creation-hook.js';
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
  /** The handle's own creation stack, Node's internal frames left out. */
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
    frames.push({ functionName: functionName || '(anonymous)', location: resolver.resolve(url, lineNumber - 1, column - 1, functionName) });
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
  const frames = own.filter((frame) => frame.location && !frame.location.internal).slice(0, MAX_FRAMES);
  return { frames, appFrame: ownApp ?? viaApp, inherited: ownApp === undefined && viaApp !== undefined };
}
