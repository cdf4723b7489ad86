/**
 * `@ghostfleet/local-services`: what a local fleet needs beside its own processes, shared by `ghostfleet devnet
 * up` (so it runs from the release executable, which carries no test code) and the tests (through
 * `@ghostfleet/testkit`, which re-exports all of it).
 *
 * ```ts
 * const redis = await startRedis()            // a private redis-server on a free loopback port, no persistence
 * const port = await freePort()
 * await eventually(async () => { if (!(await canConnect(port))) throw new Error('not yet') }, {
 *   timeoutMs: 15_000, description: `a server on ${port}`,
 * })                                          // poll with a deadline; never sleep a guessed time
 * await redis.stop()
 * ```
 */
export { type EventuallyOptions, eventually } from './eventually.js'
export { canConnect, freePort } from './ports.js'
export { type LocalRedis, requireRedisServer, startRedis } from './redis-server.js'
