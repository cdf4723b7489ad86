import { describe, expect, it } from 'vitest'
import {
  canonicalDesiredStatePayload,
  type DesiredState,
  desiredStateSchema,
  sidecarReportSchema,
} from '../src/index.js'

const base: DesiredState = {
  v: 1,
  sidecarId: 'osmo-a',
  mode: 'normal',
  pruneToHeight: null,
  basedOnPoolHeight: 100,
  poolFetchedAt: 1_700_000_000_000,
  epoch: 1,
  generation: 3,
  issuedAt: 1_700_000_000_000,
  reason: 'test',
}

describe('donations on the wire', () => {
  it('a desired state without donate signs exactly as before the field existed', () => {
    expect(canonicalDesiredStatePayload(base)).not.toContain('donate')
    expect(canonicalDesiredStatePayload({ ...base, donate: null })).toContain('"donate":null')
  })

  it('the signed payload covers the donation request, whatever the key order', () => {
    const donate = { expiresAt: 1_700_000_060_000, requestedBy: 'osmo-new', bootstrapId: 'b-12345678' }
    const signed = canonicalDesiredStatePayload({ ...base, donate })
    expect(signed).toContain(
      '"donate":{"bootstrapId":"b-12345678","requestedBy":"osmo-new","expiresAt":1700000060000}',
    )
    expect(
      canonicalDesiredStatePayload({ ...base, donate: { ...donate, requestedBy: 'osmo-evil' } }),
    ).not.toBe(signed)
  })

  it('refuses a donation request with an id that could not be a Redis key or URL segment', () => {
    const parsed = desiredStateSchema.safeParse({
      ...base,
      donate: { bootstrapId: 'a/../b', requestedBy: 'osmo-new', expiresAt: 1 },
    })
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toContain('bootstrap id')
  })

  it('a report carries at most 8 donations, each with a valid checkpoint id', () => {
    const report = {
      v: 1,
      sidecarId: 'osmo-a',
      chainId: 'osmosis-1',
      poolId: 1,
      mode: 'normal',
      nodeHeight: 10,
      nodeBase: 1,
      nodeReachable: true,
      catchingUp: false,
      activity: 'serving',
      dataBytes: 0,
      appliedEpoch: 0,
      appliedGeneration: 0,
      lastPrune: null,
      decidedBy: 'tracker',
      version: '0.1.0',
      reportedAt: 1,
    }
    const ready = {
      bootstrapId: 'b-12345678',
      state: 'ready',
      checkpointId: '1500-20261207T064512123Z',
      at: 1,
    }
    expect(sidecarReportSchema.safeParse({ ...report, donations: [ready] }).success).toBe(true)
    expect(sidecarReportSchema.safeParse({ ...report, donations: Array(9).fill(ready) }).success).toBe(false)
    expect(
      sidecarReportSchema.safeParse({ ...report, donations: [{ ...ready, checkpointId: '../etc' }] }).success,
    ).toBe(false)
  })
})
