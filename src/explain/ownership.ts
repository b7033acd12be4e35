// What a handle belongs to, decided the same way by every rule: the npm package whose code
// owns it, and the line a person should look at.
import type { Handle, PackageRef, SourceLocation } from '../core/types.js';

/**
 * The npm package a handle belongs to: its owner's (the package whose code holds its
 * callback), else (a callback with no source, such as a promise's resolve) the package whose
 * code created it — only if that is the innermost frame outside Node: deeper frames may be a
 * framework that merely called the app.
 */
export function packageOf(handle: Handle): PackageRef | undefined {
  return handle.owner?.package ?? handle.createdAt?.[0]?.location?.package;
}

/** The handles that belong to one of these npm packages. */
export function ownedBy(handles: Handle[], packages: Iterable<string>): Handle[] {
  const names = new Set(packages);
  return handles.filter((handle) => {
    const owner = packageOf(handle);
    return owner !== undefined && names.has(owner.name);
  });
}

/** The package that owns most of the handles, for the finding's "name@version": a preferred one first. */
export function mainPackage(handles: Handle[], preferred: string[]): PackageRef | undefined {
  const owned = handles.map(packageOf).filter((p): p is PackageRef => p !== undefined);
  return preferred.map((name) => owned.find((p) => p.name === name)).find((p) => p !== undefined) ?? owned[0];
}

/**
 * The line to show for a group of handles: the app line that created one (run mode), else
 * the first owner in the app's own code, else the app line that created its creator, else
 * the first owner outside Node itself.
 */
export function bestLocation(handles: Handle[]): SourceLocation | undefined {
  return handles.find((h) => h.createdIn && !h.createdInherited)?.createdIn
    ?? handles.find((h) => h.owner && !h.owner.internal && !h.owner.package)?.owner
    ?? handles.find((h) => h.createdIn)?.createdIn
    ?? handles.find((h) => h.owner && !h.owner.internal)?.owner
    ?? handles.find((h) => h.owner)?.owner;
}
