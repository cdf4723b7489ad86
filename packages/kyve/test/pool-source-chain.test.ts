import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { poolChainProblem, poolResponseSchema, poolSourceNetwork, toPoolProgress } from '../src/index.js'
import { osmosis } from './helpers/fake-kyve.js'

describe('poolSourceNetwork', () => {
  it('reads network from a JSON runtime config', () => {
    expect(poolSourceNetwork('{"network":"osmosis-1","rpc":"http://localhost:26657"}')).toBe('osmosis-1')
  })

  it('is null for an ar:// link, non-JSON, a config without network, or a non-string network', () => {
    expect(poolSourceNetwork('ar://abc')).toBeNull()
    expect(poolSourceNetwork('')).toBeNull()
    expect(poolSourceNetwork('{"rpc":"http://x"}')).toBeNull()
    expect(poolSourceNetwork('{"network":7}')).toBeNull()
    expect(poolSourceNetwork('{"network":""}')).toBeNull()
    expect(poolSourceNetwork('["osmosis-1"]')).toBeNull()
  })

  it('never throws, whatever the config', () => {
    fc.assert(
      fc.property(fc.string(), (config) => {
        const network = poolSourceNetwork(config)
        expect(network === null || typeof network === 'string').toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })

  it('is part of PoolProgress (the real Osmosis pool names osmosis-1)', () => {
    const context = { chainId: 'kyve-1', endpoint: 'http://x', fetchedAt: 1, latencyMs: 1 }
    expect(toPoolProgress(poolResponseSchema.parse(osmosis()), context).sourceNetwork).toBe('osmosis-1')
    const body = osmosis({ config: '{"network":"cosmoshub-4"}' })
    const progress = toPoolProgress(poolResponseSchema.parse(body), {
      chainId: 'kyve-1',
      endpoint: 'http://x',
      fetchedAt: 1,
      latencyMs: 1,
    })
    expect(progress.sourceNetwork).toBe('cosmoshub-4')
  })
})

describe('poolChainProblem', () => {
  const pool = { poolId: 1, runtime: '@kyvejs/tendermint', sourceNetwork: 'osmosis-1' }

  it('accepts a block runtime whose network is the node chain', () => {
    expect(poolChainProblem(pool, 'osmosis-1')).toBeNull()
    expect(poolChainProblem({ ...pool, runtime: '@kyvejs/tendermint-bsync' }, 'osmosis-1')).toBeNull()
  })

  it('refuses another chain and names both', () => {
    const problem = poolChainProblem(pool, 'cosmoshub-4')
    expect(problem).toContain('"osmosis-1"')
    expect(problem).toContain('"cosmoshub-4"')
    expect(problem).toContain('--pool-id')
  })

  it('refuses a runtime that is not a tendermint block runtime, naming it', () => {
    expect(poolChainProblem({ ...pool, runtime: '@kyvejs/tendermint-ssync' }, 'osmosis-1')).toContain(
      'not a tendermint block runtime',
    )
    expect(poolChainProblem({ ...pool, runtime: '@kyvejs/evm' }, 'osmosis-1')).toContain('@kyvejs/evm')
  })

  it('refuses when the pool does not name its network', () => {
    expect(poolChainProblem({ ...pool, sourceNetwork: null }, 'osmosis-1')).toContain('cannot verify')
  })
})
