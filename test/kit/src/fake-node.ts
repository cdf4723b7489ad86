import { fileURLToPath } from 'node:url'

/**
 * A stand-in node process for supervisor tests (`fixtures/fake-node.mjs`): it records its pid and argv and obeys
 * `FAKE_NODE_MODE` (graceful, stubborn, crash); the file's header lists every switch. Plain JavaScript, so a test
 * can run it with `node` or behind a shell wrapper without a build.
 */
export const FAKE_NODE = fileURLToPath(new URL('../fixtures/fake-node.mjs', import.meta.url))
