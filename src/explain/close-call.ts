// The close call an inferred owner's prototype really has, written with the app's own
// expression (src/inspect/owner-inference.ts found both).
import type { CloseCall, InferredOwner } from '../core/types.js';

/**
 * "`await db.destroy()`", "`server.tryShutdown(callback)` (or `server.forceShutdown()` …)";
 * the app's other open objects of the package with it, those that cancel a call first.
 */
export function closeCallText(owner: InferredOwner): string {
  const main = callText(owner.expression, owner.close, owner.expression ? undefined : `on the ${owner.className || 'object'} that \`${owner.variable}\` holds`);
  const before = (owner.alsoOpen ?? []).filter((o) => o.close.method === 'cancel').map((o) => callText(o.variable, o.close));
  const after = (owner.alsoOpen ?? []).filter((o) => o.close.method !== 'cancel').map((o) => callText(o.variable, o.close));
  return [...before, main, ...after].join(', then ');
}

function callText(on: string | undefined, close: CloseCall, where?: string): string {
  const { method, awaits, callback, then, alternative } = close;
  const call = (name: string, withCallback: boolean) => `${awaits ? 'await ' : ''}${on ?? '…'}.${name}(${withCallback ? 'callback' : ''})`;
  let text = `\`${call(method, callback)}${then ? `; ${call(then, false)}` : ''}\``;
  if (where) text += ` ${where}`;
  if (alternative) text += ` (or \`${on ?? '…'}.${alternative}()\` to end what is in flight at once)`;
  return text;
}
