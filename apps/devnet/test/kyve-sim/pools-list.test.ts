import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KyveSimulator, startKyveSimulator } from '../../src/kyve-sim/index.js'
import { getJson, shapeProblems } from './helpers.js'
import { PAGE_RESPONSE, POOL_RESPONSE_V15 } from './shapes.js'

interface PoolsList {
  pools: Array<{ id: string }>
  pagination: { next_key: string | null; total: string }
}

describe('GET /kyve/query/v1beta1/pools', () => {
  let kyve: KyveSimulator
  const ids = async (query = '') =>
    (await getJson<PoolsList>(`${kyve.url}/kyve/query/v1beta1/pools${query}`)).body.pools.map(
      (pool) => pool.id,
    )

  beforeAll(async () => {
    kyve = await startKyveSimulator({
      pools: [
        { id: 1, name: 'Osmosis' },
        { id: 2, name: 'Cosmos Hub', disabled: true },
        { id: 3, name: 'Archway', runtime: '@kyvejs/tendermint-bsync' },
      ],
    })
  })
  afterAll(async () => {
    await kyve.stop()
  })

  it('lists the enabled pools with a counted total', async () => {
    const { status, body } = await getJson<PoolsList>(`${kyve.url}/kyve/query/v1beta1/pools`)
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['pools', 'pagination'])
    expect(body.pools.map((pool) => pool.id)).toEqual(['1', '3'])
    for (const pool of body.pools) expect(shapeProblems(pool, POOL_RESPONSE_V15)).toEqual([])
    expect(shapeProblems(body.pagination, PAGE_RESPONSE)).toEqual([])
    expect(body.pagination).toEqual({ next_key: null, total: '2' })
  })

  it('shows disabled pools only with ?disabled=true, and then only them (the documented surprise)', async () => {
    expect(await ids('?disabled=true')).toEqual(['2'])
    expect(await ids('?disabled=false')).toEqual(['1', '3'])
  })

  it('filters by name substring (case-insensitive), runtime and storage provider', async () => {
    expect(await ids('?search=OSMO')).toEqual(['1'])
    expect(await ids('?runtime=%40kyvejs%2Ftendermint-bsync')).toEqual(['3'])
    expect(await ids('?storage_provider_id=2')).toEqual(['1', '3'])
    expect(await ids('?storage_provider_id=1')).toEqual([])
  })

  it('paginates like the SDK FilteredPaginate: total only when counted, next_key = first of the next page', async () => {
    const first = await getJson<PoolsList>(`${kyve.url}/kyve/query/v1beta1/pools?pagination.limit=1`)
    expect(first.body.pools.map((pool) => pool.id)).toEqual(['1'])
    expect(first.body.pagination).toEqual({ next_key: 'AAAAAAAAAAM=', total: '0' })
    const counted = await getJson<PoolsList>(
      `${kyve.url}/kyve/query/v1beta1/pools?pagination.limit=1&pagination.count_total=true`,
    )
    expect(counted.body.pagination.total).toBe('2')
    expect(await ids('?pagination.limit=1&pagination.key=AAAAAAAAAAM%3D')).toEqual(['3'])
    expect(await ids('?pagination.reverse=true')).toEqual(['3', '1'])
  })
})
