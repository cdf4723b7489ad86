import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every file runs real processes (fleets of nodes, sidecars, trackers, Redis, Prometheus); on a 2-core machine
    // two such files at once starve each other's timings.
    fileParallelism: false,
  },
})
