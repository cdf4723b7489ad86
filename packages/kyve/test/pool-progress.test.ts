import { describe, expect, it } from 'vitest'
import { InvalidResponseError, type PoolProgress, poolResponseSchema, toPoolProgress } from '../src/index.js'
import { fixture, type Json, osmosis } from './helpers/fake-kyve.js'

const context = {
  chainId: 'kyve-1',
  endpoint: 'https://api.kyve.network',
  fetchedAt: 1_732_890_150_000,
  latencyMs: 42,
}

function progress(body: Json): PoolProgress {
  return toPoolProgress(poolResponseSchema.parse(body), context)
}

describe('toPoolProgress', () => {
  it('maps the v1.5 Osmosis body', () => {
    expect(progress(fixture('pool-osmosis-kyve-1-v1.5'))).toEqual({
      poolId: 1,
      chainId: 'kyve-1',
      poolHeightKey: '17240700',
      poolHeight: 17_240_700,
      keyIsInteger: true,
      startKey: '1',
      currentKey: '17240700',
      maxBundleSize: 100,
      uploadInterval: 60,
      status: 'POOL_STATUS_ACTIVE',
      runtime: '@kyvejs/tendermint',
      sourceNetwork: 'osmosis-1',
      disabled: false,
      totalBundles: 172_407,
      endpoint: 'https://api.kyve.network',
      fetchedAt: 1_732_890_150_000,
      latencyMs: 42,
    })
  })

  it('falls back to start_key before the first bundle, never to bundle_proposal.to_key', () => {
    const p = progress(osmosis({ start_key: '1', current_key: '', total_bundles: '0', current_index: '0' }))
    expect(p).toMatchObject({
      poolHeightKey: '1',
      poolHeight: 1,
      keyIsInteger: true,
      currentKey: '',
      startKey: '1',
    })
  })

  it('gives no height for a state-sync key "height/chunk"', () => {
    const p = progress(
      osmosis({ runtime: '@kyvejs/tendermint-ssync', start_key: '0/0', current_key: '123/4' }),
    )
    expect(p).toMatchObject({ poolHeightKey: '123/4', poolHeight: null, keyIsInteger: false })
  })

  it('gives no height for keys that are not canonical decimals', () => {
    for (const key of ['007', '-5', '1.5', '12 ', '0x10']) {
      expect(progress(osmosis({ current_key: key })).poolHeight, key).toBeNull()
    }
    expect(progress(osmosis({ current_key: '', start_key: '' })).poolHeight).toBeNull()
  })

  it('accepts Number.MAX_SAFE_INTEGER and rejects anything above it', () => {
    const max = String(Number.MAX_SAFE_INTEGER)
    const above = '9007199254740992'
    expect(progress(osmosis({ current_key: max })).poolHeight).toBe(Number.MAX_SAFE_INTEGER)
    for (const field of ['current_key', 'max_bundle_size', 'upload_interval', 'total_bundles']) {
      expect(() => progress(osmosis({ [field]: above })), field).toThrow(InvalidResponseError)
    }
    expect(() => progress(osmosis({ current_key: '', start_key: above }))).toThrow(/start_key/)
  })
})
