// Turns a script URL + position into a SourceLocation a person can act on:
// a path relative to the target's working directory and the npm package that owns it.
import { fileURLToPath } from 'node:url';
import { bestEffort } from '../core/debug.js';
import type { PackageRef, SourceLocation } from '../core/types.js';
import { readTargetFile } from '../reach/target-files.js';
import type { SourceMaps } from './source-maps.js';

export interface ResolverOptions {
  /** `/proc/<pid>/root`, so a target in another mount namespace still resolves. */
  rootPrefix?: string;
  /** Maps generated positions back to the author's files. */
  sourceMaps?: SourceMaps;
  /** The target's own stack traces are source-mapped already (--enable-source-maps, tsx). */
  stacksMapped?: boolean;
}

export class LocationResolver {
  private readonly packages = new Map<string, PackageRef | undefined>();
  private readonly dependencies = new Map<string, string[]>();

  private readonly rootPrefix: string;
  private readonly sourceMaps?: SourceMaps;
  private readonly stacksMapped: boolean;

  constructor(private readonly cwd: string | undefined, options: ResolverOptions = {}) {
    this.rootPrefix = options.rootPrefix ?? '';
    this.sourceMaps = options.sourceMaps;
    this.stacksMapped = options.stacksMapped ?? false;
  }

  /** A frame of a stack the target formatted: mapped here unless Node already mapped it. */
  resolveStackFrame(url: string, zeroBasedLine: number, zeroBasedColumn: number, functionName?: string): SourceLocation {
    return this.resolve(url, zeroBasedLine, zeroBasedColumn, functionName, !this.stacksMapped);
  }

  /** @param generated the position is V8's own (not from a stack Node already mapped): apply the script's source map. */
  resolve(generatedUrl: string, generatedLine: number, generatedColumn: number, functionName?: string, generated = false): SourceLocation {
    const original = generated ? this.sourceMaps?.original(generatedUrl, generatedLine, generatedColumn) : undefined;
    const url = original?.url ?? generatedUrl;
    const zeroBasedLine = original?.zeroBasedLine ?? generatedLine;
    const zeroBasedColumn = original?.zeroBasedColumn ?? generatedColumn;
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

  /** The packages the package holding this file depends on (its package.json's dependencies and peerDependencies). */
  dependenciesOf(url: string): string[] {
    const path = url.startsWith('file://') ? safeFileUrlToPath(url) : url;
    const at = path.lastIndexOf('/node_modules/');
    if (at < 0) return [];
    const parts = path.slice(at + '/node_modules/'.length).split('/');
    const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const dir = `${path.slice(0, at)}/node_modules/${name}`;
    if (!this.dependencies.has(dir)) {
      const manifest = this.readManifest(dir);
      const listed = (field: unknown) => (field !== null && typeof field === 'object' ? Object.keys(field).filter((key) => typeof key === 'string') : []);
      this.dependencies.set(dir, manifest ? [...listed(manifest.dependencies), ...listed(manifest.peerDependencies)].slice(0, 500) : []);
    }
    return this.dependencies.get(dir)!;
  }

  private readManifest(dir: string): Record<string, unknown> | undefined {
    for (const candidate of [`${this.rootPrefix}${dir}/package.json`, `${dir}/package.json`]) {
      const text = readTargetFile(candidate, 256 * 1024);
      if (text === undefined) continue;
      try {
        const parsed = JSON.parse(text);
        if (parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>;
      } catch (error) {
        bestEffort(`reading ${candidate}`)(error);
      }
    }
    return undefined;
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
