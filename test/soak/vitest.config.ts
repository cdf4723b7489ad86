import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // The soak test runs a whole fleet; nothing else should share the two cores with it.
    fileParallelism: false,
  },
})
