import type { Finding, Handle, Snapshot } from '../types.js';

/**
 * A rule recognises one culprit family. It claims the handles it explains (the engine will not
 * offer them to later rules) and returns its findings. Rules see only the Snapshot, never the
 * inspector protocol.
 */
export interface Rule {
  id: string;
  /** Returns findings plus the handles they cover; unclaimed handles go on to the next rule. */
  explain(handles: Handle[], snapshot: Snapshot): Finding[];
}
