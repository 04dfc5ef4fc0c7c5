import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests run the build (dist/); a stale one is rebuilt once before any test starts.
    globalSetup: ['test/support/build-once.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // The tests start real threads and processes; on 2 cores, two files at once is plenty.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
