import { defineConfig } from 'vitest/config';

// Two layers. `unit`: rules replayed on recorded snapshots, verdict tables, parsers, the import
// rules and the in-target code in a vm: no process started, milliseconds, in parallel.
// `process`: real fixture processes and the built CLI, after the unit layer and one file at a
// time (every attach opens an inspector on 127.0.0.1:9229, and the machine has 2 cores).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'process',
          include: ['test/process/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
