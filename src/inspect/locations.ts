// Turns a script URL + position into a SourceLocation a person can act on:
// a path relative to the target's working directory and the npm package that owns it.
import { fileURLToPath } from 'node:url';
import { bestEffort } from '../core/debug.js';
import type { PackageRef, SourceLocation } from '../core/types.js';
import { readTargetFile } from '../reach/target-files.js';

export class LocationResolver {
  private readonly packages = new Map<string, PackageRef | undefined>();

  /** @param rootPrefix `/proc/<pid>/root`, so a target in another mount namespace still resolves. */
  constructor(private readonly cwd: string | undefined, private readonly rootPrefix = '') {}

  resolve(url: string, zeroBasedLine: number, zeroBasedColumn: number, functionName?: string): SourceLocation {
    const internal = url === '' || url.startsWith('node:') || !(url.startsWith('/') || url.startsWith('file://'));
    const path = url.startsWith('file://') ? safeFileUrlToPath(url) : url;
    return {
      url,
      file: internal ? url || '<anonymous>' : this.relative(path),
      line: zeroBasedLine + 1,
      column: zeroBasedColumn + 1,
      functionName: functionName || undefined,
      package: internal ? undefined : this.packageOf(path),
      internal,
    };
  }

  private relative(path: string): string {
    if (this.cwd && path.startsWith(`${this.cwd}/`)) return path.slice(this.cwd.length + 1);
    return path;
  }

  /** The package whose node_modules folder holds the file (the innermost one). */
  packageOf(path: string): PackageRef | undefined {
    const marker = '/node_modules/';
    const at = path.lastIndexOf(marker);
    if (at < 0) return undefined;
    const parts = path.slice(at + marker.length).split('/');
    const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    if (!name) return undefined;
    const dir = `${path.slice(0, at + marker.length)}${name}`;
    if (!this.packages.has(dir)) this.packages.set(dir, { name, version: this.readVersion(dir) });
    return this.packages.get(dir);
  }

  private readVersion(dir: string): string | undefined {
    for (const candidate of [`${this.rootPrefix}${dir}/package.json`, `${dir}/package.json`]) {
      const text = readTargetFile(candidate, 256 * 1024);
      if (text === undefined) continue;
      try {
        const version = JSON.parse(text).version;
        if (typeof version === 'string') return version;
      } catch (error) {
        bestEffort(`reading the version in ${candidate}`)(error); // then try the next candidate
      }
    }
    return undefined;
  }
}

function safeFileUrlToPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch (error) {
    return bestEffort(`reading the file URL ${url}`, url)(error);
  }
}
