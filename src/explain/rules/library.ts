// Most culprits are "a client of library X was never closed". A family module describes its
// library once; this turns that description into a rule claiming every blocking handle the
// library owns, counted and grouped into one finding.
import { packageLabel } from '../../core/format.js';
import type { Handle, Severity } from '../../core/types.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation, mainPackage, ownedBy } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

export interface LibraryFamily {
  id: string;
  /** "MongoDB driver" */
  name: string;
  /** npm packages whose code owns the handles (the first is the one users install). */
  packages: string[];
  /** What the user forgot, e.g. "MongoClient never closed"; may depend on the handles. */
  problem: (handles: Handle[]) => string;
  why: (handles: Handle[]) => string;
  fix: (handles: Handle[]) => string;
  /** Default 'blocks'; 'warning' when it ends on its own (say when in `why`). */
  severity?: (handles: Handle[]) => Severity;
  /** Rules that must come after this one (see Rule.runsBefore). */
  runsBefore?: string[];
}

export function libraryRule(family: LibraryFamily): Rule {
  return {
    id: family.id,
    runsBefore: family.runsBefore,
    explain(handles): RuleFinding[] {
      const mine = ownedBy(handles, family.packages);
      if (mine.length === 0) return [];
      const owner = mainPackage(mine, family.packages);
      return [{
        title: `${family.name} (${packageLabel(owner)}): ${family.problem(mine)} — ${summariseHandles(mine)}`,
        severity: family.severity?.(mine) ?? 'blocks',
        owner,
        location: bestLocation(mine),
        why: family.why(mine),
        fix: family.fix(mine),
        handles: mine,
      }];
    },
  };
}

export const sockets = (handles: Handle[]) => handles.filter((h) => h.kind === 'tcp-socket');
export const timers = (handles: Handle[]) => handles.filter((h) => h.kind === 'timer');
