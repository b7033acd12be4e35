// Attach mode: a library's finding names the app variable that holds it (the walk's result on
// its handles, src/inspect/holders.ts), when the finding's own place is in the library or in
// Node: that is where `run` mode would have named the app's line.
import type { Finding, Handle, Holder } from '../core/types.js';
import { inLibrary } from '../core/format.js';

export function withHolders(finding: Finding): Finding {
  if (!inLibrary(finding.location) || finding.handles.some((h) => h.createdIn)) return finding;
  const held = finding.handles.filter((h): h is Handle & { heldBy: Holder } => h.heldBy !== undefined);
  if (held.length === 0) return finding;
  // A module's variable before a closure's; then the shortest way in.
  const best = held.sort((a, b) => rank(a.heldBy) - rank(b.heldBy) || a.heldBy.path.length - b.heldBy.path.length)[0]!;
  // Found through the closure of a callback of this very finding: its callback keeps it, not the app.
  const via = best.heldBy.via;
  const capturedByOwn = via !== undefined && finding.handles.some((h) => h.owner?.url === via.url && h.owner.line === via.line && h.owner.column === via.column);
  return { ...finding, heldBy: { ...best.heldBy, how: capturedByOwn ? 'captured by its callback' : 'held by' } };
}

const rank = (holder: Holder) => (holder.scope === 'module' ? 0 : 1);
