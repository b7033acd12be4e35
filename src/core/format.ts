// How shared things read, in every report and finding: a source location, a package.
import type { PackageRef, SourceLocation } from './types.js';

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

export function packageLabel(ref: PackageRef | undefined): string {
  return ref ? `${ref.name}@${ref.version ?? '?'}` : '';
}
