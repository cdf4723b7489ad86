/**
 * Test helpers shared by every package's tests and the end-to-end suite.
 *
 * ```ts
 * const redis = await startRedis()          // a private redis-server on a free port
 * await eventually(() => expect(x).toBe(1)) // poll a condition with a deadline; never sleep
 * await redis.stop()
 *
 * const gl = await goleveldbTool()            // the goleveldb conformance kit (Go + Debian's goleveldb)
 * await gl.generateHome({ home, chainId: 'test-1', blocks: 20_000 })
 * const seen = await gl.digest(`${home}/data/blockstore.db`) // what a node will see
 * ```
 */
export { type EventuallyOptions, eventually } from './eventually.js'
export {
  buildGoleveldbBinary,
  type GenerateHomeOptions,
  type GenerateHomeResult,
  type GoleveldbCompactResult,
  type GoleveldbDigest,
  type GoleveldbPruneOptions,
  type GoleveldbPruneResult,
  type GoleveldbTool,
  GoleveldbToolError,
  goleveldbGopath,
  goleveldbTool,
  requireGoleveldb,
} from './goleveldb.js'
export { canConnect, freePort } from './ports.js'
export { runProcess, type StartProcessOptions, startProcess, type TestProcess } from './process.js'
export { requireRedisServer, startRedis, type TestRedis } from './redis.js'
export { type TempDir, tempDir } from './temp.js'
