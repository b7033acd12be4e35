// The JSON document written in pieces (a snapshot of 100,000 handles never becomes one string):
// the pieces joined are exactly what JSON.stringify(document, null, 2) would have written.
import { describe, expect, it } from 'vitest';
import { jsonPieces, type ShutdownDocument } from '../../src/report/json.js';

describe('jsonPieces', () => {
  it('joins into the pretty-printed document, long arrays (even nested) one element at a time', () => {
    const handles = Array.from({ length: 120 }, (_, i) => ({ i, label: `q"\n\u001b${i}`, owner: null, frames: [{ line: i }] }));
    const document = {
      schema: 'reload-doctor/diagnosis', empty: [], none: {}, findings: [{ id: 'generic/timer', handles }, { id: 'x', handles: [] }],
      notBlocking: Array.from({ length: 60 }, (_, i) => i), nested: { deep: { list: Array.from({ length: 51 }, () => 'x') } }, skipped: undefined,
    } as unknown as ShutdownDocument;
    const pieces = [...jsonPieces(document)];
    expect(pieces.join('')).toBe(`${JSON.stringify(document, null, 2)}\n`);
    // No piece holds the big array whole.
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(JSON.stringify(handles).length / 20);
  });
});
