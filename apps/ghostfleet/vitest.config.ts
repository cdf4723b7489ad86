import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The end-to-end files run real node processes; on a small machine they must not compete with each other.
    fileParallelism: false,
  },
})
