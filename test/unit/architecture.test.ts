// The import rules of the README's Layout section, read from the code itself: each folder of
// src/ may import only the folders listed for it (the pipeline runs one way), code sent into a
// target imports nothing at run time, and no file imports itself through a loop.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Who may import whom. Keep in step with the README's Layout section. */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  'in-target': [],
  reach: ['core', 'in-target'],
  probe: ['core', 'reach', 'in-target'],
  inspect: ['core', 'reach', 'in-target'],
  explain: ['core'],
  report: ['core'],
  check: ['core', 'reach', 'probe', 'inspect', 'explain'],
  modes: ['core', 'reach', 'probe', 'inspect', 'check'],
  api: ['core', 'reach', 'probe', 'modes', 'report'],
  cli: ['core', 'api', 'report'],
  index: ['core', 'api', 'report'],
  matchers: ['core', 'api', 'report'],
  guardian: ['core', 'reach'],
};

interface Import { from: string; to: string; typeOnly: boolean; text: string }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const pattern = /^(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)'|import\('(\.[^']+)'\)/gm;
  for (const match of text.matchAll(pattern)) {
    const specifier = match[3] ?? match[4]!;
    const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
    found.push({ from: file, to: target, typeOnly: Boolean(match[2]), text: match[0] });
  }
  return found;
}

function layerOf(file: string): string {
  const [first, second] = relative(SRC, file).split('/');
  return second === undefined ? first!.replace(/\.ts$/, '') : first!;
}

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);

describe('the layout', () => {
  it('every folder of src/ has import rules', () => {
    expect(new Set(files.map(layerOf))).toEqual(new Set(Object.keys(MAY_IMPORT)));
  });

  it('imports only run down the pipeline', () => {
    const broken = imports
      .filter(({ from, to }) => layerOf(from) !== layerOf(to) && !MAY_IMPORT[layerOf(from)]!.includes(layerOf(to)))
      .map(({ from, to }) => `${relative(SRC, from)} → ${relative(SRC, to)}`);
    expect(broken).toEqual([]);
  });

  it('code that runs inside a target imports nothing at run time', () => {
    const runtime = imports.filter(({ from, typeOnly }) => layerOf(from) === 'in-target' && !typeOnly).map(({ text }) => text);
    expect(runtime).toEqual([]);
  });

  it('there is no import cycle', () => {
    const edges = new Map<string, string[]>(files.map((file) => [file, []]));
    for (const { from, to } of imports) edges.get(from)!.push(to);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('reads the imports it judges (the patterns above see real import lines)', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports.some(({ text }) => text.startsWith('import type'))).toBe(true);
  });
});
