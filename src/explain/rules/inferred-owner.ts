// Any library, with no rule of its own: the owner read from the live objects (the outermost
// library or Node object between the app's variable and the resource, src/inspect/owner-
// inference.ts) claims the resources under it as one finding, and the fix is the close call
// its prototype really has, written with the app's own expression. A family that has a rule
// keeps it (a rule knows order and options that objects cannot say); this one runs before the
// drivers' rules, so a wrapper with no rule (kysely over pg, bee-queue over redis) is named
// as the owner of its driver's handles.
import { packageLabel } from '../../core/format.js';
import type { Handle, InferredOwner } from '../../core/types.js';
import { closeCallText } from '../close-call.js';
import { summariseHandles } from '../handle-summary.js';
import { bestLocation } from '../ownership.js';
import type { Rule, RuleFinding } from '../rule.js';

export function inferredOwnerRule(familyPackages: ReadonlySet<string>): Rule {
  return {
    id: 'inferred-owner',
    explain(handles): RuleFinding[] {
      const groups = new Map<string, Array<Handle & { inferredOwner: InferredOwner }>>();
      for (const handle of handles) {
        const owner = handle.inferredOwner;
        // Node's own objects stay with the generic rule (which writes their close call the same way).
        if (!owner?.package || familyPackages.has(owner.package.name)) continue;
        const key = `${owner.package.name}|${owner.className}|${owner.expression ?? owner.variable}`;
        groups.set(key, [...(groups.get(key) ?? []), handle as Handle & { inferredOwner: InferredOwner }]);
      }
      return [...groups.values()].map((group) => findingFor(group));
    },
  };
}

function findingFor(group: Array<Handle & { inferredOwner: InferredOwner }>): RuleFinding {
  const owner = group[0]!.inferredOwner;
  const made = packageLabel(owner.package);
  const held = group.find((h) => h.heldBy)?.heldBy;
  const name = owner.expression ?? owner.variable;
  const what = owner.className ? `a ${owner.className}` : 'an object';
  const summary = summariseHandles(group);
  return {
    title: `${owner.className ? `${owner.className} (${made})` : made}${owner.likely ? ', most likely' : ''}: never closed — ${summary}`,
    severity: 'blocks',
    owner: owner.package,
    // The app's line: where its variable is declared (the fix acts on it), else where it was created (run mode).
    location: held?.location ?? owner.at ?? group.find((h) => h.createdIn && !h.createdInherited)?.createdIn ?? bestLocation(group),
    why: owner.likely
      ? `no reference leads from the app to ${summary}: it belongs to Node's own fetch (undici), and the app's one open library object that owns nothing else is \`${name}\`, ${what} of ${made}: most likely its stream`
      : `the app's \`${name}\` is ${what} of ${made} and is still open: what it holds (${summary}) keeps the event loop alive until it is closed`,
    fix: `${closeCallText(owner)} in your shutdown handler (the closing method${owner.alsoOpen ? 's' : ''} ${owner.alsoOpen ? 'their classes have' : 'its class has'})`,
    handles: group,
    ...(held ? { heldBy: { ...held, how: 'held by' as const } } : {}),
  };
}
