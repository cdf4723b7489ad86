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
 *
 * metricValue(await getText(`${url}/metrics`), 'ghostfleet_prunes_total', { outcome: 'ok' })
 * ```
 *
 * `eventually`, `freePort` and `startRedis` are `@ghostfleet/local-services`' (the demo fleet runs them too), re-exported.
 * `SimNet` (simulated nodes and real sidecars from the built CLIs, each sidecar with the config the test writes) is
 * completed by each suite with the simulated KYVE API and the sidecar's node finder, which the kit cannot import:
 * both packages depend on it. A whole fleet as the demo runs it (Redis, trackers, sidecars made by `init`) is
 * devnet's `LocalFleet`. `startFakeConsul()` serves a Consul agent's documented HTTP API; `FAKE_NODE` is a
 * stand-in node process for supervisor tests. `logLines` and `disruptions` read what a sidecar's JSON log says
 * happened; `processesMentioning` finds what a test left running.
 */
export {
  canConnect,
  type EventuallyOptions,
  eventually,
  freePort,
  type LocalRedis as TestRedis,
  requireRedisServer,
  startRedis,
} from '@ghostfleet/local-services'
export {
  type CheckState,
  type FakeConsul,
  type FakeConsulOptions,
  type RecordedRequest,
  type ServiceState,
  startFakeConsul,
} from './fake-consul/index.js'
export { FAKE_NODE } from './fake-node.js'
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
export { getJson, getText, type Json } from './http.js'
export {
  processesMentioning,
  runProcess,
  type StartProcessOptions,
  startProcess,
  type TestProcess,
} from './process.js'
export { metricSum, metricValue } from './prometheus-text.js'
export { type Disruption, disruptions, logLines, overlapping } from './sidecar-log.js'
export {
  addressBookWith,
  answeredHeight,
  type Follower,
  type HomeInfo,
  nodeStatus,
  type Producer,
  SIDECAR_CLI,
  SIM_CHAIN_ID,
  SIMNODE_CLI,
  SidecarProcess,
  SimNet,
  type Stoppable,
  TRACKER_CLI,
  testConfig,
} from './simnet.js'
export { type TempDir, tempDir } from './temp.js'
