/**
 * Test helpers shared by every package's tests and the end-to-end suite.
 *
 * ```ts
 * const redis = await startRedis()          // a private redis-server on a free port
 * await eventually(() => expect(x).toBe(1)) // poll a condition with a deadline; never sleep
 * await redis.stop()
 * ```
 */
export { type EventuallyOptions, eventually } from './eventually.js'
export { canConnect, freePort } from './ports.js'
export { runProcess, type StartProcessOptions, startProcess, type TestProcess } from './process.js'
export { requireRedisServer, startRedis, type TestRedis } from './redis.js'
export { type TempDir, tempDir } from './temp.js'
