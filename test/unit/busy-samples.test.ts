// A busy main thread's samples (src/inspect/node-snapshot.ts): the frames most of them pass
// through, each at the line most samples were on.
import { describe, expect, it } from 'vitest';
import { framesInMost, type RawFrame } from '../../src/inspect/node-snapshot.js';

const frame = (functionName: string, line: number, url = '/app/main.js'): RawFrame => ({ functionName, url, line, column: 0 });

describe('framesInMost', () => {
  it('keeps what more than half of the samples share, innermost first, at its most frequent line', () => {
    const samples = [
      [frame('Module._load', 1038, 'node:internal/modules/cjs/loader'), frame('loadPlugin', 9), frame('onSigterm', 17)],
      [frame('loadPlugin', 7), frame('onSigterm', 17)],
      [frame('Module._findPath', 711, 'node:internal/modules/cjs/loader'), frame('Module._load', 1038, 'node:internal/modules/cjs/loader'), frame('loadPlugin', 9), frame('onSigterm', 17)],
    ];
    const found = framesInMost(samples);
    expect(found.map(({ frame: f, seen }) => `${f.functionName}:${f.line}x${seen}`)).toEqual(['Module._load:1038x2', 'loadPlugin:9x3', 'onSigterm:17x3']);
  });

  it('a frame twice in one sample (recursion) counts once; a frame of one sample in five is dropped', () => {
    const samples = [[frame('walk', 3), frame('walk', 3), frame('main', 1)], [frame('main', 1)], [frame('main', 1)], [frame('main', 1)], [frame('main', 1)]];
    expect(framesInMost(samples).map(({ frame: f, seen }) => `${f.functionName}x${seen}`)).toEqual(['mainx5']);
  });
});
