// What a handle belongs to, decided the same way by every rule: the npm package whose code
// owns it, and the line a person should look at.
import type { Handle, PackageRef, Snapshot, SourceLocation } from '../core/types.js';

/**
 * The npm package a handle belongs to: the library object the app holds it through (its
 * inferred owner: a BullMQ Queue over its ioredis connection), else its owner's (the package
 * whose code holds its callback), else (a callback with no source, such as a promise's
 * resolve) the package whose code created it — only if that is the innermost frame outside
 * Node: deeper frames may be a framework that merely called the app.
 */
export function packageOf(handle: Handle): PackageRef | undefined {
  return handle.inferredOwner?.package ?? handle.owner?.package ?? handle.createdAt?.[0]?.location?.package;
}

/** The handles that belong to one of these npm packages. */
export function ownedBy(handles: Handle[], packages: Iterable<string>): Handle[] {
  const names = new Set(packages);
  return handles.filter((handle) => {
    const owner = packageOf(handle);
    return owner !== undefined && names.has(owner.name);
  });
}

/**
 * Handles of a driver that a higher-level library opened: knex's pg sockets, Bull's ioredis
 * clients. With creation stacks (run mode) the library's own frames in the stack say so; in
 * attach mode, that the process loaded the library (its scripts) is the best evidence there is.
 */
export function openedThrough(handles: Handle[], drivers: Iterable<string>, wrapper: string, snapshot: Snapshot): Handle[] {
  const loaded = isLoaded(snapshot, wrapper);
  // An inherited stack (its creator's) may stop at the app's frames: then only "loaded" tells.
  return ownedBy(handles, drivers).filter((handle) => handle.createdAt?.some((frame) => frame.location?.package?.name === wrapper)
    || ((!handle.createdAt || handle.createdInherited === true) && loaded));
}

/** The process loaded this package (one of its scripts). */
export function isLoaded(snapshot: Snapshot, name: string): boolean {
  return snapshot.context?.loadedPackages?.some((ref) => ref.name === name) === true;
}

/** A package by name, with its version when a handle's owner or creation frame, or what is loaded, knows it. */
export function packageNamed(handles: Handle[], name: string, snapshot: Snapshot): PackageRef {
  for (const handle of handles) {
    const frames = [handle.owner, ...(handle.createdAt ?? []).map((frame) => frame.location)];
    const found = frames.find((location) => location?.package?.name === name)?.package;
    if (found) return found;
  }
  return snapshot.context?.loadedPackages?.find((ref) => ref.name === name) ?? { name };
}

/** The package that owns most of the handles, for the finding's "name@version": a preferred one first. */
export function mainPackage(handles: Handle[], preferred: string[]): PackageRef | undefined {
  const owned = handles.map(packageOf).filter((p): p is PackageRef => p !== undefined);
  return preferred.map((name) => owned.find((p) => p.name === name)).find((p) => p !== undefined) ?? owned[0];
}

/**
 * The line to show for a group of handles: the app line that created one (run mode), else
 * the first owner in the app's own code, else the app line that created its creator, else the
 * app's variable of its inferred owner (one no holder path reached), else the first owner
 * outside Node itself.
 */
export function bestLocation(handles: Handle[]): SourceLocation | undefined {
  return handles.find((h) => h.createdIn && !h.createdInherited)?.createdIn
    ?? handles.find((h) => h.owner && !h.owner.internal && !h.owner.package)?.owner
    ?? handles.find((h) => h.createdIn)?.createdIn
    ?? handles.find((h) => h.inferredOwner?.at)?.inferredOwner!.at
    ?? handles.find((h) => h.owner && !h.owner.internal)?.owner
    ?? handles.find((h) => h.owner)?.owner;
}
