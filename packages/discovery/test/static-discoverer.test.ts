import { describe, expect, it } from 'vitest'
import { InvalidOptionsError, StaticDiscoverer } from '../src/index.js'

describe('StaticDiscoverer', () => {
  it('lists its targets, ids defaulting to the normalised address', async () => {
    const discoverer = new StaticDiscoverer([
      {
        address: '10.0.0.5:26670',
        id: 'osmosis-a',
        chainId: 'osmosis-1',
        poolId: 1,
        mode: 'normal',
        meta: { dc: 'fra1' },
      },
      { address: 'localhost:26671' },
      { address: '[::1]:26672' },
    ])
    expect(await discoverer.discover()).toEqual([
      {
        id: 'osmosis-a',
        address: '10.0.0.5:26670',
        chainId: 'osmosis-1',
        poolId: 1,
        mode: 'normal',
        healthy: true,
        meta: { dc: 'fra1' },
      },
      { id: 'localhost:26671', address: 'localhost:26671', healthy: true, meta: {} },
      { id: '[::1]:26672', address: '[::1]:26672', healthy: true, meta: {} },
    ])
  })

  it('hands out copies: a caller editing its answer does not change the next one', async () => {
    const discoverer = new StaticDiscoverer([{ address: '10.0.0.5:26670', meta: { a: '1' } }])
    const first = await discoverer.discover()
    first[0]!.meta['a'] = 'changed'
    first.pop()
    expect(await discoverer.discover()).toEqual([expect.objectContaining({ meta: { a: '1' } })])
  })

  it('names every bad target and duplicate id', () => {
    let error: unknown
    try {
      new StaticDiscoverer([
        { address: '10.0.0.5' },
        { address: '10.0.0.6:26670', poolId: -1 },
        { address: '10.0.0.7:26670', mode: 'asleep' },
        { address: '10.0.0.8:26670', id: 'x' },
        { address: '10.0.0.9:26670', id: 'x' },
      ])
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect((error as InvalidOptionsError).problems).toEqual([
      '[0].address: expected host:port (port 1–65535; IPv6 in brackets), got "10.0.0.5"',
      '[1].poolId: expected a pool id (an integer ≥ 0), got -1',
      '[2].mode: expected "normal" or "ghost", got "asleep"',
      '[4]: id "x" is already used by target [3]',
    ])
  })

  it('honours an aborted signal', async () => {
    await expect(new StaticDiscoverer([]).discover(AbortSignal.abort(new Error('stop')))).rejects.toThrow(
      'stop',
    )
  })
})
