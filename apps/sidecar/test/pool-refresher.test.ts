import type { PoolFacts } from '@ghostfleet/kyve'
import { describe, expect, it } from 'vitest'
import { type PollResult, PoolRefresher } from '../src/control/pool-refresher.js'
import { poolAt } from './helpers/observations.js'

/** A KYVE source whose calls the test settles by hand, so overlapping calls would be visible. */
function manualSource() {
  const pending: Array<{ resolve: (a: PoolFacts) => void; reject: (e: Error) => void }> = []
  let calls = 0
  return {
    source: {
      getPool: () =>
        new Promise<PoolFacts>((resolve, reject) => {
          calls++
          pending.push({ resolve, reject })
        }),
    },
    calls: () => calls,
    answer: (a: PoolFacts) => pending.shift()?.resolve(a),
    fail: (message: string) => pending.shift()?.reject(new Error(message)),
  }
}

describe('PoolRefresher', () => {
  it('never has two calls in flight: refresh() joins the one running', async () => {
    const kyve = manualSource()
    const refresher = new PoolRefresher({
      source: kyve.source,
      poolId: 1,
      retry: { minMs: 1_000, maxMs: 60_000 },
    })
    const first = refresher.refresh()
    const second = refresher.refresh()
    expect(kyve.calls()).toBe(1)
    expect(refresher.status().inFlight).toBe(true)
    kyve.answer(poolAt(100))
    await Promise.all([first, second])
    expect(refresher.latest()?.poolHeight).toBe(100)
    expect(refresher.status().inFlight).toBe(false)
    void refresher.refresh()
    expect(kyve.calls()).toBe(2)
  })

  it('keeps the last good answer through failures and backs off between calls (capped, at least one interval)', async () => {
    let now = 1_000_000
    const kyve = manualSource()
    const results: PollResult[] = []
    const refresher = new PoolRefresher({
      source: kyve.source,
      poolId: 1,
      retry: { minMs: 1_000, maxMs: 8_000 },
      now: () => now,
      random: () => 0.999,
      onResult: (r) => results.push(r),
    })
    const call = refresher.refresh()
    kyve.answer(poolAt(500, now))
    await call
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const c = refresher.refresh()
      kyve.fail(`down ${i}`)
      await c
      const status = refresher.status()
      waits.push(status.nextAttemptAt - now)
      // Before the backoff has passed, refresh() does not call.
      const callsBefore = kyve.calls()
      await refresher.refresh()
      expect(kyve.calls()).toBe(callsBefore)
      now = status.nextAttemptAt
    }
    expect(waits).toEqual([1_000, 1_998, 3_996, 7_992, 7_992, 7_992])
    expect(refresher.latest()?.poolHeight).toBe(500)
    expect(refresher.status()).toMatchObject({ consecutiveFailures: 6, lastError: 'down 5' })
    expect(results.filter((r) => !r.ok)).toHaveLength(6)
    // Recovery resets the backoff.
    const c = refresher.refresh()
    kyve.answer(poolAt(510, now))
    await c
    expect(refresher.status()).toMatchObject({ consecutiveFailures: 0, nextAttemptAt: 0 })
    expect(refresher.latest()?.poolHeight).toBe(510)
  })

  it('survives a reporting callback that throws', async () => {
    const kyve = manualSource()
    const refresher = new PoolRefresher({
      source: kyve.source,
      poolId: 1,
      retry: { minMs: 1, maxMs: 1 },
      onResult: () => {
        throw new Error('metrics broke')
      },
    })
    const c = refresher.refresh()
    kyve.answer(poolAt(7))
    await expect(c).resolves.toBeUndefined()
    expect(refresher.latest()?.poolHeight).toBe(7)
  })
})
