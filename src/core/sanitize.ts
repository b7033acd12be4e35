// Everything reload-doctor prints comes from processes and files it does not control: argv,
// process titles, socket paths, file names, library strings, a service's own output. On the
// way out, every such string is made inert for where it goes:
// - terminals and CI logs (text, the text part of --format github): control characters, C1
//   codes and bidirectional overrides are shown escaped (\x1b, \u202e), never interpreted, and
//   a string can never start a line (so never a GitHub workflow command);
// - XML (JUnit): only characters XML 1.0 allows;
// - JSON: JSON.stringify already escapes what it must.
import type { Diagnosis } from './diagnosis.js';

/** C0 controls (but none of ours: we escape \t, \n and \r too), DEL, C1, and bidi controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The string with every character a terminal or a log would act on shown as an escape. */
export function inert(text: string): string {
  return text.replace(UNSAFE, (char) => {
    if (NAMED[char]) return NAMED[char];
    const code = char.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Characters XML 1.0 allows (tab, newline, carriage return, and the ranges of its Char production). */
const NOT_XML = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

export function xmlChars(text: string): string {
  return text.replace(NOT_XML, '\ufffd');
}

/**
 * A copy of the diagnosis with every string inert (it is plain data: strings, numbers, arrays,
 * objects). An object met twice (a handle is in the snapshot and in its finding) is copied
 * once, so the copy keeps the original's sharing, and a big snapshot is walked once.
 */
export function inertDiagnosis(diagnosis: Diagnosis): Diagnosis {
  return mapStrings(diagnosis, inert, new Map());
}

function mapStrings<T>(value: T, map: (text: string) => string, copies: Map<object, unknown>): T {
  if (typeof value === 'string') return map(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known as T;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(mapStrings(item, map, copies));
    return copy as T;
  }
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const key of Object.keys(value)) copy[key] = mapStrings((value as Record<string, unknown>)[key], map, copies);
  return copy as T;
}

/** A line of a CI log that starts with "::" would be a workflow command: never let one through. */
export function noWorkflowCommands(text: string): string {
  return text.replace(/^(\s*)::/gm, '$1 ::');
}
