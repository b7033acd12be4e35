// Generated positions → the author's: a TypeScript file run through tsx, a tsc-built dist/, a
// bundle (whose library parts map back into node_modules). Scripts inside node_modules are
// left as shipped: rules recognise libraries by their shipped files. The map comes from the script's sourceMappingURL (Debugger.scriptParsed reports it):
// inline (data: URL) or a file next to the script, read through /proc/<pid>/root as the
// target sees it — a regular file only, capped. Node's own SourceMap class decodes it.
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bestEffort } from '../core/debug.js';
import { readTargetFile } from '../reach/target-files.js';

/** A bundle's map can be large; past this it is not read. */
const MAX_MAP_BYTES = 32 * 1024 * 1024;

export interface OriginalPosition {
  /** The original file, as a file: URL or path (same forms as a script URL). */
  url: string;
  zeroBasedLine: number;
  zeroBasedColumn: number;
}

export class SourceMaps {
  private readonly maps = new Map<string, { map: SourceMap; base: string } | undefined>();

  /**
   * @param mapUrlOf the sourceMappingURL of a script URL ('' or undefined: none)
   * @param rootPrefix `/proc/<pid>/root`: map files are read as the target sees them
   */
  constructor(private readonly mapUrlOf: (scriptUrl: string) => string | undefined, private readonly rootPrefix = '') {}

  original(scriptUrl: string, zeroBasedLine: number, zeroBasedColumn: number): OriginalPosition | undefined {
    // A library is recognised by the files it ships (the rules know them), not by its sources.
    if (scriptUrl.includes('/node_modules/')) return undefined;
    const loaded = this.load(scriptUrl);
    if (!loaded) return undefined;
    const entry = loaded.map.findEntry(zeroBasedLine, zeroBasedColumn) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (!entry.originalSource || entry.originalLine === undefined) return undefined;
    return { url: resolveAgainst(entry.originalSource, loaded.base), zeroBasedLine: entry.originalLine, zeroBasedColumn: entry.originalColumn ?? 0 };
  }

  private load(scriptUrl: string): { map: SourceMap; base: string } | undefined {
    if (this.maps.has(scriptUrl)) return this.maps.get(scriptUrl);
    const mapUrl = this.mapUrlOf(scriptUrl);
    let loaded: { map: SourceMap; base: string } | undefined;
    try {
      const found = mapUrl ? this.payloadOf(mapUrl, scriptUrl) : undefined;
      if (found) loaded = { map: new SourceMap(found.payload), base: found.base };
    } catch (error) {
      bestEffort(`reading the source map of ${scriptUrl}`)(error);
    }
    this.maps.set(scriptUrl, loaded);
    return loaded;
  }

  private payloadOf(mapUrl: string, scriptUrl: string): { payload: SourceMapPayload; base: string } | undefined {
    const inline = /^data:application\/json(?:;charset=[\w-]+)?(;base64)?,(.*)$/s.exec(mapUrl);
    if (inline) {
      const text = inline[1] ? Buffer.from(inline[2]!, 'base64').toString('utf8') : decodeURIComponent(inline[2]!);
      return { payload: JSON.parse(text) as SourceMapPayload, base: scriptUrl };
    }
    const scriptFileUrl = scriptUrl.startsWith('/') ? pathToFileURL(scriptUrl).href : scriptUrl;
    if (!scriptFileUrl.startsWith('file://')) return undefined;
    const mapFileUrl = new URL(mapUrl, scriptFileUrl);
    if (mapFileUrl.protocol !== 'file:') return undefined; // never fetched from the network
    const text = readTargetFile(`${this.rootPrefix}${fileURLToPath(mapFileUrl)}`, MAX_MAP_BYTES);
    return text === undefined ? undefined : { payload: JSON.parse(text) as SourceMapPayload, base: mapFileUrl.href };
  }
}

/** A map's `sources` entry is relative to the map (or to the script, for an inline map). */
function resolveAgainst(source: string, base: string): string {
  try {
    const baseUrl = base.startsWith('/') ? pathToFileURL(base).href : base;
    const resolved = new URL(source, baseUrl);
    return resolved.protocol === 'file:' ? resolved.href : source;
  } catch {
    return source;
  }
}
