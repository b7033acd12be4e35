import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every attach opens the target's inspector on 127.0.0.1:9229 (SIGUSR1 always binds the
    // default port), and the machine has 2 cores: run files one at a time for stable timing.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
