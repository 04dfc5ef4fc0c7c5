import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // The tests start real threads and processes; on 2 cores, two files at once is plenty.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
