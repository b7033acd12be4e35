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

const ANY_UNSAFE = new RegExp(UNSAFE.source);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The string with every character a terminal or a log would act on shown as an escape. */
export function inert(text: string): string {
  if (!ANY_UNSAFE.test(text)) return text; // nearly every string: no copy
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
 * The diagnosis with every string inert (it is plain data: strings, numbers, arrays, objects).
 * Only what holds a string that changes is copied; everything else is the original itself
 * (nearly all of a big snapshot: 100,000 handles are walked, not copied). An object met twice
 * (a handle is in the snapshot and in its finding) is walked once and gives one result, so the
 * result keeps the original's sharing.
 */
export function inertDiagnosis(diagnosis: Diagnosis): Diagnosis {
  return mapStrings(diagnosis, inert, new Map());
}

function mapStrings<T>(value: T, map: (text: string) => string, results: Map<object, unknown>): T {
  if (typeof value === 'string') return map(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const known = results.get(value);
  if (known !== undefined) return known as T;
  results.set(value, value); // a cycle (there is none in plain data) would end here
  let copy: unknown;
  if (Array.isArray(value)) {
    let items: unknown[] | undefined;
    value.forEach((item, at) => {
      const mapped = mapStrings(item, map, results);
      if (mapped !== item) (items ??= [...value])[at] = mapped;
    });
    copy = items;
  } else {
    const fields = value as Record<string, unknown>;
    let changed: Record<string, unknown> | undefined;
    for (const key of Object.keys(fields)) {
      const mapped = mapStrings(fields[key], map, results);
      if (mapped !== fields[key]) (changed ??= { ...fields })[key] = mapped;
    }
    copy = changed;
  }
  if (copy !== undefined) results.set(value, copy);
  return (copy ?? value) as T;
}

/** A line of a CI log that starts with "::" would be a workflow command: never let one through. */
export function noWorkflowCommands(text: string): string {
  return text.replace(/^(\s*)::/gm, '$1 ::');
}
