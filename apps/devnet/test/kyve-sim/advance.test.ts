import { eventually, freePort } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type KyveSimLogEntry,
  type KyveSimulator,
  type KyveSimulatorOptions,
  PoolChangeRejectedError,
  startKyveSimulator,
} from '../../src/kyve-sim/index.js'
import { type FakeChain, getJson, startFakeChain } from './helpers.js'

interface PoolData {
  start_key: string
  current_key: string
  current_index: string
  total_bundles: string
  current_summary: string
}
interface Proposal {
  storage_id: string
  from_key: string
  to_key: string
  bundle_size: string
  next_uploader: string
  uploader: string
  updated_at: string
  voters_valid: string[]
}
interface PoolBody {
  pool: { data: PoolData; bundle_proposal: Proposal; status: string }
}

let simulator: KyveSimulator | undefined
let chain: FakeChain | undefined
afterEach(async () => {
  await simulator?.stop()
  await chain?.close()
  simulator = undefined
  chain = undefined
})

async function start(options: KyveSimulatorOptions): Promise<KyveSimulator> {
  simulator = await startKyveSimulator(options)
  return simulator
}

async function poolOf(kyve: KyveSimulator, id = 1): Promise<PoolBody['pool']> {
  return (await getJson<PoolBody>(`${kyve.url}/kyve/query/v1beta1/pool/${id}`)).body.pool
}

/** Invariants of an integer-key pool that every answer must satisfy, whatever the moment. */
function checkInvariants(pool: PoolBody['pool'], chainHeight: number, maxBundleSize: number, lag = 0): void {
  const current = pool.data.current_key === '' ? 0 : Number(pool.data.current_key)
  expect(current).toBeLessThanOrEqual(chainHeight - lag)
  // start_key 1 and contiguous bundles: the data-item index equals the height.
  expect(Number(pool.data.current_index)).toBe(current)
  const proposal = pool.bundle_proposal
  if (proposal.storage_id !== '') {
    expect(Number(proposal.from_key)).toBe(current + 1)
    expect(Number(proposal.to_key)).toBeLessThanOrEqual(chainHeight - lag)
    const size = Number(proposal.to_key) - Number(proposal.from_key) + 1
    expect(size).toBe(Number(proposal.bundle_size))
    expect(size).toBeLessThanOrEqual(maxBundleSize)
    expect(size).toBeGreaterThan(0)
  }
}

describe('pools follow the data-source node', () => {
  it('advance bundle by bundle up to the node height, never beyond, and resume when it grows', async () => {
    chain = await startFakeChain(1000)
    const kyve = await start({
      pools: [{ id: 1 }],
      chainRpc: chain.url,
      bundleEveryMs: 30,
      maxBundleSize: 100,
    })
    const seen = new Set<string>()
    await eventually(
      async () => {
        const pool = await poolOf(kyve)
        checkInvariants(pool, 1000, 100)
        seen.add(pool.data.current_key)
        expect(pool.data.current_key).toBe('1000')
      },
      { timeoutMs: 20_000, intervalMs: 20, description: 'pool 1 to reach the node height 1000' },
    )
    // It moved in bundles of max_bundle_size, not in one jump.
    expect(seen.size).toBeGreaterThan(2)
    // With nothing new on the node, the next uploader skips: an empty proposal with only next_uploader set.
    const idle = await eventually(async () => {
      const pool = await poolOf(kyve)
      expect(pool.bundle_proposal.storage_id).toBe('')
      return pool
    })
    expect(idle.bundle_proposal).toMatchObject({ from_key: '', to_key: '', bundle_size: '0', uploader: '' })
    expect(idle.bundle_proposal.next_uploader).toMatch(/^kyve1/)
    expect(Number(idle.bundle_proposal.updated_at)).toBeGreaterThan(0)
    expect(idle.data.total_bundles).toBe('10')

    chain.height = 1250
    await eventually(
      async () => {
        const pool = await poolOf(kyve)
        checkInvariants(pool, 1250, 100)
        expect(pool.data.current_key).toBe('1250')
      },
      { timeoutMs: 20_000, intervalMs: 20, description: 'pool 1 to follow the node to 1250' },
    )
    const latest = await getJson<{ finalized_bundles: Array<{ from_key: string; to_key: string }> }>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=1&pagination.reverse=true`,
    )
    expect(latest.body.finalized_bundles[0]).toMatchObject({ from_key: '1201', to_key: '1250' })
  })

  it('stays lag blocks below the node', async () => {
    chain = await startFakeChain(500)
    const kyve = await start({ pools: [{ id: 1 }], chainRpc: chain.url, bundleEveryMs: 30, lagBlocks: 20 })
    await eventually(
      async () => {
        const pool = await poolOf(kyve)
        checkInvariants(pool, 500, 100, 20)
        expect(pool.data.current_key).toBe('480')
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    )
    const more = chain.requests + 3
    await eventually(() => expect(chain?.requests).toBeGreaterThanOrEqual(more))
    expect((await poolOf(kyve)).data.current_key).toBe('480')
  })

  it('never goes past its height cap, and moves on when the cap is raised or lifted', async () => {
    chain = await startFakeChain(500)
    const kyve = await start({ pools: [{ id: 1, paused: true }], chainRpc: chain.url, bundleEveryMs: 30 })
    await kyve.setPool(1, { heightCap: 230, paused: false })
    await eventually(async () => expect((await poolOf(kyve)).data.current_key).toBe('230'), {
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    const more = chain.requests + 3
    await eventually(() => expect(chain?.requests).toBeGreaterThanOrEqual(more))
    expect((await poolOf(kyve)).data.current_key).toBe('230')
    expect(kyve.pool(1).heightCap).toBe(230)
    expect(kyve.pool(1).lastRound?.detail).toMatch(/cap 230/)

    await kyve.setPool(1, { heightCap: 260 })
    await eventually(async () => expect((await poolOf(kyve)).data.current_key).toBe('260'), {
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    await kyve.setPool(1, { heightCap: null })
    await eventually(async () => expect((await poolOf(kyve)).data.current_key).toBe('500'), {
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    await expect(kyve.setPool(1, { heightCap: -1 })).rejects.toThrow(/heightCap/)
  })

  it('does not advance while the node is unreachable, logs the outage once, and resumes after it', async () => {
    chain = await startFakeChain(300)
    const logs: KyveSimLogEntry[] = []
    const kyve = await start({
      pools: [{ id: 1 }],
      chainRpc: chain.url,
      bundleEveryMs: 30,
      log: (entry) => logs.push(entry),
    })
    await eventually(async () => expect((await poolOf(kyve)).data.current_key).toBe('300'), {
      timeoutMs: 20_000,
    })
    chain.mode = 'down'
    chain.height = 900
    const failedRounds = chain.requests + 4
    await eventually(() => expect(chain?.requests).toBeGreaterThanOrEqual(failedRounds))
    expect((await poolOf(kyve)).data.current_key).toBe('300')
    expect(kyve.pool(1).lastRound?.outcome).toBe('chain-unreachable')
    expect(logs.filter((entry) => entry.msg.startsWith('chain RPC unreachable'))).toHaveLength(1)
    chain.mode = 'ok'
    await eventually(async () => expect((await poolOf(kyve)).data.current_key).toBe('900'), {
      timeoutMs: 20_000,
    })
    expect(logs.filter((entry) => entry.msg === 'chain RPC reachable again')).toHaveLength(1)
  })

  it('does not finalize the pending proposal while the node cannot be asked', async () => {
    chain = await startFakeChain(300)
    const kyve = await start({ pools: [{ id: 1, paused: true }], chainRpc: chain.url })
    await kyve.setPool(1, { tick: true })
    expect(kyve.pool(1).proposal).toMatchObject({ fromKey: '1', toKey: '100' })
    chain.mode = 'down'
    const snapshot = await kyve.setPool(1, { tick: true })
    expect(snapshot.lastRound).toMatchObject({
      trigger: 'manual',
      outcome: 'chain-unreachable',
      chainHeight: null,
    })
    expect(snapshot).toMatchObject({
      currentKey: '',
      totalBundles: 0,
      proposal: { fromKey: '1', toKey: '100' },
    })
    chain.mode = 'ok'
    expect(await kyve.setPool(1, { tick: true })).toMatchObject({ currentKey: '100', totalBundles: 1 })
  })

  it('treats a node that refuses connections or answers garbage as unreachable', async () => {
    const closedPort = await freePort()
    const kyve = await start({
      pools: [{ id: 1 }],
      chainRpc: `http://127.0.0.1:${closedPort}`,
      bundleEveryMs: 30,
    })
    await eventually(() => expect(kyve.pool(1).lastRound?.outcome).toBe('chain-unreachable'))
    expect(kyve.pool(1).lastRound?.detail).toContain(`127.0.0.1:${closedPort}`)
    expect((await poolOf(kyve)).data.current_key).toBe('')
    chain = await startFakeChain(50)
    chain.mode = 'garbage'
    const second = await startKyveSimulator({ pools: [{ id: 1 }], chainRpc: chain.url, bundleEveryMs: 30 })
    try {
      await eventually(() => expect(second.pool(1).lastRound?.detail).toContain('non-JSON'))
      expect((await poolOf(second)).data.current_key).toBe('')
    } finally {
      await second.stop()
    }
  })

  it('reads a missing last_block_height as 0: nothing to bundle yet', async () => {
    chain = await startFakeChain(0)
    chain.mode = 'missing'
    const kyve = await start({ pools: [{ id: 1 }], chainRpc: chain.url, bundleEveryMs: 30 })
    await eventually(() => expect(kyve.pool(1).lastRound?.outcome).toBe('skipped'))
    const pool = await poolOf(kyve)
    expect(pool.data.current_key).toBe('')
    expect(pool.bundle_proposal.storage_id).toBe('')
  })
})

describe('round semantics (driven by hand)', () => {
  it('keeps current_key "" until the first bundle is finalized, one round after it was proposed', async () => {
    const kyve = await start({ pools: [{ id: 1, startKey: '101', maxBundleSize: 100 }] })
    await kyve.setPool(1, { tick: true, chainHeight: 150 })
    let pool = await poolOf(kyve)
    expect(pool.data.current_key).toBe('')
    expect(pool.data.start_key).toBe('101')
    expect(pool.bundle_proposal).toMatchObject({ from_key: '101', to_key: '150', bundle_size: '50' })
    expect(pool.bundle_proposal.voters_valid).toEqual([pool.bundle_proposal.uploader])
    await kyve.setPool(1, { tick: true, chainHeight: 400 })
    pool = await poolOf(kyve)
    expect(pool.data).toMatchObject({ current_key: '150', current_index: '50', total_bundles: '1' })
    expect(pool.bundle_proposal).toMatchObject({ from_key: '151', to_key: '250', bundle_size: '100' })
    // The pending proposal is not validated: the latest finalized bundle still ends at current_key.
    const latest = await getJson<{ finalized_bundles: Array<{ to_key: string }> }>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=1&pagination.reverse=true`,
    )
    expect(latest.body.finalized_bundles[0]?.to_key).toBe('150')
  })

  it('rotates uploaders: the next proposal is made by the previous next_uploader', async () => {
    const kyve = await start({ pools: [{ id: 1, maxBundleSize: 10 }] })
    await kyve.setPool(1, { tick: true, chainHeight: 100 })
    const first = (await poolOf(kyve)).bundle_proposal
    await kyve.setPool(1, { tick: true, chainHeight: 100 })
    const second = (await poolOf(kyve)).bundle_proposal
    expect(second.uploader).toBe(first.next_uploader)
    expect(second.uploader).not.toBe(first.uploader)
  })

  it('sets current_key directly, forward and backward, keeping bundles consistent', async () => {
    const kyve = await start({ pools: [{ id: 1 }] })
    let snapshot = await kyve.setPool(1, { currentKey: '5000' })
    expect(snapshot.currentKey).toBe('5000')
    let pool = await poolOf(kyve)
    expect(pool.data).toMatchObject({ current_key: '5000', current_index: '5000', total_bundles: '1' })
    snapshot = await kyve.setPool(1, { currentKey: '6000' })
    snapshot = await kyve.setPool(1, { currentKey: '5500' })
    pool = await poolOf(kyve)
    expect(pool.data).toMatchObject({ current_key: '5500', current_index: '5500', total_bundles: '2' })
    const list = await getJson<{ finalized_bundles: Array<{ from_key: string; to_key: string }> }>(
      `${kyve.url}/kyve/v1/bundles/1`,
    )
    expect(list.body.finalized_bundles.map((bundle) => [bundle.from_key, bundle.to_key])).toEqual([
      ['1', '5000'],
      ['5001', '5500'],
    ])
    await kyve.setPool(1, { currentKey: '' })
    pool = await poolOf(kyve)
    expect(pool.data).toMatchObject({
      current_key: '',
      current_index: '0',
      total_bundles: '0',
      current_summary: '',
    })
  })

  it('rejects an impossible current key and changes nothing', async () => {
    const kyve = await start({ pools: [{ id: 1, currentKey: '700', startKey: '500' }] })
    await expect(kyve.setPool(1, { currentKey: 'abc', maxBundleSize: 5 })).rejects.toThrow(
      PoolChangeRejectedError,
    )
    await expect(kyve.setPool(1, { currentKey: '499' })).rejects.toThrow(/before start_key 500/)
    const snapshot = kyve.pool(1)
    expect(snapshot).toMatchObject({ currentKey: '700', maxBundleSize: 100 })
  })

  it('stops at end_key: END_KEY_REACHED halts the pool', async () => {
    const kyve = await start({ pools: [{ id: 1, endKey: '150', maxBundleSize: 100 }] })
    for (let round = 0; round < 4; round++) await kyve.setPool(1, { tick: true, chainHeight: 1000 })
    const pool = await poolOf(kyve)
    expect(pool.data.current_key).toBe('150')
    expect(pool.status).toBe('POOL_STATUS_END_KEY_REACHED')
    expect(kyve.pool(1).lastRound?.outcome).toBe('halted')
  })

  it('does not run rounds for a disabled pool', async () => {
    const kyve = await start({ pools: [{ id: 1, disabled: true }] })
    await kyve.setPool(1, { tick: true, chainHeight: 1000 })
    expect(kyve.pool(1).lastRound?.outcome).toBe('halted')
    expect((await poolOf(kyve)).bundle_proposal.storage_id).toBe('')
  })

  it('uses height/chunk keys for a state-sync pool', async () => {
    const kyve = await start({
      pools: [{ id: 5, runtime: '@kyvejs/tendermint-ssync', snapshotInterval: 1000, snapshotChunks: 3 }],
    })
    await kyve.setPool(5, { tick: true, chainHeight: 2500 })
    await kyve.setPool(5, { tick: true, chainHeight: 2500 })
    const pool = await poolOf(kyve, 5)
    expect(pool.data).toMatchObject({
      start_key: '1000/0',
      current_key: '2000/2',
      current_summary: '2000/3/2/3',
      current_index: '6',
    })
    await expect(kyve.setPool(5, { currentKey: '1500/0' })).rejects.toThrow(/not a snapshot height/)
  })
})

describe('pausing and freezing', () => {
  it('pause stops the automatic rounds, tick still runs one, resume continues', async () => {
    chain = await startFakeChain(10_000)
    const kyve = await start({ pools: [{ id: 1, paused: true }], chainRpc: chain.url, bundleEveryMs: 30 })
    expect(kyve.pool(1).paused).toBe(true)
    const snapshot = await kyve.setPool(1, { tick: true })
    expect(snapshot.lastRound).toMatchObject({ trigger: 'manual', outcome: 'proposed', chainHeight: 10_000 })
    expect(snapshot.proposal).toMatchObject({ fromKey: '1', toKey: '100' })
    const requests = chain.requests
    await kyve.setPool(1, { paused: false })
    await eventually(async () =>
      expect(Number((await poolOf(kyve)).data.current_key)).toBeGreaterThanOrEqual(500),
    )
    expect(chain.requests).toBeGreaterThan(requests)
    const paused = await kyve.setPool(1, { paused: true })
    // One round may have been running when the pause arrived; after it nothing moves.
    const key = (await poolOf(kyve)).data.current_key
    const more = chain.requests
    await kyve.setPool(1, { tick: true })
    expect(paused.paused).toBe(true)
    expect(chain.requests).toBe(more + 1)
    const afterTick = (await poolOf(kyve)).data.current_key
    expect(Number(afterTick)).toBe(Number(key) + 100)
  })

  it('a freeze fault stops advancing until cleared', async () => {
    chain = await startFakeChain(100_000)
    const kyve = await start({ pools: [{ id: 1 }, { id: 2 }], chainRpc: chain.url, bundleEveryMs: 30 })
    const fault = kyve.setFault({ kind: 'freeze', poolId: 1 })
    expect(kyve.pool(1).frozen).toBe(true)
    // An empty change queues behind a round that was already running when the fault arrived.
    await kyve.setPool(1, {})
    const frozenAt = (await poolOf(kyve, 1)).data.current_key
    await eventually(async () =>
      expect(Number((await poolOf(kyve, 2)).data.current_key)).toBeGreaterThanOrEqual(500),
    )
    expect((await poolOf(kyve, 1)).data.current_key).toBe(frozenAt)
    expect(kyve.clearFault(fault.id)).toBe(true)
    await eventually(async () =>
      expect(Number((await poolOf(kyve, 1)).data.current_key)).toBeGreaterThan(Number(frozenAt || 0)),
    )
  })
})
