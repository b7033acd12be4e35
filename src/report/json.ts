// The versioned JSON document (`--json`). Its shape is documented in docs/json.md; bump
// SCHEMA_VERSION on any change that could break a reader.
import type { Diagnosis } from '../core/diagnosis.js';
import type { Finding, Handle } from '../core/types.js';

export const SCHEMA = 'reload-doctor/diagnosis';
export const SCHEMA_VERSION = 2;

export function toJsonDocument(diagnosis: Diagnosis, toolVersion: string): object {
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
          notBlocking: snapshot ? snapshot.handles.filter((h) => !h.blocking).map(plainHandle) : null,
        })),
      }
      : null,
    verdict: diagnosis.verdict ?? null,
    timeline: diagnosis.timeline ?? null,
    findings: diagnosis.findings.map(plainFinding),
    notBlocking: snapshot ? snapshot.handles.filter((h) => !h.blocking).map(plainHandle) : [],
    snapshot: snapshot
      ? { source: snapshot.source, takenAtMs: snapshot.takenAtMs, busyStack: snapshot.busyStack ?? null, threads: snapshot.threads ?? null, notes: snapshot.notes }
      : null,
    warnings: diagnosis.warnings,
    unfinished: diagnosis.unfinished ?? null,
  };
}

function plainFinding(finding: Finding): object {
  return {
    id: finding.id,
    title: finding.title,
    severity: finding.severity,
    package: finding.owner ?? null,
    location: finding.location ?? null,
    why: finding.why,
    fix: finding.fix,
    handles: finding.handles.map(plainHandle),
  };
}

function plainHandle(handle: Handle): object {
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
  };
}
