import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { POOL_STATUSES, poolResponseSchema } from '../src/index.js'
import { dataOf, fixture, type Json, osmosis, poolOf } from './helpers/fake-kyve.js'

function issues(body: unknown): string[] {
  const result = poolResponseSchema.safeParse(body)
  if (result.success) return []
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
}

function expectRejectedAt(body: unknown, path: string): void {
  const found = issues(body)
  expect(found.length, 'the body should have been rejected').toBeGreaterThan(0)
  expect(
    found.some((line) => line.startsWith(`${path}:`)),
    `no issue at ${path}: ${found.join(' | ')}`,
  ).toBe(true)
}

describe('poolResponseSchema: the real field sets', () => {
  it('accepts the chain v1.4 Osmosis body', () => {
    const parsed = poolResponseSchema.parse(fixture('pool-osmosis-kyve-1-v1.4'))
    expect(parsed.pool.data.inflation_share_weight).toBe('2500000000')
    expect(parsed.pool.data.end_key).toBeUndefined()
    expect(parsed.pool.fundings).toBeUndefined()
  })

  it('accepts the chain v1.5+ Osmosis body', () => {
    const parsed = poolResponseSchema.parse(fixture('pool-osmosis-kyve-1-v1.5'))
    expect(parsed.pool.data.inflation_share_weight).toBe('1.000000000000000000')
    expect(parsed.pool.data.end_key).toBe('')
    expect(parsed.pool.fundings?.[0]?.amounts_per_bundle).toEqual([{ denom: 'ukyve', amount: '1000000' }])
  })

  it('accepts the chain v1.0 body of the KYVE docs (operating_cost, funders, total_funds, no account)', () => {
    const parsed = poolResponseSchema.parse(fixture('pool-moonbeam-v1.0-docs-example'))
    expect(parsed.pool.data.operating_cost).toBe('2500000000')
    expect(parsed.pool.account).toBeUndefined()
  })

  it('accepts each of the eight status names and nothing else', () => {
    expect(POOL_STATUSES).toHaveLength(8)
    for (const status of POOL_STATUSES) {
      const body = osmosis()
      poolOf(body)['status'] = status
      expect(issues(body)).toEqual([])
    }
    const body = osmosis()
    poolOf(body)['status'] = 'POOL_STATUS_PAUSED'
    expectRejectedAt(body, 'pool.status')
    poolOf(body)['status'] = 1
    expectRejectedAt(body, 'pool.status')
  })
})

describe('poolResponseSchema: types of the fields we use', () => {
  const stringFields = [
    'id',
    'start_key',
    'current_key',
    'max_bundle_size',
    'upload_interval',
    'total_bundles',
  ]
  for (const field of stringFields) {
    it(`rejects a JSON number in data.${field}`, () => {
      const body = osmosis()
      dataOf(body)[field] = 42
      expectRejectedAt(body, `pool.data.${field}`)
    })
  }

  it('rejects a JSON number as pool.id', () => {
    const body = osmosis()
    poolOf(body)['id'] = 1
    expectRejectedAt(body, 'pool.id')
  })

  it('rejects a string where a uint32 number belongs', () => {
    const body = osmosis()
    dataOf(body)['current_storage_provider_id'] = '2'
    expectRejectedAt(body, 'pool.data.current_storage_provider_id')
    const proposal = osmosis()
    ;(poolOf(proposal)['bundle_proposal'] as Json)['compression_id'] = '1'
    expectRejectedAt(proposal, 'pool.bundle_proposal.compression_id')
  })

  it('rejects uint64 strings that are not canonical or out of range', () => {
    for (const bad of ['', '007', '-1', '1.5', ' 100', '1e3', '18446744073709551616']) {
      const body = osmosis()
      dataOf(body)['max_bundle_size'] = bad
      expectRejectedAt(body, 'pool.data.max_bundle_size')
    }
    const body = osmosis()
    dataOf(body)['max_bundle_size'] = '18446744073709551615'
    expect(issues(body)).toEqual([])
  })

  it('accepts every canonical uint64 string (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (value) => {
        const body = osmosis()
        dataOf(body)['total_bundles'] = value.toString()
        return poolResponseSchema.safeParse(body).success
      }),
      { numRuns: 200 },
    )
  })

  it('rejects disabled as anything but a boolean, and a missing or empty runtime', () => {
    const body = osmosis()
    dataOf(body)['disabled'] = 'false'
    expectRejectedAt(body, 'pool.data.disabled')
    const noRuntime = osmosis()
    delete dataOf(noRuntime)['runtime']
    expectRejectedAt(noRuntime, 'pool.data.runtime')
    expectRejectedAt(osmosis({ runtime: '' }), 'pool.data.runtime')
  })

  it('requires bundle_proposal, data and the keys', () => {
    const body = osmosis()
    delete poolOf(body)['bundle_proposal']
    expectRejectedAt(body, 'pool.bundle_proposal')
    const noKey = osmosis()
    delete dataOf(noKey)['current_key']
    expectRejectedAt(noKey, 'pool.data.current_key')
    expectRejectedAt({ pool: null }, 'pool')
    expectRejectedAt([], '')
  })

  it('rejects a body whose data.id differs from pool.id', () => {
    const body = osmosis()
    dataOf(body)['id'] = '2'
    expectRejectedAt(body, 'pool.data.id')
  })
})

describe('poolResponseSchema: version sets', () => {
  it('rejects a u64 inflation_share_weight next to end_key (v1.5+ renders a LegacyDec)', () => {
    expectRejectedAt(osmosis({ inflation_share_weight: '1' }), 'pool.data.inflation_share_weight')
  })

  it('rejects a LegacyDec inflation_share_weight without end_key (v1.4 renders a u64)', () => {
    const body = fixture('pool-osmosis-kyve-1-v1.4')
    dataOf(body)['inflation_share_weight'] = '1.000000000000000000'
    expectRejectedAt(body, 'pool.data.inflation_share_weight')
  })

  it('requires fundings with end_key, and account since v1.3', () => {
    const body = osmosis()
    delete poolOf(body)['fundings']
    expectRejectedAt(body, 'pool.fundings')
    const v14 = fixture('pool-osmosis-kyve-1-v1.4')
    delete poolOf(v14)['account']
    expectRejectedAt(v14, 'pool.account')
  })

  it('rejects a body that matches no known version', () => {
    const body = fixture('pool-moonbeam-v1.0-docs-example')
    delete dataOf(body)['operating_cost']
    expectRejectedAt(body, 'pool.data')
  })

  it('rejects malformed fundings coins', () => {
    const body = osmosis()
    const fundings = poolOf(body)['fundings'] as Json[]
    ;(fundings[0] as Json)['amounts'] = [{ denom: 'ukyve', amount: 5 }]
    expectRejectedAt(body, 'pool.fundings.0.amounts.0.amount')
  })
})

describe('poolResponseSchema: tolerance', () => {
  it('accepts and strips unknown fields at every level', () => {
    const body = osmosis()
    body['future_top_level'] = { x: 1 }
    poolOf(body)['future_pool_field'] = 'x'
    dataOf(body)['future_data_field'] = [1, 2, 3]
    ;(poolOf(body)['bundle_proposal'] as Json)['future_proposal_field'] = true
    const parsed = poolResponseSchema.parse(body)
    expect(parsed.pool.data.current_key).toBe('17240700')
    expect(JSON.stringify(parsed)).not.toContain('future_')
  })
})
