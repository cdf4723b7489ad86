import { describe, expect, it } from 'vitest'
import {
  type BootstrapStatus,
  bootstrapRequestSchema,
  bootstrapStatusSchema,
  parseWith,
} from '../src/index.js'

const status: BootstrapStatus = {
  bootstrapId: 'b-12345678',
  chainId: 'osmosis-1',
  poolId: 1,
  requestedBy: 'osmo-new',
  state: 'ready',
  donor: 'osmo-a',
  donorPeerUrl: 'http://10.0.0.1:26671',
  checkpointId: '1500-20261207T064512123Z',
  detail: null,
  expiresAt: 1_700_000_060_000,
}

describe('bootstrap API bodies', () => {
  it('accepts a request and drops keys it does not know', () => {
    const parsed = bootstrapRequestSchema.parse({
      chainId: 'osmosis-1',
      poolId: 1,
      requestedBy: 'n',
      extra: 1,
    })
    expect(parsed).toEqual({ chainId: 'osmosis-1', poolId: 1, requestedBy: 'n' })
  })

  it('says what is wrong with a bad request, field by field', () => {
    expect(() =>
      parseWith(bootstrapRequestSchema, { chainId: 'a b', poolId: -1 }, 'bootstrap request'),
    ).toThrow(
      /chainId: expected a chain id[\s\S]*poolId: expected an integer ≥ 0[\s\S]*requestedBy: expected a sidecar id/,
    )
  })

  it('round-trips a status, pending ones with nulls', () => {
    expect(bootstrapStatusSchema.parse(status)).toEqual(status)
    const pending = { ...status, state: 'pending', donor: null, donorPeerUrl: null, checkpointId: null }
    expect(bootstrapStatusSchema.parse(pending)).toEqual(pending)
  })

  it('refuses a state or a checkpoint id it does not know', () => {
    expect(bootstrapStatusSchema.safeParse({ ...status, state: 'done' }).success).toBe(false)
    expect(bootstrapStatusSchema.safeParse({ ...status, checkpointId: '../x' }).success).toBe(false)
    expect(bootstrapStatusSchema.safeParse({ ...status, detail: 'x'.repeat(301) }).success).toBe(false)
  })
})
