import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DiscoveredTarget, reconcile } from '../src/index.js'

const target = (id: string, healthy = true): DiscoveredTarget => ({
  id,
  address: `${id}.internal:26670`,
  healthy,
  meta: {},
})

describe('reconcile', () => {
  it('reports sidecars silent on Redis and sidecars missing from Consul', () => {
    const consul = [target('c'), target('a', false), target('b')]
    const report = reconcile(consul, new Set(['b', 'd', 'c', 'e']))
    expect(report).toEqual({
      silentOnRedis: [target('a', false)],
      missingFromConsul: ['d', 'e'],
      inBoth: [target('b'), target('c')],
    })
  })

  it('does not touch its inputs', () => {
    const consul = Object.freeze([target('b'), target('a')])
    const ids = Object.freeze(['a'])
    reconcile(consul, ids)
    expect(consul.map((item) => item.id)).toEqual(['b', 'a'])
  })

  it('partitions: every Consul target is silent or in both, every Redis id is missing or in both', () => {
    const ids = fc.array(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 8 })
    fc.assert(
      fc.property(ids, ids, (consulIds, redisIds) => {
        const report = reconcile(
          consulIds.map((id) => target(id)),
          redisIds,
        )
        const redis = new Set(redisIds)
        const consul = new Set(consulIds)
        expect(report.silentOnRedis.length + report.inBoth.length).toBe(consulIds.length)
        expect(report.silentOnRedis.every((item) => !redis.has(item.id))).toBe(true)
        expect(report.inBoth.every((item) => redis.has(item.id))).toBe(true)
        expect(new Set(report.missingFromConsul)).toEqual(new Set([...redis].filter((id) => !consul.has(id))))
        expect(report.missingFromConsul).toEqual([...report.missingFromConsul].sort())
      }),
    )
  })
})
