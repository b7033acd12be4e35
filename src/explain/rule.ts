import type { Finding, Handle, Snapshot } from '../core/types.js';

/**
 * A rule recognises one culprit family. It returns findings, each with the handles it covers;
 * the engine stamps each finding's id from the rule's id and offers the handles no finding
 * covers to the next rule. Rules see only the Snapshot, never the inspector protocol or /proc,
 * and decide what a handle belongs to through ownership.ts, all in the same way.
 */
export interface Rule {
  /** Its findings' id: `<id>`, or `<id>/<variant>` when a finding names a variant. Also the rule's file name. */
  id: string;
  /** Rules that must come after this one in the engine: it claims handles they would also claim. */
  runsBefore?: string[];
  /** The npm packages it speaks for: a library with none is explained from its live objects (rules/inferred-owner.ts). */
  packages?: readonly string[];
  explain(handles: Handle[], snapshot: Snapshot): RuleFinding[];
}

/** A finding as a rule returns it: the engine adds its id. */
export type RuleFinding = Omit<Finding, 'id'> & {
  /** Tells apart findings of one rule (generic: "interval", "child-process", …). */
  variant?: string;
};
