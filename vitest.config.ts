import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'engine/src/**/*.test.ts',
      'engine/test/**/*.test.ts',
      'cli/src/**/*.test.ts',
      'proto/test/**/*.test.ts',
      'control-plane/src/**/*.test.ts',
      'worker/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
