// Every output format, from one diagnosis. Strings from the target are made inert first for
// the formats people and CI logs read (see core/sanitize.ts); JSON carries them as they are,
// escaped by JSON itself.
import type { Diagnosis } from '../core/diagnosis.js';
import { inertDiagnosis, noWorkflowCommands } from '../core/sanitize.js';
import { renderGithubAnnotations } from './github.js';
import { jsonPieces, toJsonDocument } from './json.js';
import { renderJunit } from './junit.js';
import { renderText } from './text.js';

export const FORMATS = ['text', 'json', 'github', 'junit'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  /** Colours for a terminal (text only). */
  color: boolean;
  toolVersion: string;
  /** The repository's checkout (GITHUB_WORKSPACE): CI annotations name files relative to it. */
  workspace?: string;
}

export function render(format: Format, diagnosis: Diagnosis, options: RenderOptions): string {
  if (format === 'json') return [...renderPieces('json', diagnosis, options)].join('');
  const safe = inertDiagnosis(diagnosis);
  switch (format) {
    case 'text': return `${renderText(safe, options.color)}\n`;
    case 'junit': return renderJunit(safe, renderText(safe, false), options.workspace);
    // The annotations, then the text report for the log (no line of it can be a workflow command).
    case 'github': return `${renderGithubAnnotations(safe, options.workspace)}\n${noWorkflowCommands(renderText(safe, false))}\n`;
  }
}

/**
 * The report in pieces, to write as they come: JSON by array elements, joined up to about
 * 64 KiB a piece (a big snapshot never becomes one string, nor 100,000 writes), the others whole.
 */
export function* renderPieces(format: Format, diagnosis: Diagnosis, options: RenderOptions): Generator<string> {
  if (format === 'json') yield* joinedUpTo(PIECE_CHARS, jsonPieces(toJsonDocument(diagnosis, options.toolVersion)));
  else yield render(format, diagnosis, options);
}

const PIECE_CHARS = 64 * 1024;

function* joinedUpTo(size: number, pieces: Iterable<string>): Generator<string> {
  let held: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    held.push(piece);
    length += piece.length;
    if (length >= size) {
      yield held.join('');
      held = [];
      length = 0;
    }
  }
  if (held.length > 0) yield held.join('');
}
