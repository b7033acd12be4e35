// Most culprits are "a client of library X was never closed". A family module describes its
// library once; this turns that description into a rule claiming every blocking handle the
// library owns, counted and grouped into one finding.
import { packageLabel } from '../../core/format.js';
import type { Handle, Severity, Snapshot } from '../../core/types.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation, isLoaded, mainPackage, openedThrough, ownedBy, packageNamed } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

export interface LibraryFamily {
  id: string;
  /** "MongoDB driver" */
  name: string;
  /** npm packages whose code owns the handles (the first is the one users install). */
  packages: string[];
  /**
   * Drivers it drives (knex: pg, mysql2): their handles are this family's when it opened them
   * (openedThrough). The family's rule runs before the drivers' (runsBefore says so).
   */
  wraps?: string[];
  /** What the user forgot, e.g. "MongoClient never closed"; may depend on the handles. */
  problem: (handles: Handle[], snapshot: Snapshot) => string;
  why: (handles: Handle[], snapshot: Snapshot) => string;
  fix: (handles: Handle[], snapshot: Snapshot) => string;
  /** Default 'blocks'; 'warning' when it ends on its own (say when in `why`). */
  severity?: (handles: Handle[], snapshot: Snapshot) => Severity;
  /** Rules that must come after this one (see Rule.runsBefore). */
  runsBefore?: string[];
  /** Handles that are this family's by what they are, with no owner to say so (only when the family is loaded). */
  alsoClaims?: (handles: Handle[], snapshot: Snapshot) => Handle[];
}

export function libraryRule(family: LibraryFamily): Rule {
  return {
    id: family.id,
    runsBefore: family.runsBefore,
    packages: family.packages,
    explain(handles, snapshot): RuleFinding[] {
      const own = ownedBy(handles, family.packages);
      // Only a family whose own code is at work claims the drivers it may have opened.
      const opened = family.wraps && (own.length > 0 || isLoaded(snapshot, family.packages[0]!))
        ? openedThrough(handles, family.wraps, family.packages[0]!, snapshot) : [];
      const extra = family.alsoClaims && (own.length > 0 || family.packages.some((name) => isLoaded(snapshot, name))) ? family.alsoClaims(handles, snapshot) : [];
      const mine = [...new Set([...own, ...opened, ...extra])];
      if (mine.length === 0) return [];
      // A wrapper is named as users installed it (knex), not by the part holding the handle (tarn).
      const named = packageNamed(mine, family.packages[0]!, snapshot);
      const owner = own.length === 0 || (family.wraps && named.version) ? named : mainPackage(own, family.packages);
      return [{
        title: `${family.name} (${packageLabel(owner)}): ${family.problem(mine, snapshot)} — ${summariseHandles(mine)}`,
        severity: family.severity?.(mine, snapshot) ?? 'blocks',
        owner,
        location: bestLocation(mine),
        why: family.why(mine, snapshot),
        fix: family.fix(mine, snapshot),
        handles: mine,
      }];
    },
  };
}

export const sockets = (handles: Handle[]) => handles.filter((h) => h.kind === 'tcp-socket');
export const timers = (handles: Handle[]) => handles.filter((h) => h.kind === 'timer');

/**
 * Whether a self-reaping pool (tarn, sequelize-pool) lets go by itself, from the pool states the
 * snapshot read: 'never' when one keeps connections for good (min > 0 or one in use), the
 * longest wait otherwise, undefined when no state could be read.
 */
export function poolLetGo(snapshot: Snapshot, poolPackage: string): { never: true; min: number } | { never: false; inMs: number } | undefined {
  const pools = (snapshot.context?.pools ?? []).filter((pool) => pool.package === poolPackage && pool.size > 0);
  if (pools.length === 0) return undefined;
  const holding = pools.find((pool) => pool.lettingGoInMs === null);
  if (holding) return { never: true, min: holding.min };
  return { never: false, inMs: Math.max(...pools.map((pool) => pool.lettingGoInMs ?? 0)) };
}
