import {
  AllEndpointsFailedError,
  createKyveClient,
  DeadlineExceededError,
  EndpointHttpError,
  InvalidResponseError,
  type KyveClient,
  PoolHeightRegressionError,
  PoolNotFoundError,
  poolResponseSchema,
} from '@ghostfleet/kyve'
import { eventually } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type KyveSimulator,
  type KyveSimulatorOptions,
  startKyveSimulator,
} from '../../src/kyve-sim/index.js'
import { type FakeChain, getJson, startFakeChain } from './helpers.js'

/*
 * The real KYVE client of @ghostfleet/kyve against the simulator: what the tracker and sidecars will do.
 */

const simulators: KyveSimulator[] = []
const clients: KyveClient[] = []
let chain: FakeChain | undefined
afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await Promise.all(simulators.splice(0).map((simulator) => simulator.stop()))
  await chain?.close()
  chain = undefined
})

async function start(options: Partial<KyveSimulatorOptions> = {}): Promise<KyveSimulator> {
  const simulator = await startKyveSimulator({ pools: [{ id: 1, currentKey: '1000' }], ...options })
  simulators.push(simulator)
  return simulator
}

function client(endpoints: string[], deadlineMs = 2_000, requestTimeoutMs = 1_000): KyveClient {
  const created = createKyveClient({
    chainId: 'kyve-1',
    endpoints,
    deadlineMs,
    requestTimeoutMs,
    backoff: { initialMs: 5, maxMs: 20 },
  })
  clients.push(created)
  return created
}

/** The endpoint failures behind a failed getPool (retries until the deadline), or its error itself. */
async function failureOf(promise: Promise<unknown>): Promise<Error[]> {
  try {
    await promise
  } catch (error) {
    if (error instanceof AllEndpointsFailedError || error instanceof DeadlineExceededError) {
      return error.failures.map((failure) => failure.error)
    }
    if (error instanceof Error) return [error]
  }
  throw new Error('getPool resolved; a failure was expected')
}

describe('bodies pass @ghostfleet/kyve poolResponseSchema', () => {
  it.each(['1.5', '1.4'] as const)(
    'for every pool state the simulator can show (chain v%s)',
    async (apiVersion) => {
      const kyve = await start({
        apiVersion,
        pools: [
          { id: 1 },
          { id: 2, currentKey: '123456' },
          { id: 3, disabled: true },
          { id: 4, endKey: apiVersion === '1.5' ? '50' : undefined, currentKey: '50' },
          { id: 5, runtime: '@kyvejs/tendermint-ssync', currentKey: '3000/1' },
          { id: 6, runtime: '@kyvejs/tendermint-bsync', maxBundleSize: 7 },
        ],
      })
      await kyve.setPool(6, { tick: true, chainHeight: 100 })
      for (const id of [1, 2, 3, 4, 5, 6]) {
        const { body } = await getJson(`${kyve.url}/kyve/query/v1beta1/pool/${id}`)
        const parsed = poolResponseSchema.safeParse(body)
        expect(parsed.success ? [] : parsed.error.issues, `pool ${id}`).toEqual([])
      }
      for (const query of ['', '?disabled=true']) {
        const list = await getJson<{ pools: unknown[] }>(`${kyve.url}/kyve/query/v1beta1/pools${query}`)
        for (const entry of list.body.pools)
          expect(poolResponseSchema.safeParse({ pool: entry }).success).toBe(true)
      }
    },
  )
})

describe('createKyveClient against the simulator', () => {
  it('reads a valid pool: start_key before the first bundle, then current_key', async () => {
    const kyve = await start({ pools: [{ id: 1, startKey: '7', maxBundleSize: 250 }], uploadInterval: 30 })
    const kyveClient = client([kyve.url])
    const fresh = await kyveClient.getPool(1)
    expect(fresh).toMatchObject({
      poolId: 1,
      chainId: 'kyve-1',
      currentKey: '',
      poolHeightKey: '7',
      poolHeight: 7,
      maxBundleSize: 250,
      uploadInterval: 30,
      status: 'POOL_STATUS_ACTIVE',
      runtime: '@kyvejs/tendermint',
      totalBundles: 0,
      endpoint: kyve.url,
    })
    await kyve.setPool(1, { currentKey: '4000' })
    expect(await kyveClient.getPool(1)).toMatchObject({
      poolHeightKey: '4000',
      poolHeight: 4000,
      totalBundles: 1,
    })
    // One request per getPool, as the tracker's request counting relies on.
    expect(kyve.stats().byPool['1']?.byRoute.pool).toBe(2)
  })

  it('reports a state-sync pool key as non-integer', async () => {
    const kyve = await start({
      pools: [{ id: 5, runtime: '@kyvejs/tendermint-ssync', currentKey: '2000/2' }],
    })
    expect(await client([kyve.url]).getPool(5)).toMatchObject({
      poolHeightKey: '2000/2',
      poolHeight: null,
      keyIsInteger: false,
    })
  })

  it('maps the 500 "key not found" answer to PoolNotFoundError', async () => {
    const kyve = await start()
    await expect(client([kyve.url]).getPool(9)).rejects.toBeInstanceOf(PoolNotFoundError)
  })

  it('maps garbage and wrong-shape answers to InvalidResponseError', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'garbage', poolId: 1 })
    const garbage = await failureOf(client([kyve.url], 300).getPool(1))
    expect(garbage[0]).toBeInstanceOf(InvalidResponseError)
    expect(garbage[0]?.message).toContain('not JSON')
    kyve.clearFaults()
    kyve.setFault({ kind: 'schema', poolId: 1 })
    const schema = await failureOf(client([kyve.url], 300).getPool(1))
    expect(schema[0]).toBeInstanceOf(InvalidResponseError)
  })

  it('maps the error500 fault to an HTTP error, not to "not found"', async () => {
    const kyve = await start()
    kyve.setFault({ kind: 'error500', poolId: 1 })
    const failures = await failureOf(client([kyve.url], 300).getPool(1))
    expect(failures[0]).toBeInstanceOf(EndpointHttpError)
    expect(failures[0]).not.toBeInstanceOf(PoolNotFoundError)
  })

  it('rejects a regressing answer', async () => {
    const kyve = await start()
    const kyveClient = client([kyve.url], 300)
    expect((await kyveClient.getPool(1)).poolHeight).toBe(1000)
    kyve.setFault({ kind: 'regress', poolId: 1, regressBy: 100 })
    const failures = await failureOf(kyveClient.getPool(1))
    expect(failures[0]).toBeInstanceOf(PoolHeightRegressionError)
  })

  it('fails over from a faulty simulator to a healthy one', async () => {
    const broken = await start()
    const healthy = await start()
    broken.setFault({ kind: 'error500' })
    const kyveClient = client([broken.url, healthy.url])
    const progress = await kyveClient.getPool(1)
    expect(progress.endpoint).toBe(healthy.url)
    expect(progress.poolHeight).toBe(1000)
    expect(broken.stats().byPool['1']?.byRoute.pool).toBe(1)
    expect(healthy.stats().byPool['1']?.byRoute.pool).toBe(1)
  })

  it('fails over when the first endpoint is too slow, stale or says the pool is missing', async () => {
    const first = await start()
    const second = await start()
    await second.setPool(1, { currentKey: '1100' })
    first.setFault({ kind: 'delay', delayMs: 2_000 })
    const slowClient = client([first.url, second.url], 5_000, 300)
    const afterTimeout = await slowClient.getPool(1)
    expect(afterTimeout).toMatchObject({ endpoint: second.url, poolHeight: 1100 })
    const slow = slowClient.health().find((entry) => entry.url === first.url)
    expect(slow?.consecutiveFailures).toBe(1)
    expect(slow?.lastError).toContain('300')
    first.clearFaults()
    first.setFault({ kind: 'notfound', poolId: 1 })
    expect(await client([first.url, second.url]).getPool(1)).toMatchObject({ endpoint: second.url })
    first.clearFaults()
    // A client that accepted 1100 from the second endpoint rejects the first one's older 1000.
    const staleClient = client([second.url, first.url])
    await staleClient.getPool(1)
    second.setFault({ kind: 'error500' })
    const failures = await failureOf(staleClient.getPool(1))
    expect(failures.some((error) => error instanceof PoolHeightRegressionError)).toBe(true)
  })

  it('follows a pool that advances with its chain, never above the node and never backwards', async () => {
    chain = await startFakeChain(600)
    const kyve = await start({ pools: [{ id: 1 }], chainRpc: chain.url, bundleEveryMs: 30 })
    const kyveClient = client([kyve.url])
    let last = 0
    await eventually(
      async () => {
        const progress = await kyveClient.getPool(1)
        expect(progress.poolHeight).not.toBeNull()
        const height = progress.poolHeight ?? 0
        expect(height).toBeGreaterThanOrEqual(last)
        expect(height).toBeLessThanOrEqual(600)
        last = height
        expect(height).toBe(600)
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    )
  })
})
