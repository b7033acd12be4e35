// The versioned JSON document (`--json`). Its shape is documented in docs/json.md; bump
// SCHEMA_VERSION on any change that could break a reader.
import type { Diagnosis } from '../core/diagnosis.js';
import type { Finding, Handle, PackageRef, PythonState, RunInfo, Snapshot, SourceLocation, StackFrame, Target, Timeline, TreeMember, TreeReport, Verdict } from '../core/types.js';

export const SCHEMA = 'reload-doctor/diagnosis';
export const SCHEMA_VERSION = 2;

/** A handle as the document carries it (docs/json.md). */
export interface HandleDocument {
  kind: Handle['kind'];
  blocking: boolean;
  label: string;
  details: Handle['details'];
  owner: SourceLocation | null;
  createdIn: SourceLocation | null;
  createdInherited: boolean;
  createdAt: StackFrame[] | null;
  notBlockingBecause: string | null;
  heldBy: Handle['heldBy'] | null;
  inferredOwner: Handle['inferredOwner'] | null;
}

/** A culprit: what blocks (or may block) the exit, whose it is, where, why and the fix. */
export interface FindingDocument {
  id: string;
  title: string;
  severity: Finding['severity'];
  package: PackageRef | null;
  location: SourceLocation | null;
  /** Attach mode, a library's finding: the app variable that holds it (see Finding.heldBy). */
  heldBy: Finding['heldBy'] | null;
  why: string;
  fix: string;
  handles: HandleDocument[];
}

export interface TreeMemberDocument extends Omit<TreeMember, 'snapshot' | 'findings'> {
  lookedAtMs: number | null;
  findings: FindingDocument[] | null;
  threads: Snapshot['threads'] | null;
  /** --py-stacks: the worker's Python threads, greenlets and holders. */
  python: PythonState | null;
  notes: string[] | null;
  notBlocking: HandleDocument[] | null;
}

/** The versioned document of `--json`, `checkShutdown` and the matchers' results. */
export interface ShutdownDocument {
  schema: typeof SCHEMA;
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'reload-doctor'; version: string };
  mode: Diagnosis['mode'];
  /** What the CLI exits with: 0 shut down in time, 1 not, 2–4 and 130 as documented. */
  exitCode: number;
  target: Target;
  run: RunInfo | null;
  tree: { kind: TreeReport['kind']; masterMercyMs: number | null; members: TreeMemberDocument[] } | null;
  verdict: Verdict | null;
  timeline: Timeline | null;
  findings: FindingDocument[];
  notBlocking: HandleDocument[];
  snapshot: { source: Snapshot['source']; takenAtMs: number; busyStack: Snapshot['busyStack'] | null; busyCommon: Snapshot['busyCommon'] | null; threads: Snapshot['threads'] | null; python: PythonState | null; notes: string[] } | null;
  warnings: string[];
  unfinished: string | null;
  /** How many handles were seen, how many of them block, and into how many findings they were grouped. */
  counts: { handles: number; blocking: number; notBlocking: number; findings: number };
}

export function toJsonDocument(diagnosis: Diagnosis, toolVersion: string): ShutdownDocument {
  const { snapshot } = diagnosis;
  return {
    schema: SCHEMA,
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'reload-doctor', version: toolVersion },
    mode: diagnosis.mode,
    exitCode: diagnosis.exitCode,
    target: diagnosis.target,
    run: diagnosis.run ?? null,
    tree: diagnosis.tree
      ? {
        kind: diagnosis.tree.kind,
        masterMercyMs: diagnosis.tree.masterMercyMs ?? null,
        members: diagnosis.tree.members.map(({ snapshot, findings, ...member }) => ({
          ...member,
          lookedAtMs: snapshot?.takenAtMs ?? null,
          findings: findings?.map(plainFinding) ?? null,
          threads: snapshot?.threads ?? null,
          python: snapshot?.python ?? null,
          notes: snapshot?.notes ?? null,
          notBlocking: snapshot ? snapshot.handles.filter((h) => !h.blocking).map(plainHandle) : null,
        })),
      }
      : null,
    verdict: diagnosis.verdict ?? null,
    timeline: diagnosis.timeline ?? null,
    findings: diagnosis.findings.map(plainFinding),
    notBlocking: snapshot ? snapshot.handles.filter((h) => !h.blocking).map(plainHandle) : [],
    snapshot: snapshot
      ? { source: snapshot.source, takenAtMs: snapshot.takenAtMs, busyStack: snapshot.busyStack ?? null, busyCommon: snapshot.busyCommon ?? null, threads: snapshot.threads ?? null, python: snapshot.python ?? null, notes: snapshot.notes }
      : null,
    warnings: [...diagnosis.warnings],
    unfinished: diagnosis.unfinished ?? null,
    counts: {
      handles: snapshot?.handles.length ?? 0,
      blocking: snapshot?.handles.filter((h) => h.blocking).length ?? 0,
      notBlocking: snapshot?.handles.filter((h) => !h.blocking).length ?? 0,
      findings: diagnosis.findings.length,
    },
  };
}

/**
 * The document as text, in pieces: a snapshot of 100,000 handles is never one string of tens of
 * megabytes. The pieces joined are the document (what JSON.parse reads back), indented as
 * JSON.stringify(document, null, 2) would be, one array element at a time.
 */
export function* jsonPieces(document: ShutdownDocument): Generator<string> {
  yield* objectPieces(document as unknown as Record<string, unknown>, '');
  yield '\n';
}

/** Arrays longer than this are written element by element (and objects holding them, field by field). */
const WHOLE_UP_TO = 50;

function* valuePieces(value: unknown, indent: string): Generator<string> {
  if (Array.isArray(value) && needsPieces(value)) {
    yield '[';
    for (let at = 0; at < value.length; at++) {
      yield `${at === 0 ? '' : ','}\n${indent}  `;
      yield* valuePieces(value[at], `${indent}  `);
    }
    yield value.length === 0 ? ']' : `\n${indent}]`;
  } else if (value !== null && typeof value === 'object' && needsPieces(value)) {
    yield* objectPieces(value as Record<string, unknown>, indent);
  } else {
    yield (JSON.stringify(value, null, 2) ?? 'null').replace(/\n/g, `\n${indent}`);
  }
}

function* objectPieces(value: Record<string, unknown>, indent: string): Generator<string> {
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  yield '{';
  for (const [at, key] of keys.entries()) {
    yield `${at === 0 ? '' : ','}\n${indent}  ${JSON.stringify(key)}: `;
    yield* valuePieces(value[key], `${indent}  `);
  }
  yield keys.length === 0 ? '}' : `\n${indent}}`;
}

/** A long array, or something holding one: written in pieces. */
function needsPieces(value: object): boolean {
  if (Array.isArray(value)) return value.length > WHOLE_UP_TO || value.some((item) => item !== null && typeof item === 'object' && needsPieces(item));
  return Object.values(value).some((item) => item !== null && typeof item === 'object' && needsPieces(item));
}
function plainFinding(finding: Finding): FindingDocument {
  return {
    id: finding.id,
    title: finding.title,
    severity: finding.severity,
    package: finding.owner ?? null,
    location: finding.location ?? null,
    heldBy: finding.heldBy ?? null,
    why: finding.why,
    fix: finding.fix,
    handles: finding.handles.map(plainHandle),
  };
}

function plainHandle(handle: Handle): HandleDocument {
  return {
    kind: handle.kind,
    blocking: handle.blocking,
    label: handle.label,
    details: handle.details,
    owner: handle.owner ?? null,
    createdIn: handle.createdIn ?? null,
    createdInherited: handle.createdInherited ?? false,
    createdAt: handle.createdAt ?? null,
    notBlockingBecause: handle.notBlockingBecause ?? null,
    heldBy: handle.heldBy ?? null,
    inferredOwner: handle.inferredOwner ?? null,
  };
}
