import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./vitest.global-setup.ts'],
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'bench/**'],
    // Integration tests start real processes, ptys, brokers and databases: give them room,
    // and keep the two cores of a CI box from being oversubscribed.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
