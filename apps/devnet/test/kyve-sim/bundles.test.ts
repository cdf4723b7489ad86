import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KyveSimulator, startKyveSimulator } from '../../src/kyve-sim/index.js'
import { getJson, getText, shapeProblems } from './helpers.js'
import { FINALIZED_BUNDLE, PAGE_RESPONSE } from './shapes.js'

interface Bundle {
  id: string
  from_index: string
  to_index: string
  from_key: string
  to_key: string
  bundle_summary: string
  finalized_at: { height: string; timestamp: string }
}
interface BundleList {
  finalized_bundles: Bundle[]
  pagination: { next_key: string | null; total: string } | null
}

/** The store key of bundle `id` as base64, as `pagination.next_key` carries it. */
function keyOf(id: number): string {
  const buffer = Buffer.alloc(8)
  buffer.writeBigUInt64BE(BigInt(id))
  return buffer.toString('base64')
}

describe('finalized bundle routes', () => {
  let kyve: KyveSimulator
  let pool: { current_key: string; current_index: string; total_bundles: string; current_summary: string }

  beforeAll(async () => {
    kyve = await startKyveSimulator({ pools: [{ id: 1, maxBundleSize: 10 }] })
    // Rounds: propose 1-10 | finalize, 11-20 | 21-30 | 31-35 | finalize 31-35, nothing new to propose.
    for (let round = 0; round < 5; round++) await kyve.setPool(1, { tick: true, chainHeight: 35 })
    pool = (await getJson<{ pool: { data: typeof pool } }>(`${kyve.url}/kyve/query/v1beta1/pool/1`)).body.pool
      .data
  })
  afterAll(async () => {
    await kyve.stop()
  })

  it('lists every finalized bundle in id order with the documented field types and order', async () => {
    const { status, body } = await getJson<BundleList>(`${kyve.url}/kyve/v1/bundles/1`)
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['finalized_bundles', 'pagination'])
    expect(shapeProblems(body.pagination, PAGE_RESPONSE)).toEqual([])
    expect(body.pagination).toEqual({ next_key: null, total: '4' })
    expect(pool.total_bundles).toBe('4')
    const bundles = body.finalized_bundles
    expect(bundles.map((bundle) => [bundle.id, bundle.from_key, bundle.to_key])).toEqual([
      ['0', '1', '10'],
      ['1', '11', '20'],
      ['2', '21', '30'],
      ['3', '31', '35'],
    ])
    bundles.forEach((bundle, i) => {
      expect(shapeProblems(bundle, FINALIZED_BUNDLE)).toEqual([])
      expect(Number(bundle.to_index) - Number(bundle.from_index)).toBe(
        Number(bundle.to_key) - Number(bundle.from_key) + 1,
      )
      if (i > 0) expect(bundle.from_index).toBe(bundles[i - 1]?.to_index)
      expect(Number(bundle.finalized_at.height)).toBeGreaterThan(0)
    })
    const latest = bundles.at(-1)
    expect(latest?.to_key).toBe(pool.current_key)
    expect(latest?.to_index).toBe(pool.current_index)
    expect(latest?.bundle_summary).toBe(pool.current_summary)
  })

  it('gives the latest validated height with pagination.limit=1&pagination.reverse=true', async () => {
    const { body } = await getJson<BundleList>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=1&pagination.reverse=true`,
    )
    expect(body.finalized_bundles).toHaveLength(1)
    expect(body.finalized_bundles[0]?.to_key).toBe(pool.current_key)
    // KYVE's reverse pagination returns the key of the last bundle it returned as next_key.
    expect(body.pagination).toEqual({ next_key: keyOf(3), total: '4' })
    const next = await getJson<BundleList>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=2&pagination.reverse=true&pagination.key=${encodeURIComponent(keyOf(3))}`,
    )
    expect(next.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['2', '1'])
    expect(next.body.pagination?.next_key).toBe(keyOf(1))
  })

  it('pages forward with limit, key and offset', async () => {
    const first = await getJson<BundleList>(`${kyve.url}/kyve/v1/bundles/1?pagination.limit=2`)
    expect(first.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['0', '1'])
    expect(first.body.pagination).toEqual({ next_key: keyOf(2), total: '4' })
    const second = await getJson<BundleList>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.limit=2&pagination.key=${encodeURIComponent(keyOf(2))}`,
    )
    expect(second.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['2', '3'])
    expect(second.body.pagination).toEqual({ next_key: null, total: '4' })
    const offset = await getJson<BundleList>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.offset=1&pagination.limit=2`,
    )
    expect(offset.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['1', '2'])
    const reverseOffset = await getJson<BundleList>(
      `${kyve.url}/kyve/v1/bundles/1?pagination.offset=1&pagination.limit=1&pagination.reverse=true`,
    )
    expect(reverseOffset.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['2'])
  })

  it('finds the bundle holding a data item with ?index=', async () => {
    const hit = await getJson<BundleList>(`${kyve.url}/kyve/v1/bundles/1?index=15`)
    expect(hit.body.finalized_bundles.map((bundle) => bundle.id)).toEqual(['1'])
    expect(hit.body.pagination).toBeNull()
    const miss = await getJson<BundleList>(`${kyve.url}/kyve/v1/bundles/1?index=35`)
    expect(miss.body).toEqual({ finalized_bundles: [], pagination: null })
  })

  it('answers an unknown pool with 200 and an empty list', async () => {
    const answer = await getText(`${kyve.url}/kyve/v1/bundles/99`)
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('{"finalized_bundles":[],"pagination":{"next_key":null,"total":"0"}}')
  })

  it('answers one bundle with its fields at the top level', async () => {
    const { status, body } = await getJson<Bundle>(`${kyve.url}/kyve/v1/bundles/1/2`)
    expect(status).toBe(200)
    expect(shapeProblems(body, FINALIZED_BUNDLE)).toEqual([])
    expect(body).toMatchObject({ id: '2', from_key: '21', to_key: '30', from_index: '20', to_index: '30' })
    expect((await getText(`${kyve.url}/kyve/v1/bundles/1/4`)).status).toBe(500)
    expect((await getText(`${kyve.url}/kyve/v1/bundles/99/0`)).status).toBe(500)
  })
})
