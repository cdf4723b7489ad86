import { writeFile } from 'node:fs/promises'
import {
  eventually,
  freePort,
  runProcess,
  startProcess,
  startRedis,
  type TempDir,
  type TestProcess,
  type TestRedis,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keysOf, publishReport, type RedisClient, readDesiredState, writeDesiredState } from '../src/index.js'
import { connect, makeDesired, makeReport } from './fixtures.js'

/** A master and one real Sentinel monitoring it (`redis-server --sentinel`), found by name like in production. */
let master: TestRedis
let sentinel: TestProcess
let dir: TempDir
let tracker: RedisClient
let sidecar: RedisClient

beforeAll(async () => {
  master = await startRedis()
  dir = await tempDir('ghostfleet-sentinel-')
  const port = await freePort()
  const config = `${dir.path}/sentinel.conf`
  await writeFile(config, `port ${port}\nbind 127.0.0.1\nsentinel monitor fleet 127.0.0.1 ${master.port} 1\n`)
  sentinel = startProcess('redis-server', [config, '--sentinel'])
  const ask = () =>
    runProcess('redis-cli', ['-p', String(port), 'SENTINEL', 'get-master-addr-by-name', 'fleet'])
  await eventually(async () => expect((await ask()).stdout).toContain(String(master.port)), {
    timeoutMs: 15_000,
  })
  const sentinels = [{ host: '127.0.0.1', port }]
  tracker = connect({ role: 'tracker', sentinels, sentinelName: 'fleet' })
  sidecar = connect({ role: 'sidecar', sentinels, sentinelName: 'fleet' })
  await eventually(() => expect(sidecar.status).toBe('ready'), { timeoutMs: 15_000 })
})
afterAll(async () => {
  await sentinel?.stop()
  await master?.stop()
  await dir?.remove()
})

describe('through Sentinel', () => {
  it('finds the master and runs the single-Redis protocol (both fences in one script)', async () => {
    await publishReport(sidecar, makeReport(), { intervalMs: 10_000 })
    expect(await tracker.exists(keysOf(tracker).report('osmosis-a'))).toBe(1)
    await tracker.set(keysOf(tracker).epoch, '2')
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 1 }))).toMatchObject({
      status: 'not-leader-epoch',
    })
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 2 }))).toMatchObject({ status: 'written' })
    expect((await readDesiredState(sidecar, 'osmosis-a'))?.epoch).toBe(2)
  })
})
